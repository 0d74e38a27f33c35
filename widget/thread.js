/**
 * One ticket's thread as DOM, shared by the widget, the Support tab and the dashboard: messages in seq order, each
 * once, with sending → sent → read states, and who is typing. User text only ever goes in as textContent.
 */

import { h, initials, linkify, when } from "./dom.js";

const TYPING_SHOW_MS = 6000;
const GROUP_GAP_MS = 5 * 60 * 1000; // one author's messages this close together form one group (one name, one avatar)
// A line that is exactly this is an attachment the server posted (docs/help.md); the surface shows the file.
const ATTACHMENT_LINE = /^\/api\/attachments\/([A-Za-z0-9_-]{1,64})$/;

export class ThreadView {
  /**
   * t: strings; loc: locale; me(): the signed-in user's id (known after welcome); label: accessible name;
   * files(id, el, label): fills `el` with attachment `id` (image preview or download link); without it, text only.
   */
  constructor({ t, loc, me, label = "", files = null }) {
    this.t = t;
    this.files = files;
    this.loc = loc;
    this.me = me;
    this.typers = new Map();
    // A list that is also a polite live region: new messages are read out.
    this.el = h("ol", { hl: "thread", class: "thread", "aria-live": "polite", "aria-label": label });
    this.typingEl = h("div", { hl: "typing", class: "typing", "aria-live": "polite" });
  }

  /** Add a committed message (state "sent") or a pending one (state "sending", seq null); repeats are ignored. */
  add(m, state = "sent") {
    const existing = (m.seq != null && this.el.querySelector(`[data-seq="${m.seq}"]`)) ||
      (m.client_id && this.el.querySelector(`[data-client-id="${CSS.escape(m.client_id)}"]`));
    if (existing) {
      if (existing.dataset.state === "sending" && m.seq != null) this.setState(existing, "sent", m.seq);
      return existing;
    }
    const me = this.me();
    const mine = state === "sending" || (!!m.author && m.author.id === me);
    const role = (m.author && m.author.role) || "customer";
    const el = h("li", {
      hl: "message",
      class: "msg" + (mine ? " mine" : "") + (role === "system" ? " system" : "") + (m.internal ? " internal" : ""),
      dataset: {
        state, mine: String(mine), role, internal: String(!!m.internal), clientId: m.client_id || "",
        author: (m.author && m.author.id) || "", at: m.created_at || "",
        ...(m.seq != null ? { seq: m.seq } : {}),
      },
    },
      h("div", { class: "who" },
        role === "system" || mine ? null : avatar(m.author),
        h("span", { class: "name", text: role === "system" ? this.t.system : (m.author && m.author.name) || "" }),
        m.internal ? h("span", { class: "chip internal-chip", text: this.t.internalNote || "Internal note" }) : null),
      this.body(m.body || ""),
      h("div", { class: "meta" }, h("time", { datetime: m.created_at || "", text: when(m.created_at, this.loc) }),
        mine ? h("span", { hl: "receipt", text: this.t[state] }) : null));
    this.place(el);
    this.regroup(el);
    if (m.author) this.typing(m.author, false);
    el.scrollIntoView && el.scrollIntoView({ block: "nearest" });
    return el;
  }

