/**
 * The embeddable widget: one <helpline-widget> element with an open shadow root holding the launcher, the ticket
 * list, the new-ticket form and the live thread. Loaded by widget.js; talks to the server only through client.js.
 */

import { HelplineClient, activeIncidents, newClientId, tokenClaims } from "./client.js";
import { h, replace } from "./dom.js";
import { locale, strings } from "./i18n.js";
import { ThreadView } from "./thread.js";
import { CSS as STYLE } from "./widget-style.js";

const TYPING_IDLE_MS = 3000;
const MAX_JOINED = 20;

if (!customElements.get("helpline-widget")) customElements.define("helpline-widget", class extends HTMLElement {});

class Widget {
  constructor(base) {
    this.base = base;
    this.handlers = { unread: new Set() };
    this.context = {};
    this.errors = [];
    this.tickets = new Map(); // id -> ticket
    this.cache = new Map(); // id -> Map(seq -> message)
    this.unread = new Map(); // id -> count
    this.readSent = new Map(); // id -> last seq we told the server we read
    this.current = null; // ticket id shown in the thread view
    this.view = "home";
    this.present = new Map(); // user id -> user (staff in the current ticket)
    // The host's recent client errors ride along with the next ticket (the last five, short).
    addEventListener("error", (ev) => {
      this.errors.push(String(ev.message || "error").slice(0, 200));
      if (this.errors.length > 5) this.errors.shift();
    });
  }

  /* ---- public API (window.Helpline) ---- */

  boot({ token, lang, context } = {}) {
    if (context) this.context = context;
    if (this.client) {
      if (token) this.setToken(token);
      return;
    }
    this.t = strings(lang);
    this.loc = locale(lang);
    this.mount();
    this.client = new HelplineClient({ base: this.base, token });
    this.wire();
    this.client.connect();
    this.loadTickets();
    setInterval(() => !this.panel.hidden && this.refreshBanner(), 60000);
    document.addEventListener("visibilitychange", () => this.markRead());
  }

  open() {
    if (!this.root) return;
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.refreshBanner();
    this.show(this.view);
    this.markRead();
    // Keyboard users land where they can act: the composer in a thread, else the first button.
    const target = this.footer.querySelector("textarea") || this.body.querySelector("button");
    if (target) target.focus();
  }

  close() {
    if (!this.root) return;
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.focus();
  }

  setToken(token) {
    if (this.client) this.client.setToken(token);
  }

  setContext(context) {
    this.context = context || {};
  }

  on(type, fn) {
    if (!this.handlers[type]) this.handlers[type] = new Set();
    this.handlers[type].add(fn);
    if (type === "unread") fn(this.totalUnread());
    return () => this.handlers[type].delete(fn);
  }

  /* ---- skeleton ---- */

  mount() {
    const t = this.t;
    this.host = document.createElement("helpline-widget");
    this.root = this.host.attachShadow({ mode: "open" });
    this.badge = h("span", { hl: "unread", class: "badge", hidden: true, "aria-live": "polite" });
    this.launcher = h("button", {
      hl: "launcher", class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": "hl-panel",
      "aria-label": t.launcherLabel, onclick: () => (this.panel.hidden ? this.open() : this.close()),
    }, t.launcher, this.badge);
    this.banner = h("div", { hl: "banner", class: "banner", role: "status", hidden: true });
    this.conn = h("div", { hl: "connection", class: "conn", role: "status", hidden: true });
    this.body = h("div", { class: "view" });
    this.footer = h("div");
    this.panel = h("section", { id: "hl-panel", class: "panel", role: "dialog", "aria-label": t.title, hidden: true,
      onkeydown: (ev) => ev.key === "Escape" && this.close() },
      h("header", {}, h("h2", { text: t.title }),
        h("button", { hl: "close", type: "button", "aria-label": t.closeLabel, onclick: () => this.close() }, "×")),
      this.banner, this.conn, this.body, this.footer);
    this.root.append(h("style", { text: STYLE }), h("div", { class: "root" }, this.panel, this.launcher));
    document.body.append(this.host);
  }

