/**
 * The widget's composer under a ticket's thread: typing state (on while typing, off after a pause or on send),
 * Enter to send, attachments (attach.js, loaded with it); under a closed ticket, the notice and its follow-up button.
 * Loaded with thread.js when a ticket first opens.
 */

import { h } from "../dom.js";

const TYPING_IDLE_MS = 3000;

/** The form for ticket `id` of `widget` (its client, words and thread view). */
export function composer(widget, id) {
  const t = widget.t;
  const tk = widget.tickets.get(id);
  if (tk && tk.status === "closed") {
    return h("div", { hl: "closed-notice", class: "closed" }, h("p", { class: "muted", text: t.closedNotice }),
      h("button", { hl: "follow-up", class: "primary", type: "button", onclick: () => widget.show("form", tk) }, t.followUp));
  }
  const input = h("textarea", { hl: "composer-input", name: "message", rows: "2", required: true });
  const note = h("p", { hl: "upload-state", class: "muted", "aria-live": "polite", hidden: true });
  const tools = h("span", { class: "tools" });
  import("../attach.js").then((m) => tools.append(...m.attachControls(widget.client, () => id, input, t, (text) => {
    note.textContent = text;
    note.hidden = !text;
  })));
  let idle = 0;
  let typingOn = false;
  const stopTyping = () => {
    clearTimeout(idle);
    if (typingOn) widget.client.typing(id, false);
    typingOn = false;
  };
  input.addEventListener("input", () => {
    if (!typingOn && input.value.trim()) {
      typingOn = true;
      widget.client.typing(id, true);
    }
    clearTimeout(idle);
    idle = setTimeout(stopTyping, TYPING_IDLE_MS);
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
  const form = h("form", { hl: "composer", class: "composer", onsubmit: (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    stopTyping();
    const item = widget.client.send(id, text);
    if (widget.thread) widget.thread.add({ ...item, author: widget.client.user }, "sending");
    input.value = "";
    input.focus();
  } }, h("label", {}, h("span", { class: "sr", text: t.composer }), input, note), tools,
    h("button", { hl: "send", class: "primary", type: "submit" }, t.send));
  return form;
}