  /** The message text; attachment lines become a slot the surface fills with the file (never markup). */
  body(text) {
    const lines = text.split("\n");
    const ids = lines.map((l) => (ATTACHMENT_LINE.exec(l.trim()) || [])[1]);
    if (!this.files || !ids.some(Boolean)) return h("p", { class: "body" }, linkify(text));
    const label = (i) => (lines[i - 1] || "").replace(/^📎\s*/u, "").replace(/\s*\([^)]*\)\s*$/, "") || "file";
    const slots = [];
    ids.forEach((id, i) => {
      if (!id) return;
      const slot = h("div", { hl: "attachment", class: "attachment", dataset: { attachment: id } });
      slots.push(slot);
      this.files(id, slot, label(i));
    });
    // The caption line's leading "📎" needs an emoji font many systems lack; the file itself shows what it is.
    const shown = lines.map((l, i) => (ids[i + 1] ? l.replace(/^📎\s*/u, "") : l)).filter((_, i) => !ids[i]);
    return [h("p", { class: "body" }, linkify(shown.join("\n"))), slots];
  }

  /** A message right after the same author's (within GROUP_GAP_MS) continues the group: class "cont", no name. */
  regroup(el) {
    for (const item of [el, el.nextElementSibling]) {
      if (!item) continue;
      const prev = item.previousElementSibling;
      const gap = prev ? Date.parse(item.dataset.at) - Date.parse(prev.dataset.at) : NaN;
      const same = !!prev && item.dataset.role !== "system" && prev.dataset.author === item.dataset.author &&
        prev.dataset.internal === item.dataset.internal && !(gap > GROUP_GAP_MS);
      item.classList.toggle("cont", same);
    }
  }

  /** The server acked our pending message. */
  ack(clientId, seq) {
    const el = this.el.querySelector(`[data-client-id="${CSS.escape(clientId)}"]`);
    if (el && el.dataset.state === "sending") this.setState(el, "sent", seq);
  }

  /** Someone else read up to seq: our own messages up to it are now "read". */
  read(user, seq) {
    if (!user || user.id === this.me()) return;
    for (const el of this.el.querySelectorAll('[data-mine="true"][data-state="sent"]')) {
      if (Number(el.dataset.seq) <= seq) this.setState(el, "read");
    }
  }

  /** The read cursors a `joined` frame carries ({user id: seq}): receipts for what was read before we came. */
  readCursors(cursors) {
    for (const [id, seq] of Object.entries(cursors || {})) this.read({ id }, seq);
  }

  /**
   * Put `el` where its seq says, whatever the order things arrived in (joined replay, live frames, acks): committed
   * messages ascending by seq, then the pending ones (no seq yet) in the order they were written. A committed one
   * goes after the last element with a lower seq, so it lands before every higher seq and before every pending one.
   */
  place(el) {
    const seq = seqOf(el);
    let before = this.el.lastElementChild;
    if (seq != null) {
      // Walk back from the end: a live message normally belongs last, so this is one step.
      while (before && (before === el || seqOf(before) == null || seqOf(before) > seq)) {
        before = before.previousElementSibling;
      }
      if (before) before.after(el);
      else this.el.prepend(el);
    } else if (before !== el) {
      this.el.append(el);
    }
  }

  /** A message's new state; a pending one that gets its seq (ack, or its own message frame) moves to that place. */
  setState(el, state, seq) {
    el.dataset.state = state;
    if (seq != null && seqOf(el) !== Number(seq)) {
      el.dataset.seq = seq;
      this.place(el);
      this.regroup(el);
    }
    const receipt = el.querySelector('[data-hl="receipt"]');
    if (receipt) receipt.textContent = this.t[state];
  }

  /** Show or clear "X is typing…"; it clears by itself after a few seconds without news. */
  typing(user, active) {
    if (!user || user.id === this.me()) return;
    const old = this.typers.get(user.id);
    if (old) clearTimeout(old.timer);
    if (active) this.typers.set(user.id, { user, timer: setTimeout(() => this.typing(user, false), TYPING_SHOW_MS) });
    else this.typers.delete(user.id);
    this.typingEl.textContent = [...this.typers.values()].map((x) => this.t.typing(x.user.name)).join(" ");
  }

  maxSeq() {
    let top = 0;
    for (const el of this.el.children) top = Math.max(top, Number(el.dataset.seq || 0));
    return top;
  }
}

/** The seq an element carries, or null while it is pending. */
function seqOf(el) {
  return el.dataset.seq ? Number(el.dataset.seq) : null;
}

/** The author's initials in a circle (the server knows no pictures of people). */
function avatar(author) {
  return h("span", { hl: "avatar", class: "avatar", "aria-hidden": "true", text: initials(author && author.name) });
}
