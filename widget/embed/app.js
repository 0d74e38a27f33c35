/**
 * The embeddable widget: one <helpline-widget> element with an open shadow root holding the launcher, the ticket
 * list, the new-ticket form and the live thread. Loaded by widget.js; talks to the server only through client.js.
 */

import { HelplineClient, activeIncidents, tokenClaims } from "../client.js";
import { h, replace } from "../dom.js";
import { loadWidget, locale, strings } from "../i18n.js";
import { CSS as STYLE } from "./widget-style.js";

// Not in the first view (the launcher): the new-ticket form and the thread load on demand, and in the background
// when the panel opens, so the first load carries only what shows the launcher and counts unread messages.
let intake = null;
let ticketView = null;
const loadIntake = () => import("./intake.js").then((m) => (intake = m));
// thread.js beside ticket-view.js (which imports it), so both arrive in one round trip.
const loadThread = () => Promise.all([import("./ticket-view.js"), import("../thread.js")]).then(([view]) => (ticketView = view));

const MAX_JOINED = 20;
const SOUND_KEY = "helpline.sound"; // "on": the new-reply sound (off by default)
const TITLE_PREFIX = /^\(\d+\) /; // ours, before the host's title
const FOCUSABLE = "button:not([disabled]), [href], input:not([disabled]), select, textarea, [tabindex]:not([tabindex='-1'])";

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
    if (this.client || this.booting) {
      if (token) this.setToken(token);
      return;
    }
    // Already in the module map when widget.js prefetched this language; otherwise one small import.
    this.booting = loadWidget({ token, lang }).then((language) => this.start(token, language));
  }

  /** `prefetched` is the loader's first page of `GET /api/tickets` for the token it saw (one fetch, started beside
   * the modules), used when boot gets that same token. */
  start(token, language) {
    this.t = strings(language);
    this.loc = locale(language);
    this.sound = readPref(SOUND_KEY) === "on";
    this.mount();
    this.host.lang = language;
    this.client = new HelplineClient({ base: this.base, token });
    this.wire();
    this.client.connect();
    const first = this.prefetched && this.prefetched.token === token ? this.prefetched.page : null;
    // The first welcome does not list again what this boot lists (it used to fetch the list twice); a later welcome
    // (a reconnect) does, and so does the first one if this list failed.
    this.listing = this.loadTickets(first);
    setInterval(() => !this.panel.hidden && this.refreshBanner(), 60000);
    document.addEventListener("visibilitychange", () => this.markRead());
    addEventListener("pagehide", () => this.leaveForm()); // leaving the page abandons an open draft
  }

  open() {
    if (!this.root) {
      if (this.booting) this.booting.then(() => this.open());
      return;
    }
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    loadIntake().catch(() => {}); // what the panel's buttons lead to, fetched while the user reads the list
    loadThread().catch(() => {});
    this.refreshBanner();
    this.show(this.view);
    this.markRead();
    // Keyboard users land where they can act: the composer in a thread, else the first button.
    const target = this.footer.querySelector("textarea") || this.body.querySelector("button");
    if (target) target.focus();
  }

  close() {
    if (!this.root) {
      if (this.booting) this.booting.then(() => this.close());
      return;
    }
    this.leaveForm();
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.focus();
  }

  setToken(token) {
    if (this.client) this.client.setToken(token);
    else if (this.booting) this.booting.then(() => this.client.setToken(token));
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
    this.soundBtn = h("button", { hl: "sound", type: "button", "aria-pressed": String(this.sound), title: t.soundLabel,
      "aria-label": t.soundLabel, onclick: () => this.toggleSound() }, "♪");
    this.panel = h("section", { id: "hl-panel", class: "panel", role: "dialog", "aria-label": t.title, hidden: true,
      onkeydown: (ev) => this.panelKey(ev) },
      h("header", {}, h("h2", { text: t.title }), this.soundBtn,
        h("button", { hl: "close", type: "button", "aria-label": t.closeLabel, onclick: () => this.close() }, "×")),
      this.banner, this.conn, this.body, this.footer);
    this.root.append(h("style", { text: STYLE }), h("div", { class: "root" }, this.panel, this.launcher));
    document.body.append(this.host);
  }

  /** Escape closes; Tab and Shift+Tab stay inside the open panel (focus trap). */
  panelKey(ev) {
    if (ev.key === "Escape") return this.close();
    if (ev.key !== "Tab") return;
    const items = [...this.panel.querySelectorAll(FOCUSABLE)].filter((el) => el.offsetParent !== null);
    if (!items.length) return;
    const first = items[0];
    const last = items[items.length - 1];
    const active = this.root.activeElement;
    if (ev.shiftKey && (active === first || !this.panel.contains(active))) {
      ev.preventDefault();
      last.focus();
    } else if (!ev.shiftKey && (active === last || !this.panel.contains(active))) {
      ev.preventDefault();
      first.focus();
    }
  }

  toggleSound() {
    this.sound = !this.sound;
    writePref(SOUND_KEY, this.sound ? "on" : "off");
    this.soundBtn.setAttribute("aria-pressed", String(this.sound));
    if (this.sound) this.chime();
  }

  /** The new-reply sound (embed/extras.js, lazy). */
  chime() {
    import("./extras.js").then((m) => m.chime(this), () => {});
  }

  wire() {
    const c = this.client;
    c.on("state", (s) => {
      this.conn.hidden = s === "online" || s === "idle";
      this.conn.textContent = s === "unauthorized" ? this.t.unauthorized : s === "connecting" ? this.t.connecting : this.t.offline;
    });
    c.on("welcome", () => {
      const booting = this.listing;
      this.listing = null;
      if (booting) booting.then((ok) => ok || this.loadTickets());
      else this.loadTickets();
    });
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
    // Pushed by the gateway within moments of a change on the status page; the 60 s poll covers its absence.
    c.on("status", (f) => {
      const incidents = (f.incidents || []).filter((i) => i.status !== "resolved");
      this.showBanner(incidents);
      if (this.form && this.form.statusChanged) this.form.statusChanged(incidents);
    });
    c.on("error", (f) => {
      if (f.reason !== "ticket_closed") return;
      const pending = this.thread && f.ref && this.thread.el.querySelector(`[data-client-id="${CSS.escape(f.ref)}"]`);
      if (!pending) return;
      this.thread.setState(pending, "failed");
      this.upsertTicket({ id: this.current, status: "closed" });
    });
  }

  messages(ticket) {
    if (!this.cache.has(ticket)) this.cache.set(ticket, new Map());
    return this.cache.get(ticket);
  }

  /** Lists the user's tickets and joins the open ones; resolves to whether it could. */
  async loadTickets(firstPage = null) {
    try {
      const list = await this.client.tickets(50, firstPage);
      for (const tk of list) {
        this.tickets.set(tk.id, tk);
            this.unread.set(tk.id, Math.max(0, (tk.last_seq || 0) - Math.max(tk.read_seq || 0, this.readSent.get(tk.id) || 0)));
      }
      for (const tk of list.filter((x) => x.status !== "closed").slice(0, MAX_JOINED)) {
        if (!this.client.joined.has(tk.id)) this.client.join(tk.id);
      }
      this.emitUnread();
      this.refreshHome();
      if (this.current) this.renderState();
      return true;
    } catch {
      return false; // offline or unauthorized: the list fills in on the next welcome
    }
  }

  upsertTicket(tk) {
    this.tickets.set(tk.id, { ...(this.tickets.get(tk.id) || {}), ...tk });
    this.refreshHome();
    if (tk.id === this.current) this.renderState();
  }

  plan() {
    return this.client.user?.plan || tokenClaims(this.client.token).plan || "free";
  }

  /* ---- views ---- */

  show(view, followUp = null) {
    this.opening = null;
    this.leaveForm();
    this.view = view;
    if (view !== "thread") this.current = this.thread = this.presenceEl = null;
    this.footer.replaceChildren();
    if (view === "home") this.renderHome();
    else if (view === "form") this.renderForm(followUp);
    else this.renderThread();
  }

  /** Re-render home for new data, keeping focus on the same control. */
  refreshHome() {
    if (this.view !== "home" || this.panel.hidden) return;
    const a = this.root.activeElement;
    const sel = a && this.body.contains(a) && a.dataset.hl
      ? `[data-hl="${a.dataset.hl}"]` + (a.dataset.ticket ? `[data-ticket="${CSS.escape(a.dataset.ticket)}"]` : "") : null;
    this.show("home");
    const again = sel && this.body.querySelector(sel);
    if (again) again.focus();
  }

  renderHome() {
    const t = this.t;
    const sorted = [...this.tickets.values()].sort((a, b) => String(b.updated_at).localeCompare(String(a.updated_at)));
    const list = h("ul", { hl: "ticket-list", class: "tickets", "aria-label": t.yourTickets },
      sorted.map((tk) => h("li", {},
        h("button", { hl: "ticket-item", type: "button", dataset: { ticket: tk.id }, onclick: () => this.openTicket(tk.id) },
          h("span", { class: "subj", text: tk.subject }),
          h("span", { class: "chip", text: t.status[tk.status] || tk.status }),
          tk.reviewed_at ? h("span", { hl: "reviewed", class: "chip", title: t.reviewed, text: "✓" }) : null,
          this.unread.get(tk.id) ? h("span", { class: "badge", "aria-label": t.unread(this.unread.get(tk.id)), text: this.unread.get(tk.id) }) : null))));
    replace(this.body, this.homeIntro(),
      h("button", { hl: "new-ticket", class: "primary", type: "button", onclick: () => this.show("form") }, t.newTicket),
      h("h3", { text: t.yourTickets }),
      sorted.length ? list : [h("p", { class: "muted", text: t.noTickets }), list]);
    if (this.plan() === "premium") {
      // One box kept across re-renders, so a half-filled callback form survives a live list update.
      this.options = this.options || import("../callback.js")
        .then((m) => m.supportOptions(this.client, t, () => this.loadTickets())).catch(() => null);
      this.options.then((box) => box && this.view === "home" && this.body.append(box));
    }
  }

  /** Home top: team intro, the plan's promise (expected reply or free notice), service status. */
  homeIntro() {
    const t = this.t;
    const free = this.plan() === "free";
    const expected = h("p", { hl: "expected", class: "muted", hidden: !this.expectedText, text: this.expectedText || "" });
    if (!free && !this.expectedAsked) {
      this.expectedAsked = true;
      this.client.api("GET", "/api/support/expected").then((e) => {
        if (e.expected_s == null) return;
        this.expectedText = t.expected(t.minutes(Math.max(1, Math.ceil(e.expected_s / 60))), e.queue_ahead);
        const el = this.body.querySelector('[data-hl="home-intro"] [data-hl="expected"]');
        if (el) Object.assign(el, { textContent: this.expectedText, hidden: false });
      }, () => { this.expectedAsked = false; });
    }
    this.statusLine = h("p", { hl: "service-status", class: "status-line" });
    this.renderStatusLine();
    return h("div", { hl: "home-intro", class: "intro" }, h("p", { text: t.teamIntro }),
      free ? h("p", { hl: "free-notice", class: "muted", text: t.freeNotice }) : expected, this.statusLine);
  }

  /** The service status from the status page's active incidents (hidden until known). */
  renderStatusLine() {
    const line = this.statusLine;
    if (!line) return;
    line.hidden = !this.incidents;
    if (!this.incidents) return;
    line.dataset.ok = String(!this.incidents.length);
    line.textContent = this.incidents.length ? `${this.t.incident}: ${this.incidents[0].name}` : this.t.statusOk;
  }

  renderForm(followUp = null) {
    if (!intake) {
      loadIntake().then(() => this.view === "form" && !this.form && this.show("form", followUp), () => {});
      return;
    }
    const t = this.t;
    const form = intake.ticketForm({ client: this.client, base: this.base, t, lang: this.loc, plan: this.plan(), context: () => this.ticketContext(),
      followUp,
      onTicket: (tk) => {
        this.tickets.set(tk.id, tk);
        this.openTicket(tk.id);
      } });
    this.form = form;
    replace(this.body, h("button", { hl: "back", type: "button", onclick: () => this.show("home") }, "← " + t.back),
      h("h3", { text: t.newTicket }), form.el);
    form.subject.focus();
  }

  /** The form goes away (back, close, another view, page left): an unsent draft may count as deflected. */
  leaveForm() {
    if (this.form) this.form.leave();
    this.form = null;
  }

  ticketContext() {
    const ctx = { ...this.context };
    // The agent's sidebar shows the customer's local time from this (the host's context may already say it).
    if (!ctx.time_zone) {
      try {
        const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
        if (zone) ctx.time_zone = zone;
      } catch { /* no Intl time zones: the sidebar says the time is unknown */ }
    }
    if (!ctx.language && this.host.lang) ctx.language = this.host.lang; // the thread's notices are written in it
    if (this.errors.length && !ctx.client_errors) ctx.client_errors = [...this.errors];
    return ctx;
  }

  openTicket(id) {
    if (!ticketView) {
      this.opening = id; // shown once thread.js is in, unless the user went elsewhere meanwhile
      loadThread().then(() => this.opening === id && this.openTicket(id), () => {});
      return;
    }
    this.current = id;
    this.show("thread");
    this.client.join(id);
  }

  /* The ticket view lives in embed/ticket-view.js, loaded with thread.js before any thread shows (openTicket). */
  renderThread() {
    ticketView.renderThread(this);
  }

  renderState() {
    if (ticketView) ticketView.renderState(this);
  }

  renderPresence() {
    if (ticketView) ticketView.renderPresence(this);
  }

  composer(id) {
    return ticketView.composer(this, id);
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
      if (this.sound) this.chime();
      this.refreshHome();
    }
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
    this.badge.setAttribute("aria-label", this.t.unread(n));
    const bare = document.title.replace(TITLE_PREFIX, "");
    document.title = n ? `(${n}) ${bare}` : bare;
    for (const fn of this.handlers.unread) fn(n);
  }

  async refreshBanner() {
    this.showBanner(await activeIncidents(this.base));
  }

  showBanner(incidents) {
    this.incidents = incidents; // the home screen's status line reads them too
    this.renderStatusLine();
    this.banner.hidden = !incidents.length;
    replace(this.banner, incidents.map((i) => h("div", {},
      h("strong", { text: `${this.t.incident}: ${i.name}` }),
      latest(i.updates) ? h("span", { text: latest(i.updates).body }) : null)));
  }
}

function latest(updates) {
  return [...(updates || [])].sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)))[0];
}

/** Called by widget.js with the Helpline origin; returns the object behind window.Helpline. */
export function start(base, prefetched = null) {
  const widget = new Widget(base);
  widget.prefetched = prefetched;
  return widget;
}

function readPref(key) {
  try { return localStorage.getItem(key); } catch { return null; }
}

function writePref(key, value) {
  try { localStorage.setItem(key, value); } catch { /* storage refused: the choice lasts this page */ }
}
