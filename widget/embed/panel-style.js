/**
 * The panel's stylesheet (home screen, form, thread, composer), added to the widget's shadow root when the panel is
 * first built: the launcher's first load carries only widget-style.js.
 */

export const CSS = `
.primary { background: #1565c0; color: #fff; }
.primary:disabled { background: #8aa9cf; cursor: default; }
.panel { position: absolute; right: 0; bottom: 60px; width: min(380px, calc(100vw - 40px));
  height: min(560px, calc(100vh - 100px)); display: flex; flex-direction: column; background: #fff;
  border-radius: 12px; box-shadow: 0 8px 30px rgba(0,0,0,.3); overflow: hidden; }
header { display: flex; align-items: center; gap: 8px; padding: 12px 14px; background: #1565c0; color: #fff; }
header h2 { flex: 1; margin: 0; font-size: 16px; font-weight: 600; }
header button { background: transparent; color: #fff; padding: 4px 8px; }
.banner { padding: 8px 14px; background: #fff4e5; color: #663c00; border-bottom: 1px solid #ffd699; font-size: 13px; }
.banner strong { display: block; }
.conn { padding: 6px 14px; background: #eceff1; color: #37474f; font-size: 12px; }
.view { flex: 1; display: flex; flex-direction: column; min-height: 0; overflow: auto; padding: 12px 14px; gap: 10px; }
[data-hl="back"] { align-self: flex-start; padding: 4px 10px; }
h3 { margin: 0; font-size: 15px; font-weight: 600; }
ul, ol { list-style: none; margin: 0; padding: 0; }
.tickets li button { width: 100%; display: flex; gap: 8px; align-items: center; text-align: left; margin-bottom: 6px;
  background: #f5f7fa; }
.tickets .subj { flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.muted { color: #5f6b7a; font-size: 12px; }
.chip { font-size: 11px; padding: 1px 6px; border-radius: 8px; background: #dfe6ee; }
form { display: flex; flex-direction: column; gap: 8px; }
label { display: flex; flex-direction: column; gap: 4px; font-size: 13px; color: #37474f; }
input, textarea, select { width: 100%; padding: 8px; border: 1px solid #b8c2cc; border-radius: 6px; background: #fff;
  color: #1b1f24; }
textarea { resize: vertical; min-height: 70px; }
.notice { font-size: 12px; color: #5f6b7a; background: #f5f7fa; padding: 6px 8px; border-radius: 6px; }
.suggestions a { color: #1565c0; display: block; }
.thread { flex: 1; display: flex; flex-direction: column; gap: 8px; overflow: auto; min-height: 0; }
.msg { max-width: 85%; padding: 8px 10px; border-radius: 10px; background: #f0f2f5; align-self: flex-start; }
.msg.mine { align-self: flex-end; background: #e3f0ff; }
.msg.system { align-self: center; background: transparent; color: #5f6b7a; font-size: 12px; text-align: center; }
.msg .who { display: flex; gap: 6px; font-size: 12px; color: #5f6b7a; }
.msg.mine .who .name, .msg.system .who { display: none; }
.msg p { margin: 2px 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.msg .meta { display: flex; gap: 6px; justify-content: space-between; font-size: 11px; color: #5f6b7a; }
.msg[data-state="sending"] { opacity: .65; }
.typing { min-height: 18px; font-size: 12px; color: #5f6b7a; font-style: italic; }
.presence { font-size: 12px; color: #2e7d32; }
.presence[data-online="false"] { color: #5f6b7a; }
.composer { flex-direction: row; align-items: flex-end; padding: 10px 14px; border-top: 1px solid #e0e4e8; }
.composer label { flex: 1; }
.composer textarea { min-height: 40px; height: 40px; }
.known { display: flex; flex-direction: column; gap: 6px; background: #fff4e5; color: #663c00; }
.row { display: flex; gap: 8px; flex-wrap: wrap; }
.options { display: flex; flex-direction: column; gap: 6px; }
.options a { color: #1565c0; }
.csat { padding: 8px; border: 1px solid #d5dde6; border-radius: 8px; }
.stars { display: flex; gap: 4px; align-items: center; flex-wrap: wrap; }
.stars strong { margin-right: auto; }
.star { padding: 4px 9px; }
.csat .row { flex-wrap: nowrap; align-items: flex-end; }
.csat textarea { min-height: 34px; }
.csat { flex: none; }
.csat button { white-space: nowrap; }
.star[aria-pressed="true"] { background: #ffb300; }
.attachment img { display: block; max-width: 100%; max-height: 200px; margin-top: 4px; border-radius: 6px; }
.attachment a { color: #1565c0; }
.tools { display: flex; }
.composer { gap: 6px; }
.avatar { display: inline-flex; align-items: center; justify-content: center; width: 20px; height: 20px;
  border-radius: 50%; background: #1565c0; color: #fff; font-size: 10px; font-weight: 600; object-fit: cover; }
.msg .who { align-items: center; }
.msg.cont { margin-top: -4px; }
.msg.cont .who { display: none; }
.msg a, .link { color: #0d47a1; text-decoration: underline; }
.link { background: none; padding: 0; }
[data-hl="sound"] { font-size: 16px; }
[data-hl="sound"][aria-pressed="false"] { text-decoration: line-through; }
.intro { display: flex; flex-direction: column; gap: 4px; }
.intro p { margin: 0; }
.status-line { font-size: 12px; color: #2e7d32; }
.status-line[data-ok="false"] { color: #8a4b00; }
.closed { display: flex; flex-direction: column; gap: 6px; padding: 10px 14px; border-top: 1px solid #e0e4e8; }
.closed p { margin: 0; }
.links p { margin: 0; }
[data-state="failed"] [data-hl="receipt"] { color: #b71c1c; }
@media (max-width: 480px) {
  .panel { position: fixed; inset: 0; width: 100vw; height: 100vh; height: 100dvh; border-radius: 0; }
}
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
