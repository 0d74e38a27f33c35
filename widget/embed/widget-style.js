/**
 * The launcher's stylesheet (the first load), applied only inside the widget's shadow root. Page rules cannot match
 * inside it; all they reach is the host box and inherited properties, which `:host` (an !important from inside wins)
 * and `.root` reset. The panel's rules are in panel-style.js, loaded with the panel.
 */

export const CSS = `
:host { all: initial !important; display: block !important; position: fixed !important; right: 20px !important;
  bottom: 20px !important; z-index: 2147483000 !important; }
.root { all: initial; display: block; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1b1f24; letter-spacing: normal; text-transform: none; }
* { box-sizing: border-box; font: inherit; }
[hidden] { display: none !important; }
button { cursor: pointer; border: 0; border-radius: 8px; padding: 8px 12px; background: #e8ecf1; color: inherit; }
button:focus-visible, input:focus-visible, textarea:focus-visible, select:focus-visible {
  outline: 2px solid #1565c0; outline-offset: 2px; }
.launcher { display: flex; align-items: center; gap: 8px; margin-left: auto; padding: 12px 18px; border-radius: 24px;
  background: #1565c0; color: #fff; box-shadow: 0 4px 14px rgba(0,0,0,.25); font-weight: 600; }
.badge { min-width: 20px; padding: 0 6px; border-radius: 10px; background: #d32f2f; color: #fff; font-size: 12px;
  line-height: 20px; text-align: center; }
@media (max-width: 480px) {
  :host { right: 12px !important; bottom: 12px !important; }
}
`;
