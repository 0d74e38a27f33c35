/**
 * The widget's ticket view, which the launcher does not need (app.js loads it, with thread.js, when a ticket first
 * opens, or in the background once the panel opens): the thread, the state above it (first reply due, reviewed,
 * CSAT, follow-up links), who is present, and the composer (typing state, Enter to send, attachments; under a closed
 * ticket its notice and the follow-up button). Each function takes the widget (app.js `Widget`) it renders into.
 */

import { h, replace } from "../dom.js";
import { ThreadView } from "../thread.js";

const TYPING_IDLE_MS = 3000;

export function renderThread(widget) {
  const t = widget.t;
  const id = widget.current;
  const tk = widget.tickets.get(id) || { subject: "" };
  widget.presenceEl = h("div", { hl: "presence", class: "presence", "aria-live": "polite" });
  widget.thread = new ThreadView({ t, loc: widget.loc, me: () => widget.client.user?.id, label: tk.subject,
    files: (fid, el, label) => import("../attach.js").then((m) => m.show(widget.client, fid, el, label, t)) });
  widget.stateEl = h("div", { class: "state" });
  widget.linksEl = h("div", { class: "links" });
  widget.csatEl = h("div");
  widget.csatFor = null;
  replace(widget.body, h("button", { hl: "back", type: "button", onclick: () => widget.show("home") }, "← " + t.back),
    h("h3", { text: tk.subject }), widget.linksEl, widget.presenceEl, widget.stateEl, widget.thread.el, widget.thread.typingEl, widget.csatEl);
  widget.renderState();
  widget.present.clear();
  widget.renderPresence();
  const rows = [...widget.messages(id).values()].sort((a, b) => a.seq - b.seq);
  for (const m of rows) widget.thread.add(m);
  for (const p of widget.client.pending(id)) widget.thread.add({ ...p, author: widget.client.user }, "sending");
  widget.footer.replaceChildren(widget.composer(id));
  if (!widget.panel.hidden) widget.footer.querySelector("textarea, button")?.focus();
  widget.markRead();
}

/** Above the thread: "received and reviewed" (free reports), and the satisfaction question once it is solved. */
export function renderState(widget) {
  const tk = widget.tickets.get(widget.current);
  if (!tk || !widget.stateEl) return;
  if (tk.status === "closed" && !widget.footer.querySelector('[data-hl="closed-notice"]')) {
    widget.footer.replaceChildren(widget.composer(tk.id));
  }
  const linked = tk.follow_up_of || [...widget.tickets.values()].some((x) => x.follow_up_of === tk.id);
  if (linked) import("./extras.js").then((m) => widget.current === tk.id && m.renderLinks(widget, tk), () => {});
  let due = widget.stateEl.querySelector('[data-hl="first-reply"]');
  if (!due) widget.stateEl.append(due = h("p", { hl: "first-reply", class: "notice" }));
  const left = tk.first_response_due && !tk.first_response_at && tk.status !== "closed" && tk.status !== "solved"
    ? Math.ceil((Date.parse(tk.first_response_due) - Date.now()) / 60000) : null;
  due.hidden = left === null || Number.isNaN(left);
  due.textContent = left > 0 ? widget.t.firstReplyWithin(widget.t.minutes(left)) : widget.t.firstReplySoon;
  const reviewed = widget.stateEl.querySelector('[data-hl="reviewed"]');
  if (tk.reviewed_at && !reviewed) widget.stateEl.prepend(h("p", { hl: "reviewed", class: "notice", text: "✓ " + widget.t.reviewed }));
  if ((tk.status === "solved" || tk.status === "closed") && widget.csatFor !== tk.id) {
    widget.csatFor = tk.id;
    const id = tk.id;
    import("../csat.js").then((m) => m.csatPrompt(widget.client, id, widget.t))
      .then((form) => form && widget.current === id && widget.csatEl.append(form), () => {});
  }
}

export function renderPresence(widget) {
  if (!widget.presenceEl) return;
  const names = [...widget.present.values()].map((u) => u.name);
  widget.presenceEl.dataset.online = String(names.length > 0);
  const idle = widget.plan() === "free" ? widget.t.noAgentFree : widget.t.noAgent;
  widget.presenceEl.textContent = names.length ? widget.t.agentOnline(names.join(", ")) : idle;
}

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
