/**
 * The shared browser client of the widget, the Support tab and the dashboard: the /ws connection, reconnect with
 * backoff, recovery with `since`, and the offline outbox (kept in localStorage until acked). It renders nothing.
 */

// i18n.js imports tokenClaims from here: a cycle of functions only used at call time, which ES modules allow.
import { errorText } from "./i18n.js";

const OUTBOX_PREFIX = "helpline.outbox.";
const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 15000;

/** The claims of a JWT, read without checking it: only to name this user's outbox before the server answers. */
export function tokenClaims(token) {
  try {
    const part = String(token).split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(Array.from(atob(part), (c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join(""));
    return JSON.parse(json);
  } catch {
    return {};
  }
}

/** The Error of a refused HTTP call: the code's words for a person, the server's text as .detail. */
export function httpError(res, data) {
  const code = (data.error && data.error.code) || (res.status >= 500 ? "unavailable" : "unknown");
  return Object.assign(new Error(errorText(code)), { status: res.status, code, detail: data.error && data.error.message });
}

/** A new client_id: stable across resends so the server can drop the repeat. */
export function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Date.now().toString(36) + Math.random().toString(36).slice(2);
}

export class HelplineClient {
  /** base: the Helpline origin ("https://helpline.example"); token: the host's signed identity token. */
  constructor({ base = location.origin, token = "", storage = safeStorage() } = {}) {
    this.base = String(base).replace(/\/$/, "");
    this.token = token;
    this.storage = storage;
    this.user = null;
    this.state = "idle"; // idle | connecting | online | offline | unauthorized
    this.ws = null;
    this.handlers = new Map();
    this.joined = new Map(); // ticket id -> last seq seen (the `since` of the next join)
    this.sentHere = new Set(); // client_ids already sent on the current connection
    this.joinsSent = new Set(); // tickets whose join went out on the current connection (behind its hello or later)
    this.wantQueue = false;
    this.attempt = 0;
    this.timers = {};
    this.lastFrameAt = 0;
    this.pingMs = 10000;
    this.onOnline = () => this.reconnectNow();
    this.onOffline = () => this.drop("offline");
    addEventListener("online", this.onOnline);
    addEventListener("offline", this.onOffline);
  }

  /* ---- events ---- */

  on(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(fn);
    return () => this.handlers.get(type).delete(fn);
  }

  emit(type, detail) {
    for (const fn of this.handlers.get(type) || []) {
      try { fn(detail); } catch (err) { console.error("helpline handler", err); }
    }
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.emit("state", state);
  }

  /* ---- connection ---- */

  connect() {
    if (!this.token || this.ws || this.state === "closed") return;
    clearTimeout(this.timers.retry);
    this.setState("connecting");
    const url = this.base.replace(/^http/, "ws") + "/ws";
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    this.sentHere.clear();
    this.joinsSent.clear();
    // A resume in one round trip: the joins go right behind the hello, not after its welcome (the server handles a
    // connection's frames in order, and drops them all if the hello is refused).
    ws.onopen = () => {
      this.raw({ type: "hello", token: this.token });
      for (const [ticket, since] of this.joined) this.sendJoin(ticket, since);
    };
    ws.onmessage = (ev) => this.receive(ev.data);
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.timers.ping);
      if (ev.code === 4401) {
        this.setState("unauthorized");
        return;
      }
      this.setState("offline");
      this.scheduleRetry();
    };
  }

  /** Close for good (the page is leaving or the host signed the user out). */
  close() {
    this.setState("closed");
    removeEventListener("online", this.onOnline);
    removeEventListener("offline", this.onOffline);
    clearTimeout(this.timers.retry);
    clearInterval(this.timers.ping);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }

  /** A new token (the host refreshed an expiring one): reconnect with it; the outbox stays. */
  setToken(token) {
    this.token = token;
    if (this.state === "closed") this.state = "idle";
    this.drop("offline");
    this.reconnectNow();
  }

  /** Drop the socket now (network gone, or heartbeats missing); a retry follows unless we know we are offline. */
  drop(state) {
    const ws = this.ws;
    this.ws = null;
    clearInterval(this.timers.ping);
    if (ws) {
      ws.onclose = null;
      try { ws.close(4000); } catch { /* already closing */ }
    }
    if (this.state !== "unauthorized" && this.state !== "closed") this.setState(state);
    if (navigator.onLine !== false) this.scheduleRetry();
  }

  reconnectNow() {
    this.attempt = 0;
    clearTimeout(this.timers.retry);
    if (!this.ws) this.connect();
  }

  scheduleRetry() {
    clearTimeout(this.timers.retry);
    if (this.state === "closed" || this.state === "unauthorized") return;
    const ceiling = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** this.attempt);
    this.attempt += 1;
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.timers.retry = setTimeout(() => this.connect(), delay);
  }

  /** Heartbeat: a ping every pingMs; no frame at all for two periods means the socket is dead though not closed. */
  startHeartbeat(heartbeatS) {
    this.pingMs = Math.max(2000, Math.min(10000, (heartbeatS || 10) * 1000));
    clearInterval(this.timers.ping);
    this.timers.ping = setInterval(() => {
      if (Date.now() - this.lastFrameAt > 2 * this.pingMs + 1000) {
        this.drop("offline");
        return;
      }
      this.raw({ type: "ping" });
    }, this.pingMs);
  }

  raw(frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Send a frame only once the server has welcomed us; otherwise it is dropped (state is rebuilt on welcome). */
  frame(frame) {
    return this.state === "online" && this.raw(frame);
  }

  receive(data) {
    this.lastFrameAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    switch (frame.type) {
      case "welcome":
        this.user = frame.user;
        this.attempt = 0;
        this.setState("online");
        this.startHeartbeat(frame.heartbeat_s);
        this.emit("welcome", frame.user);
        for (const [ticket, since] of this.joined) {
          if (!this.joinsSent.has(ticket)) this.sendJoin(ticket, since);
        }
        for (const ticket of this.outboxTickets()) {
          if (!this.joined.has(ticket)) this.join(ticket);
        }
        if (this.wantQueue) this.raw({ type: "queue" });
        break;
      case "joined":
        this.noteSeq(frame.ticket, frame.last_seq);
        for (const m of frame.messages || []) this.settle(m);
        this.emit("joined", frame);
        this.flush(frame.ticket);
        break;
      case "message":
        this.noteSeq(frame.ticket, frame.seq);
        this.settle(frame);
        this.emit("message", frame);
        break;
      case "ack":
        this.noteSeq(frame.ticket, frame.seq);
        this.removeFromOutbox(frame.client_id);
        this.emit("ack", frame);
        break;
      case "error":
        // A closed ticket will never take the message (reason `ticket_closed`): retrying it forever helps nobody.
        if (frame.ref && (this.isPermanent(frame.code) || frame.reason === "ticket_closed")) this.removeFromOutbox(frame.ref);
        this.emit("error", frame);
        break;
      case "pong":
        break;
      default:
        this.emit(frame.type, frame);
    }
  }

  isPermanent(code) {
    return ["bad_request", "forbidden", "not_found", "too_large"].includes(code);
  }

  noteSeq(ticket, seq) {
    if (!this.joined.has(ticket) || typeof seq !== "number") return;
    if (seq > (this.joined.get(ticket) || 0)) this.joined.set(ticket, seq);
  }

  /** A committed message whose client_id we still hold was delivered (its ack may have been lost). */
  settle(message) {
    if (message.client_id && this.outbox().some((m) => m.client_id === message.client_id)) {
      this.removeFromOutbox(message.client_id);
      this.emit("ack", { type: "ack", client_id: message.client_id, ticket: message.ticket, id: message.id, seq: message.seq });
    }
  }

  /* ---- tickets ---- */

  /** Join a ticket; since = the last seq already shown (null: the latest messages). Rejoins on every reconnect. */
  join(ticket, since = null) {
    const known = this.joined.get(ticket);
    const from = since ?? known ?? null;
    this.joined.set(ticket, from);
    if (this.state === "online") this.sendJoin(ticket, from);
  }

  sendJoin(ticket, since) {
    if (this.raw(joinFrame(ticket, since))) this.joinsSent.add(ticket);
  }

  leave(ticket) {
    this.joined.delete(ticket);
    this.joinsSent.delete(ticket);
    this.frame({ type: "leave", ticket });
  }

  /** Queue a message: stored first, sent now if we can, otherwise after the next reconnect. Returns the pending item. */
  send(ticket, body, { internal = false } = {}) {
    const item = { ticket, client_id: newClientId(), body, internal, created_at: new Date().toISOString() };
    this.saveOutbox([...this.outbox(), item]);
    if (!this.joined.has(ticket)) this.join(ticket);
    else this.flush(ticket);
    return item;
  }

  flush(ticket) {
    if (this.state !== "online") return;
    for (const item of this.outbox()) {
      if (item.ticket !== ticket || this.sentHere.has(item.client_id)) continue;
      this.sentHere.add(item.client_id);
      this.raw({ type: "send", ticket, client_id: item.client_id, body: item.body, internal: !!item.internal });
    }
  }

  /** internal: typing a note, which the server shows to agents only. */
  typing(ticket, active, internal = false) {
    this.frame(internal ? { type: "typing", ticket, active: !!active, internal: true } : { type: "typing", ticket, active: !!active });
  }

  read(ticket, seq) {
    this.frame({ type: "read", ticket, seq });
  }

  queue() {
    this.wantQueue = true;
    this.frame({ type: "queue" });
  }

  /* ---- offline outbox (localStorage, per user) ---- */

  outboxKey() {
    return OUTBOX_PREFIX + (tokenClaims(this.token).sub || "anonymous");
  }

  outbox() {
    try {
      return JSON.parse(this.storage.getItem(this.outboxKey()) || "[]");
    } catch {
      return [];
    }
  }

  pending(ticket) {
    return this.outbox().filter((m) => m.ticket === ticket);
  }

  outboxTickets() {
    return [...new Set(this.outbox().map((m) => m.ticket))];
  }

  saveOutbox(items) {
    try {
      if (items.length) this.storage.setItem(this.outboxKey(), JSON.stringify(items));
      else this.storage.removeItem(this.outboxKey());
    } catch { /* storage full or blocked: the message still goes out if we are online */ }
  }

  removeFromOutbox(clientId) {
    const items = this.outbox();
    const rest = items.filter((m) => m.client_id !== clientId);
    if (rest.length !== items.length) this.saveOutbox(rest);
  }

  /* ---- HTTP API ---- */

  /**
   * Call the HTTP API; resolves to the JSON body, rejects with an Error carrying .status and .code. Its .message is
   * the catalogue's words for the code in the viewer's language (what a person is shown); .detail the server's.
   */
  async api(method, path, body) {
    const headers = { Authorization: "Bearer " + this.token };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(this.base + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      throw httpError(res, data);
    }
    return data;
  }

  /** Every message of a ticket the caller may see, page by page (after_seq/limit/has_more). */
  async history(ticket, afterSeq = 0) {
    const messages = [];
    let ticketObj = null;
    for (let guard = 0; guard < 1000; guard += 1) {
      const page = await this.api("GET", `/api/tickets/${encodeURIComponent(ticket)}?after_seq=${afterSeq}&limit=200`);
      ticketObj = page.ticket;
      messages.push(...page.messages);
      if (!page.has_more || !page.messages.length) break;
      afterSeq = page.messages[page.messages.length - 1].seq;
    }
    return { ticket: ticketObj, messages };
  }

  /**
   * Every ticket the caller sees (customer: their own; agent: the queue), following `next` cursors. `firstPage` is
   * a promise of the first page's JSON already asked for (the widget's loader starts it); if it fails, it is asked
   * again here, so errors look the same.
   */
  async tickets(limit = 100, firstPage = null) {
    const all = [];
    let cursor = null;
    for (let guard = 0; guard < 50; guard += 1) {
      const q = `?limit=${limit}` + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : "");
      const early = guard === 0 && firstPage ? await firstPage.catch(() => null) : null;
      const page = early || (await this.api("GET", "/api/tickets" + q));
      all.push(...page.tickets);
      if (!page.next) break;
      cursor = page.next;
    }
    return all;
  }
}

function joinFrame(ticket, since) {
  return since === null || since === undefined ? { type: "join", ticket } : { type: "join", ticket, since };
}

function safeStorage() {
  try {
    const probe = "helpline.probe";
    localStorage.setItem(probe, "1");
    localStorage.removeItem(probe);
    return localStorage;
  } catch {
    const mem = new Map();
    return { getItem: (k) => mem.get(k) ?? null, setItem: (k, v) => mem.set(k, String(v)), removeItem: (k) => mem.delete(k) };
  }
}

/** Read the status page's active incidents; resolves to [] on any failure (the banner then stays hidden). */
export async function activeIncidents(base) {
  try {
    const config = await (await fetch(String(base).replace(/\/$/, "") + "/api/config")).json();
    if (!config.status_url) return [];
    const status = await (await fetch(config.status_url.replace(/\/$/, "") + "/api/status")).json();
    return (status.incidents || []).filter((i) => i.status !== "resolved");
  } catch {
    return [];
  }
}
