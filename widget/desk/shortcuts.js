/**
 * Keyboard shortcuts of the dashboard and their help overlay (data-hl="shortcuts", opened with `?`). A key never
 * fires while the agent types in a field (input, textarea, select, contenteditable) or holds Ctrl/Alt/Meta, so
 * writing "j" in a reply stays a letter. Esc closes the overlay, or leaves a field so the keys work again.
 */

import { h } from "../dom.js";

/** [key, action name in `actions` and in t.keys] in the order the overlay lists them. */
export const KEYS = [
  ["j", "next"], ["k", "prev"], ["r", "reply"], ["n", "note"], ["a", "assign"], ["s", "solve"], ["/", "search"],
  ["?", "help"],
];

function typingIn(target) {
  if (!(target instanceof Element)) return false;
  return !!target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']");
}

/** Install the keys; `actions` maps each action name to a function (help is built in). Returns the overlay. */
export function installShortcuts(actions, t) {
  const close = h("button", { type: "button", hl: "shortcuts-close", text: t.keys.close });
  const overlay = h("div", { hl: "shortcuts", class: "shortcuts", role: "dialog", "aria-modal": "false",
    "aria-label": t.shortcutsTitle, hidden: true },
  h("h3", { text: t.shortcutsTitle }),
  h("dl", {}, KEYS.map(([key, name]) => h("div", { class: "key-row", dataset: { key } },
    h("dt", {}, h("kbd", { text: key })), h("dd", { text: t.keys[name] })))),
  close);
  const toggle = (open = overlay.hidden) => { overlay.hidden = !open; };
  close.addEventListener("click", () => toggle(false));
  document.addEventListener("keydown", (ev) => {
    if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey || ev.isComposing) return;
    if (ev.key === "Escape") {
      if (!overlay.hidden) toggle(false);
      else if (typingIn(ev.target)) ev.target.blur();
      return;
    }
    if (typingIn(ev.target)) return;
    const entry = KEYS.find(([key]) => key === ev.key);
    if (!entry) return;
    ev.preventDefault(); // "/" would otherwise start the browser's quick find, "r" nothing, but consistently
    if (entry[1] === "help") toggle();
    else actions[entry[1]]?.();
  });
  return overlay;
}
