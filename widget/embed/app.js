/**
 * The embeddable widget's first load: one <helpline-widget> element with an open shadow root holding the launcher and
 * its unread badge, the connection, the ticket list and the unread counts (badge, the host's title, `on("unread")`).
 * Loaded by widget.js; talks to the server only through client.js. The panel (home screen, form, thread: panel.js
 * and its stylesheet) loads when the launcher is hovered, focused or touched, and at the latest when it opens.
 */

import { HelplineClient, tokenClaims } from "../client.js";
import { h } from "../dom.js";
import { load, loadWidget, locale, strings } from "../i18n.js";
import { CSS as STYLE } from "./widget-style.js";

// The panel's code and its stylesheet, fetched side by side (panel.js imports the style, which is then in flight):
// its methods join the Widget's prototype, replacing the launcher-only ones below.
let panelLoad = null;
const loadPanel = () => (panelLoad ||= Promise.all([import("./panel.js"), import("./panel-style.js")])
  .then(([m]) => Object.assign(Widget.prototype, m.methods), (err) => {
    panelLoad = null; // a failed fetch (offline) is tried again on the next hover or click
    throw err;
  }));

const MAX_JOINED = 20;
const SOUND_KEY = "helpline.sound"; // "on": the new-reply sound (off by default)
const TITLE_PREFIX = /^\(\d+\) /; // ours, before the host's title

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
    setInterval(() => this.panel && !this.panel.hidden && this.refreshBanner(), 60000);
    document.addEventListener("visibilitychange", () => this.markRead());
    addEventListener("pagehide", () => this.leaveForm()); // leaving the page abandons an open draft
  }

  /** Before the panel is in: load it, then open (panel.js's open() replaces this one). */
  open() {
    if (!this.root) {
      if (this.booting) this.booting.then(() => this.open());
      return;
    }
    this.wantOpen = true;
    this.panelReady().then(() => this.wantOpen && this.open(), (err) => console.error("Helpline panel failed to load", err));
  }

  /** Before the panel is in nothing is open; an open() still loading is called off. */
  close() {
    this.wantOpen = false;
    if (!this.root && this.booting) this.booting.then(() => this.close());
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

  /* ---- the launcher ---- */

  mount() {
    const t = this.t;
    this.host = document.createElement("helpline-widget");
    this.root = this.host.attachShadow({ mode: "open" });
    this.badge = h("span", { hl: "unread", class: "badge", hidden: true, "aria-live": "polite" });
    const warm = () => this.panelReady().catch(() => {}); // about to be opened: the panel is fetched meanwhile
    this.launcher = h("button", {
      hl: "launcher", class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": "hl-panel",
      "aria-label": t.launcherLabel, onclick: () => (this.panel && !this.panel.hidden ? this.close() : this.open()),
      onpointerenter: warm, onfocus: warm, ontouchstart: warm,
    }, t.launcher, this.badge);
    this.box = h("div", { class: "root" }, this.launcher); // panel.js puts the panel before the launcher
    this.root.append(h("style", { text: STYLE }), this.box);
    document.body.append(this.host);
  }

  /** The panel's code and all the widget's words in (boot loaded the launcher's only), and its (hidden) DOM built:
   * from then on its methods may touch the panel's elements. */
  panelReady() {
    const lang = this.host.lang;
    return Promise.all([loadPanel(), load(lang, ["widget"])]).then(() => {
      this.t = strings(lang);
      this.mountPanel();
    });
  }

  /** The connection line (inside the panel, once it exists) for the client's last state. */
  renderConnection() {
    const s = this.connState;
    if (!this.conn || !s) return;
    this.conn.hidden = s === "online" || s === "idle";
    this.conn.textContent = s === "unauthorized" ? this.t.unauthorized : s === "connecting" ? this.t.connecting : this.t.offline;
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
      this.connState = s;
      this.renderConnection();
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
        // The server's count leaves out notes and the user's own words; what this page marked read since, it knows.
        const seen = Math.max(tk.read_seq || 0, this.readSent.get(tk.id) || 0);
        this.unread.set(tk.id, seen >= (tk.last_seq || 0) ? 0 : tk.unread ?? Math.max(0, (tk.last_seq || 0) - seen));
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

  /* ---- until panel.js is in: nothing of the panel is on screen (its methods replace these) ---- */

  refreshHome() {}

  renderState() {}

  renderPresence() {}

  markRead() {}

  showBanner(incidents) {
    this.incidents = incidents; // shown when the panel is built
  }

  /** The form goes away (back, close, another view, page left): an unsent draft may count as deflected. */
  leaveForm() {
    if (this.form) this.form.leave();
    this.form = null;
  }

  /* ---- live messages and unread counts ---- */

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
