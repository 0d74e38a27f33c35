/**
 * The widget's panel, which the launcher does not need: the dialog (header, sound toggle, incident banner,
 * connection line), its keyboard handling (Escape, the focus trap), the home screen (intro, expected reply or free
 * notice, service status, ticket list), and the switch between home, the new-ticket form (intake.js) and a ticket
 * (ticket-view.js, thread.js). app.js loads it, with panel-style.js, when the launcher is hovered, focused or
 * touched, and at the latest when it opens; its methods then join app.js's Widget (they use its state as `this`).
 */

import { activeIncidents } from "../client.js";
import { h, replace } from "../dom.js";
import { CSS as STYLE } from "./panel-style.js";

// The new-ticket form and the thread load on demand, and in the background once the panel opens.
let intake = null;
let ticketView = null;
const loadIntake = () => import("./intake.js").then((m) => (intake = m));
// thread.js beside ticket-view.js (which imports it), so both arrive in one round trip.
const loadThread = () => Promise.all([import("./ticket-view.js"), import("../thread.js")]).then(([view]) => (ticketView = view));

const FOCUSABLE = "button:not([disabled]), [href], input:not([disabled]), select, textarea, [tabindex]:not([tabindex='-1'])";

/** Methods of app.js's Widget, added to its prototype when this module loads. */
export const methods = {
  /** The panel's DOM (header, banner, connection line, view, footer) and its stylesheet, built on first open. */
  mountPanel() {
    if (this.panel) return;
    const t = this.t;
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
    this.root.prepend(h("style", { text: STYLE }));
    this.box.prepend(this.panel);
    this.renderConnection();
    if (this.incidents) this.showBanner(this.incidents);
  },

  open() {
    this.mountPanel();
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
  },

  close() {
    this.leaveForm();
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.focus();
  },

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
  },

  show(view, followUp = null) {
    this.opening = null;
    this.leaveForm();
    this.view = view;
    if (view !== "thread") this.current = this.thread = this.presenceEl = null;
    this.footer.replaceChildren();
    if (view === "home") this.renderHome();
    else if (view === "form") this.renderForm(followUp);
    else this.renderThread();
  },

  /** Re-render home for new data, keeping focus on the same control. */
  refreshHome() {
    // A ticket clicked while thread.js loads opens once it is in: re-rendering home now would call that off
    // (show() forgets `opening`), so the click would be lost to a live update arriving at the wrong moment.
    if (this.view !== "home" || this.panel.hidden || this.opening) return;
    const a = this.root.activeElement;
    const sel = a && this.body.contains(a) && a.dataset.hl
      ? `[data-hl="${a.dataset.hl}"]` + (a.dataset.ticket ? `[data-ticket="${CSS.escape(a.dataset.ticket)}"]` : "") : null;
    this.show("home");
    const again = sel && this.body.querySelector(sel);
    if (again) again.focus();
  },

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
  },

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
  },

  /** The service status from the status page's active incidents (hidden until known). */
  renderStatusLine() {
    const line = this.statusLine;
    if (!line) return;
    line.hidden = !this.incidents;
    if (!this.incidents) return;
    line.dataset.ok = String(!this.incidents.length);
    line.textContent = this.incidents.length ? `${this.t.incident}: ${this.incidents[0].name}` : this.t.statusOk;
  },

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
  },

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
  },

  openTicket(id) {
    if (!ticketView) {
      this.opening = id; // shown once thread.js is in, unless the user went elsewhere meanwhile
      loadThread().then(() => this.opening === id && this.openTicket(id), () => {
        if (this.opening === id) this.opening = null; // not loaded (offline): the list refreshes again
      });
      return;
    }
    this.current = id;
    this.show("thread");
    this.client.join(id);
  },

  // The ticket view lives in embed/ticket-view.js, loaded with thread.js before any thread shows (openTicket).
  renderThread() {
    ticketView.renderThread(this);
  },

  renderState() {
    if (ticketView) ticketView.renderState(this);
  },

  renderPresence() {
    if (ticketView) ticketView.renderPresence(this);
  },

  composer(id) {
    return ticketView.composer(this, id);
  },

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
  },

  async refreshBanner() {
    this.showBanner(await activeIncidents(this.base));
  },

  showBanner(incidents) {
    this.incidents = incidents; // the home screen's status line reads them too
    this.renderStatusLine();
    this.banner.hidden = !incidents.length;
    replace(this.banner, incidents.map((i) => h("div", {},
      h("strong", { text: `${this.t.incident}: ${i.name}` }),
      latest(i.updates) ? h("span", { text: latest(i.updates).body }) : null)));
  },
};

function latest(updates) {
  return [...(updates || [])].sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)))[0];
}
