/**
 * A draft per ticket kept across reloads: the reply box's text is saved in localStorage under the agent and the
 * ticket (`helpline.draft.<agent>.<ticket>`), put back when the ticket is opened again, and cleared on send.
 * Storage may be full or disabled (private mode): then drafts simply are not kept.
 */

const PREFIX = "helpline.draft.";
const SAVE_DELAY_MS = 300;
let current = null; // the open ticket's save(), flushed when the page goes away

// A reload right after typing must not lose the last keystrokes.
addEventListener("pagehide", () => current && current());

export function draftKey(agentId, ticketId) {
  return `${PREFIX}${encodeURIComponent(agentId)}.${encodeURIComponent(ticketId)}`;
}

function read(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key, text) {
  try {
    if (text.trim()) localStorage.setItem(key, text);
    else localStorage.removeItem(key);
  } catch { /* not kept: quota or storage disabled */ }
}

/** Restore the draft into `textarea` and keep saving it; returns { clear() } to call once the reply is sent. */
export function keepDraft(textarea, agentId, ticketId) {
  const key = draftKey(agentId, ticketId);
  const saved = read(key);
  if (saved && !textarea.value) textarea.value = saved;
  let timer = 0;
  const save = () => write(key, textarea.value);
  textarea.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(save, SAVE_DELAY_MS);
  });
  current = save;
  textarea.addEventListener("blur", save);
  return {
    clear() {
      clearTimeout(timer);
      write(key, "");
    },
    saved: () => read(key),
  };
}