  wire() {
    const c = this.client;
    c.on("state", (s) => {
      this.conn.hidden = s === "online" || s === "idle";
      this.conn.textContent = s === "unauthorized" ? this.t.unauthorized : s === "connecting" ? this.t.connecting : this.t.offline;
    });
    c.on("welcome", () => this.loadTickets());
    c.on("joined", (f) => {
      const map = this.messages(f.ticket);
      for (const m of f.messages || []) map.set(m.seq, m);
      if (f.ticket === this.current) {
        this.present.clear();
        for (const u of f.presence || []) if (u.id !== c.user?.id && u.role !== "customer") this.present.set(u.id, u);
        this.renderPresence();
        for (const m of f.messages || []) this.thread && this.thread.add(m);
        if (this.thread) this.thread.readCursors(f.read);
        this.markRead();
      }
    });
    c.on("message", (m) => this.onMessage(m));
    c.on("ack", (a) => a.ticket === this.current && this.thread && this.thread.ack(a.client_id, a.seq));
    c.on("typing", (f) => f.ticket === this.current && this.thread && this.thread.typing(f.user, f.active));
    c.on("presence", (f) => {
      if (f.ticket !== this.current || f.user.id === c.user?.id || f.user.role === "customer") return;
      if (f.online) this.present.set(f.user.id, f.user);
      else this.present.delete(f.user.id);
      this.renderPresence();
    });
    c.on("read", (f) => f.ticket === this.current && this.thread && this.thread.read(f.user, f.seq));
    c.on("ticket", (f) => this.upsertTicket(f.ticket));
  }

  messages(ticket) {
    if (!this.cache.has(ticket)) this.cache.set(ticket, new Map());
    return this.cache.get(ticket);
  }

  async loadTickets() {
    try {
      const list = await this.client.tickets(50);
      for (const tk of list) {
        this.tickets.set(tk.id, tk);
        this.unread.set(tk.id, Math.max(0, (tk.last_seq || 0) - (tk.read_seq || 0)));
      }
      for (const tk of list.filter((x) => x.status !== "closed").slice(0, MAX_JOINED)) {
        if (!this.client.joined.has(tk.id)) this.client.join(tk.id);
      }
      this.emitUnread();
      if (this.view === "home" && !this.panel.hidden) this.show("home");
    } catch { /* offline or unauthorized: the list fills in on the next welcome */ }
  }

  upsertTicket(tk) {
    this.tickets.set(tk.id, { ...(this.tickets.get(tk.id) || {}), ...tk });
    if (this.view === "home" && !this.panel.hidden) this.show("home");
  }

  /* ---- views ---- */

  show(view) {
    this.view = view;
    if (view !== "thread") this.current = this.thread = this.presenceEl = null;
    this.footer.replaceChildren();
    if (view === "home") this.renderHome();
    else if (view === "form") this.renderForm();
    else this.renderThread();
  }

  renderHome() {
    const t = this.t;
    const sorted = [...this.tickets.values()].sort((a, b) => String(b.updated_at).localeCompare(String(a.updated_at)));
    const list = h("ul", { hl: "ticket-list", class: "tickets", "aria-label": t.yourTickets },
      sorted.map((tk) => h("li", {},
        h("button", { hl: "ticket-item", type: "button", dataset: { ticket: tk.id }, onclick: () => this.openTicket(tk.id) },
          h("span", { class: "subj", text: tk.subject }),
          h("span", { class: "chip", text: t.status[tk.status] || tk.status }),
          this.unread.get(tk.id) ? h("span", { class: "badge", "aria-label": t.unread(this.unread.get(tk.id)), text: this.unread.get(tk.id) }) : null))));
    replace(this.body,
      h("button", { hl: "new-ticket", class: "primary", type: "button", onclick: () => this.show("form") }, t.newTicket),
      h("h3", { text: t.yourTickets }),
      sorted.length ? list : [h("p", { class: "muted", text: t.noTickets }), list]);
  }

  renderForm() {
    const t = this.t;
    const plan = this.client.user?.plan || tokenClaims(this.client.token).plan || "free";
    const subject = h("input", { hl: "subject", name: "subject", required: true, maxlength: "200", autocomplete: "off" });
    const body = h("textarea", { hl: "body", name: "body", required: true, rows: "5" });
    const category = h("select", { hl: "category", name: "category" },
      Object.entries(t.categories).map(([v, label]) => h("option", { value: v, text: label })));
    const suggestions = h("div", { hl: "suggestions", class: "suggestions", hidden: true, "aria-live": "polite" });
    const submit = h("button", { hl: "submit", class: "primary", type: "submit" }, t.submit);
    const error = h("p", { hl: "form-error", class: "notice", role: "alert", hidden: true });
    const clientId = newClientId(); // one per form, so a retried submit cannot open two tickets
    let timer = 0;
    subject.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.suggest(subject.value, suggestions), 300);
    });
    const form = h("form", { hl: "ticket-form", onsubmit: async (ev) => {
      ev.preventDefault();
      submit.disabled = true;
      submit.textContent = t.submitting;
      error.hidden = true;
      try {
        const tk = await this.client.api("POST", "/api/tickets", {
          subject: subject.value.trim(), body: body.value.trim(), category: category.value,
          page_url: location.href, context: this.ticketContext(), client_id: clientId,
        });
        this.tickets.set(tk.id, tk);
        this.openTicket(tk.id);
      } catch (err) {
        error.textContent = err.message && err.status ? err.message : t.error;
        error.hidden = false;
        submit.disabled = false;
        submit.textContent = t.submit;
      }
    } },
      h("label", {}, t.subject, subject), h("label", {}, t.category, category), suggestions,
      h("label", {}, t.body, body),
      plan === "free" ? h("p", { class: "notice", text: t.freeNotice }) : null,
      plan === "premium" ? h("p", { class: "notice", text: t.premiumNotice }) : null,
      error, submit);
    replace(this.body, h("button", { hl: "back", type: "button", onclick: () => this.show("home") }, "← " + t.back),
      h("h3", { text: t.newTicket }), form);
    subject.focus();
  }

  ticketContext() {
    const ctx = { ...this.context };
    if (this.errors.length && !ctx.client_errors) ctx.client_errors = [...this.errors];
    return ctx;
  }

  async suggest(q, box) {
    box.hidden = true;
    if (q.trim().length < 3) return;
    try {
      const res = await fetch(`${this.base}/api/articles?q=${encodeURIComponent(q.trim())}`);
      const articles = res.ok ? (await res.json()).articles || [] : [];
      replace(box, h("p", { class: "muted", text: this.t.suggestions }),
        articles.slice(0, 3).map((a) => h("a", {
          href: safeUrl(a.url || `${this.base}/help/${encodeURIComponent(a.slug)}`), target: "_blank", rel: "noopener",
          title: a.snippet || "", text: a.title,
        })));
      box.hidden = !articles.length;
    } catch { /* no self-help service: no suggestions */ }
  }

  openTicket(id) {
    this.current = id;
    this.show("thread");
    this.client.join(id);
  }

  renderThread() {
    const t = this.t;
    const id = this.current;
    const tk = this.tickets.get(id) || { subject: "" };
    this.presenceEl = h("div", { hl: "presence", class: "presence", "aria-live": "polite" });
    this.thread = new ThreadView({ t, loc: this.loc, me: () => this.client.user?.id, label: tk.subject });
    replace(this.body, h("button", { hl: "back", type: "button", onclick: () => this.show("home") }, "← " + t.back),
      h("h3", { text: tk.subject }), this.presenceEl, this.thread.el, this.thread.typingEl);
    this.present.clear();
    this.renderPresence();
    const rows = [...this.messages(id).values()].sort((a, b) => a.seq - b.seq);
    for (const m of rows) this.thread.add(m);
    for (const p of this.client.pending(id)) this.thread.add({ ...p, author: this.client.user }, "sending");
    this.footer.replaceChildren(this.composer(id));
    this.markRead();
  }

  composer(id) {
    const t = this.t;
    const input = h("textarea", { hl: "composer-input", name: "message", rows: "2", required: true });
    let idle = 0;
    let typingOn = false;
    const stopTyping = () => {
      clearTimeout(idle);
      if (typingOn) this.client.typing(id, false);
      typingOn = false;
    };
    input.addEventListener("input", () => {
      if (!typingOn && input.value.trim()) {
        typingOn = true;
        this.client.typing(id, true);
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
      const item = this.client.send(id, text);
      if (this.thread) this.thread.add({ ...item, author: this.client.user }, "sending");
      input.value = "";
      input.focus();
    } }, h("label", {}, h("span", { class: "sr", text: t.composer }), input),
      h("button", { hl: "send", class: "primary", type: "submit" }, t.send));
    return form;
  }

  /* ---- live thread ---- */

  onMessage(m) {
    const me = this.client.user?.id;
    const dup = this.messages(m.ticket).has(m.seq);
    this.messages(m.ticket).set(m.seq, m);
    const tk = this.tickets.get(m.ticket);
    if (tk) this.tickets.set(m.ticket, { ...tk, last_seq: Math.max(tk.last_seq || 0, m.seq), updated_at: m.created_at });
    const seen = m.ticket === this.current && this.thread && !this.panel.hidden && !document.hidden;
    if (m.ticket === this.current && this.thread) this.thread.add(m);
    if (seen) this.markRead();
    else if (m.author && m.author.id !== me && !dup) {
      this.unread.set(m.ticket, (this.unread.get(m.ticket) || 0) + 1);
      this.emitUnread();
      if (this.view === "home" && !this.panel.hidden) this.show("home");
    }
  }

  renderPresence() {
    if (!this.presenceEl) return;
    const names = [...this.present.values()].map((u) => u.name);
    this.presenceEl.dataset.online = String(names.length > 0);
    this.presenceEl.textContent = names.length ? this.t.agentOnline(names.join(", ")) : this.t.noAgent;
  }

  markRead() {
    const id = this.current;
    if (!id || this.panel.hidden || document.hidden) return;
    const seqs = [...this.messages(id).keys()];
    const top = seqs.length ? Math.max(...seqs) : 0;
    if (top && top > (this.readSent.get(id) || 0)) {
      this.readSent.set(id, top);
      this.client.read(id, top);
    }
    if (this.unread.get(id)) {
      this.unread.set(id, 0);
      this.emitUnread();
    }
  }

  totalUnread() {
    let n = 0;
    for (const v of this.unread.values()) n += v;
    return n;
  }

  emitUnread() {
    const n = this.totalUnread();
    this.badge.hidden = n === 0;
    this.badge.textContent = String(n);
    for (const fn of this.handlers.unread) fn(n);
  }

  async refreshBanner() {
    const incidents = await activeIncidents(this.base);
    this.banner.hidden = !incidents.length;
    replace(this.banner, incidents.map((i) => h("div", {},
      h("strong", { text: `${this.t.incident}: ${i.name}` }),
      latest(i.updates) ? h("span", { text: latest(i.updates).body }) : null)));
  }
}

function latest(updates) {
  return [...(updates || [])].sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)))[0];
}

function safeUrl(url) {
  try {
    const u = new URL(url, location.href);
    return u.protocol === "https:" || u.protocol === "http:" ? u.href : "#";
  } catch {
    return "#";
  }
}

/** Called by widget.js with the Helpline origin; returns the object behind window.Helpline. */
export function start(base) {
  return new Widget(base);
}
