/**
 * The agent dashboard (/dashboard): the live queue in contract order with filters, and one ticket at a time with its
 * thread, reply, internal notes, assignment, status, the customer's presence and other agents in the same ticket.
 */

import { cannedPicker } from "./canned.js";
import { keepDraft } from "./drafts.js";
import { notifier } from "./notify.js";
import { installShortcuts } from "./shortcuts.js";
import { customerSidebar } from "./sidebar.js";
import { slaBadge } from "./sla.js";
import { teamPanel } from "./team.js";
import { HelplineClient, tokenClaims } from "../client.js";
import { awayToggle, callbacksPanel, signalsPanel, ticketTools } from "./dash-panels.js";
import { h, replace, when } from "../dom.js";
import { errorText, locale, strings } from "../i18n.js";
import { loadPage, pageToken, signInPicker, signOut } from "../session.js";
import { ThreadView } from "../thread.js";
import { bulkBar } from "./bulk.js";
import { macroPicker } from "./macros.js";
import { searchPanel } from "./search.js";
import { syncTagFilter, tagChips, tagEditor } from "./tags.js";

const TYPING_IDLE_MS = 3000;
const STATUSES = ["open", "pending", "solved", "closed"];
// The page's words in the viewer's language before anything renders (token `locale` claim > ?lang= > browser).
await loadPage("agent", ["widget", "desk", "support"]);
const t = strings();
const loc = locale();
const $ = (sel) => document.querySelector(sel);

let client = null;
const queue = new Map(); // id -> ticket
let serverOrder = []; // ids in the order the server last sent the queue
let view = null; // the open ticket: { id, thread, people: Map(id -> {user, typing}), refs }
let panels = []; // side panels refreshed when tickets change
let bulk = null; // the bulk bar and its row checkboxes (bulk.js)
let sidebar = null; // the open ticket's customer (sidebar.js)
let notes = null; // notifications and the title badge (notify.js)
const statusUrl = fetch("/api/config").then((r) => r.json()).then((c) => c.status_url || null).catch(() => null);

const meId = () => client.user?.id || tokenClaims(client.token).sub;
const assigneeId = (a) => (a && typeof a === "object" ? a.id : a) || null;
const assigneeName = (a) => (a && typeof a === "object" ? a.name || a.id : a) || "";

/** An assignee for display: our own name for ourselves, else what the ticket carries. */
function whoIs(assignee) {
  return assigneeId(assignee) === meId() ? client.user?.name || tokenClaims(client.token).name || meId() : assigneeName(assignee);
}

async function main() {
  $("#mine-label").textContent = t.mine;
  $("#queue-title").textContent = t.queue;
  $("#empty-hint").textContent = t.pickTicket;
  $("#sign-out").textContent = t.signOut;
  $("#sign-out").addEventListener("click", (ev) => { ev.preventDefault(); signOut("agent"); location.reload(); });
  for (const sel of ['[data-hl="filter-status"]', '[data-hl="filter-plan"]', '[data-hl="filter-mine"]', '[data-hl="filter-tag"]']) {
    $(sel).addEventListener("change", renderQueue);
  }
  linkStatusPage();
  const token = await pageToken("agent");
  if (!token) {
    replace($("#sign-in-slot"), await signInPicker("agent", t, () => location.reload()));
    return;
  }
  client = new HelplineClient({ token });
  $('[data-hl="agent-name"]').textContent = tokenClaims(token).name || "";
  const away = awayToggle(client, meId);
  $("#away-slot").append(away.el);
  client.on("queue", away.sync);
  panels = [signalsPanel(client, openTicket), callbacksPanel(client, openTicket)];
  $("#search-slot").append(searchPanel(client, { openTicket, onError: showError }).el);
  bulk = bulkBar(client, { onDone: () => {}, onError: showError }); // the ticket frames bring the changes
  $("#bulk-slot").append(bulk.el);
  const team = teamPanel(client, t, meId);
  $("#panels").append(team.el, ...panels.map((p) => p.el));
  sidebar = customerSidebar(client, t, loc, openTicket);
  $("#sidebar-slot").replaceWith(sidebar.el);
  notes = notifier(client, t, { meId, openId: () => view?.id || null, onOpen: openTicket,
    inQueue: (id) => !!document.querySelector(`[data-hl="queue"] [data-hl="ticket-item"][data-ticket="${CSS.escape(id)}"]`) });
  $("#notify-slot").replaceWith(notes.button);
  document.body.append(installShortcuts(shortcutActions(), t));
  wire();
  client.on("ticket", (f) => notes.ticket(f.ticket)); // after the queue redrew: "in the agent's views" is current
  client.queue();
  client.connect();
  try {
    const first = await client.tickets(100); // readable before the socket is up, or without it
    notes.seed(first);
    setQueue(first);
  } catch { /* the queue frame fills it in */ }
  const wanted = new URLSearchParams(location.search).get("ticket");
  if (wanted) openTicket(wanted);
}

async function linkStatusPage() {
  const url = await statusUrl;
  if (url) Object.assign($("#status-link"), { href: url, hidden: false });
}

function wire() {
  const conn = $('[data-hl="connection"]');
  client.on("state", (s) => {
    conn.hidden = false;
    conn.dataset.state = s;
    conn.textContent = s === "online" ? t.liveShort : s === "unauthorized" ? t.unauthorized : s === "connecting" ? t.connecting : t.offlineShort;
  });
  client.on("queue", (f) => setQueue(f.tickets || []));
  client.on("ticket", (f) => upsert(f.ticket, { linked: !!f.ticket.incident })); // only a link change carries it
  client.on("joined", (f) => {
    if (!view || f.ticket !== view.id) return;
    for (const m of f.messages || []) view.thread.add(m);
    view.thread.readCursors(f.read);
    view.people.clear();
    for (const u of f.presence || []) if (u.id !== meId()) view.people.set(u.id, { user: u, typing: false });
    renderPeople();
    markRead();
  });
  client.on("message", (m) => {
    if (!view || m.ticket !== view.id) return;
    view.thread.add(m);
    const person = m.author && view.people.get(m.author.id);
    if (person) person.typing = false;
    renderPeople();
    if (m.author && m.author.role === "customer" && view.refs.reply.value.trim()) view.refs.warning.hidden = false;
    markRead();
  });
  client.on("ack", (a) => view && a.ticket === view.id && view.thread.ack(a.client_id, a.seq));
  client.on("read", (f) => view && f.ticket === view.id && view.thread.read(f.user, f.seq));
  client.on("typing", (f) => {
    if (!view || f.ticket !== view.id || f.user.id === meId()) return;
    view.thread.typing(f.user, f.active);
    const person = view.people.get(f.user.id) || { user: f.user, typing: false };
    person.typing = f.active;
    view.people.set(f.user.id, person);
    renderPeople();
  });
  client.on("presence", (f) => {
    if (!view || f.ticket !== view.id || f.user.id === meId()) return;
    if (f.online) view.people.set(f.user.id, { user: f.user, typing: false });
    else view.people.delete(f.user.id);
    renderPeople();
  });
  client.on("error", (f) => showError(errorText(f.code)));
}

/** What the keys of shortcuts.js do: move in the queue as shown, write, assign, solve, search. */
function shortcutActions() {
  const step = (by) => () => {
    const ids = [...document.querySelectorAll('[data-hl="queue"] [data-hl="ticket-item"]')].map((b) => b.dataset.ticket);
    if (!ids.length) return;
    const at = view ? ids.indexOf(view.id) : -1;
    const next = at < 0 ? (by > 0 ? 0 : ids.length - 1) : Math.min(ids.length - 1, Math.max(0, at + by));
    if (ids[next] !== view?.id) openTicket(ids[next]);
  };
  const write = (internal) => () => {
    if (!view?.refs.reply) return;
    const box = view.refs.internal;
    if (box.checked !== internal) {
      box.checked = internal;
      box.dispatchEvent(new Event("change"));
    }
    view.refs.reply.focus();
  };
  return {
    next: step(1), prev: step(-1), reply: write(false), note: write(true),
    assign: () => view && patch(view.id, { assignee: meId() }),
    solve: () => view && patch(view.id, { status: "solved" }),
    search: () => ($('[data-hl="search"]') || $('[data-hl="filter-status"]')).focus(),
  };
}

/* ---- the queue ---- */

function setQueue(list) {
  queue.clear();
  for (const tk of list) queue.set(tk.id, tk);
  serverOrder = list.map((tk) => tk.id);
  renderQueue();
}

function upsert(tk, { linked = false } = {}) {
  queue.set(tk.id, { ...(queue.get(tk.id) || {}), ...tk });
  if (view && view.id === tk.id) renderHeader(queue.get(tk.id), { linked });
  renderQueue();
  if (tk.plan === "free" || tk.category === "callback") for (const p of panels) p.refresh();
}

/** Contract order (§6): first_response_due (none last), then priority, then age; server order breaks ties. */
function ordered() {
  const rank = new Map(serverOrder.map((id, i) => [id, i]));
  const due = (tk) => (tk.first_response_due ? Date.parse(tk.first_response_due) : Infinity);
  return [...queue.values()].sort((a, b) =>
    due(a) - due(b) || (a.priority || 9) - (b.priority || 9) ||
    String(a.created_at).localeCompare(String(b.created_at)) ||
    (rank.get(a.id) ?? 1e9) - (rank.get(b.id) ?? 1e9));
}

function renderQueue() {
  const status = $('[data-hl="filter-status"]').value;
  const plan = $('[data-hl="filter-plan"]').value;
  const mine = $('[data-hl="filter-mine"]').checked;
  const tagFilter = $('[data-hl="filter-tag"]');
  syncTagFilter(tagFilter, queue.values());
  const tag = tagFilter.value;
  const rows = ordered().filter((tk) => (!status || tk.status === status) && (!plan || tk.plan === plan) &&
    (!mine || assigneeId(tk.assignee) === meId()) && (!tag || (tk.tags || []).includes(tag)));
  const ul = $('[data-hl="queue"]');
  if (!rows.length) {
    replace(ul, h("li", { class: "muted", text: t.emptyQueue }));
    return;
  }
  // The row is the contract's `ticket-item` (§7); its button keeps the dashboard's older `queue-item` name.
  replace(ul, rows.map((tk) => h("li", { hl: "ticket-item", class: "queue-row", dataset: { ticket: tk.id, status: tk.status } },
    bulk ? bulk.checkbox(tk) : null, h("button", {
    hl: "queue-item", type: "button", dataset: { ticket: tk.id, status: tk.status, plan: tk.plan },
    "aria-current": String(!!view && view.id === tk.id), onclick: () => openTicket(tk.id),
  },
    h("span", { class: "subj", text: tk.subject }),
    h("span", { class: `chip p${tk.priority}`, text: `${tk.plan} · ${t.priority(tk.priority)}` }),
    h("span", { class: "muted", text: `${tk.customer?.name || ""} · ${t.status[tk.status] || tk.status}` +
      (tk.assignee ? ` · ${whoIs(tk.assignee)}` : "") }),
    h("span", { class: "muted", text: tk.first_response_due ? `${t.due} ${when(tk.first_response_due, loc)}` : t.noDue }),
    slaBadge(tk, t),
    tk.reviewed_at ? h("span", { hl: "reviewed-chip", class: "chip", text: t.reviewedChip }) : tk.category === "callback" ?
      h("span", { hl: "callback-chip", class: "chip p1", text: t.callbackChip }) : null, tagChips(tk.tags)))));
}

/* ---- one ticket ---- */

async function openTicket(id) {
  if (view && view.id !== id) {
    client.typing(view.id, false);
    client.leave(view.id);
  }
  const thread = new ThreadView({ t, loc, me: meId, label: "",
    files: (fid, el, label) => import("../attach.js").then((m) => m.show(client, fid, el, label, t)) });
  const refs = {
    heading: h("h2", { hl: "ticket-subject" }),
    meta: h("div", { class: "meta-row muted" }),
    links: h("div", { class: "meta-row muted" }),
    assign: h("button", { hl: "assign", type: "button", onclick: () => patch(id, { assignee: meId() }) }, t.assignToMe),
    status: h("select", { hl: "status", "aria-label": t.setStatus, onchange: (ev) => patch(id, { status: ev.target.value }) },
      STATUSES.map((s) => h("option", { value: s, text: t.status[s] }))),
    presence: h("div", { hl: "presence", class: "presence", "aria-live": "polite" }),
    collision: h("div", { hl: "collision", class: "collision", "aria-live": "polite", hidden: true }),
    warning: h("div", { hl: "draft-warning", class: "warning", role: "alert", hidden: true, text: t.draftWarning }),
    error: h("div", { hl: "error", class: "warning", role: "alert", hidden: true }),
    sla: slaBadge(queue.get(id) || {}, t),
  };
  refs.tools = ticketTools(client, id, { onTicket: (tk) => upsert(tk, { linked: true }), onError: showError, statusUrl });
  refs.tags = tagEditor(client, id, { onTicket: (tk) => upsert(tk), onError: showError });
  refs.macro = macroPicker(client, id, { onTicket: (tk) => upsert(tk), onError: showError, onNotice: () => {} });
  view = { id, thread, people: new Map(), refs };
  refs.reply = null;
  const form = composer(id);
  history.replaceState(null, "", `?ticket=${encodeURIComponent(id)}`);
  replace($("#ticket-pane"), refs.heading, refs.meta, refs.links,
    h("div", { class: "meta-row" }, refs.assign, h("label", {}, t.setStatus + " ", refs.status), refs.sla, refs.macro),
    refs.tags.el, refs.tools.el, refs.presence, refs.collision, refs.error, thread.el, thread.typingEl, refs.warning, form);
  if (queue.has(id)) renderHeader(queue.get(id));
  notes.opened(id);
  renderPeople();
  renderQueue();
  try {
    const { ticket, messages } = await client.history(id);
    if (!view || view.id !== id) return;
    view.followUps = ticket.follow_ups || []; // only the thread's GET has them; live ticket frames do not
    upsert(ticket, { linked: true });
    for (const m of messages) thread.add(m);
    client.join(id, thread.maxSeq());
  } catch (err) {
    showError(err.message);
    client.join(id);
  }
  for (const p of client.pending(id)) thread.add({ ...p, author: client.user }, "sending");
  markRead();
}

function renderHeader(tk, { linked = false } = {}) {
  const r = view.refs;
  r.tools.render(tk, { linked });
  r.tags.render(tk);
  r.heading.textContent = tk.subject || "";
  replace(r.meta,
    h("span", { text: tk.customer?.name || "" }),
    h("span", { hl: "plan", class: `chip p${tk.priority}`, text: `${tk.plan} · ${t.priority(tk.priority)}` }),
    h("span", { hl: "ticket-status", class: "chip", text: t.status[tk.status] || tk.status }),
    tk.category ? h("span", { text: `${t.category2}: ${tk.category}` }) : null,
    h("span", { text: tk.first_response_due ? `${t.due} ${when(tk.first_response_due, loc)}` : t.noDue }));
  r.status.value = tk.status;
  const mine = assigneeId(tk.assignee) === meId();
  r.assign.disabled = mine;
  r.assign.textContent = tk.assignee ? t.assignedTo(whoIs(tk.assignee)) : t.assignToMe;
  r.sla.update(tk);
  sidebar.show(tk); // the customer and the report's context, laid out (sidebar.js)
  // A follow-up names the closed ticket it continues; the closed one lists its follow-ups (both open here).
  const link = (hl, label, other) => h("span", { hl }, `${label}: `, h("a", { href: `?ticket=${encodeURIComponent(other)}`,
    text: queue.get(other)?.subject || other, onclick: (ev) => { ev.preventDefault(); openTicket(other); } }));
  replace(r.links, tk.follow_up_of ? link("follow-up-of", t.followUpOf, tk.follow_up_of) : null,
    (view.followUps || []).map((other) => link("followed-up-in", t.followedUpIn, other)));
}

/** Customer presence, and the other agents in this ticket (collision), marked when they type. */
function renderPeople() {
  const r = view.refs;
  const customer = queue.get(view.id)?.customer;
  const people = [...view.people.values()];
  const here = people.find((p) => p.user.role === "customer");
  const name = (here && here.user.name) || customer?.name || "";
  r.presence.dataset.online = String(!!here);
  r.presence.textContent = here ? t.customerOnline(name) : t.customerOffline(name);
  const agents = people.filter((p) => p.user.role !== "customer");
  r.collision.hidden = !agents.length;
  r.collision.textContent = agents.length ?
    t.collision(agents.map((p) => p.user.name + (p.typing ? ` (${t.typingShort})` : "")).join(", ")) : "";
}

function composer(id) {
  const r = view.refs;
  const reply = h("textarea", { hl: "reply", name: "reply", rows: "3", required: true, "aria-label": t.reply });
  const internal = h("input", { type: "checkbox", hl: "internal-toggle" });
  const send = h("button", { hl: "send", class: "primary", type: "submit" }, t.reply);
  const tools = h("span", { class: "row" });
  import("../attach.js").then((m) => tools.append(...m.attachControls(client, () => id, reply, t, (s) => {
    if (s && s !== t.uploading) showError(s);
  })));
  r.reply = reply;
  r.internal = internal;
  const draft = keepDraft(reply, meId(), id); // kept across reloads until sent (drafts.js)
  let typingOn = false;
  let idle = 0;
  const stop = () => {
    clearTimeout(idle);
    if (typingOn) client.typing(id, false, typingOn === "internal");
    typingOn = false;
  };
  reply.addEventListener("input", () => {
    if (!reply.value.trim()) r.warning.hidden = true;
    // Typing a note is flagged internal: the server shows it to other agents, never to the customer.
    if (!typingOn && reply.value.trim()) {
      typingOn = internal.checked ? "internal" : "public";
      client.typing(id, true, internal.checked);
    }
    clearTimeout(idle);
    idle = setTimeout(stop, TYPING_IDLE_MS);
  });
  const form = h("form", { hl: "composer", class: "composer", onsubmit: (ev) => {
    ev.preventDefault();
    const text = reply.value.trim();
    if (!text) return;
    stop();
    const item = client.send(id, text, { internal: internal.checked });
    view.thread.add({ ...item, author: client.user }, "sending");
    reply.value = "";
    draft.clear();
    r.warning.hidden = true;
  } }, reply, h("div", { class: "row" },
    h("label", {}, internal, " " + t.internalToggle), cannedPicker(client, id, reply, showError), tools, send));
  internal.addEventListener("change", () => {
    form.classList.toggle("internal-mode", internal.checked);
    send.textContent = internal.checked ? t.addNote : t.reply;
    if (internal.checked) stop();
  });
  return form;
}

async function patch(id, body) {
  try {
    const res = await client.api("PATCH", `/api/tickets/${encodeURIComponent(id)}`, body);
    upsert(res.ticket || res);
    view.refs.error.hidden = true;
  } catch (err) {
    showError(err.message);
  }
}

function showError(message) {
  if (!view) return;
  view.refs.error.textContent = message || t.error;
  view.refs.error.hidden = false;
}

function markRead() {
  if (!view || document.hidden) return;
  const top = view.thread.maxSeq();
  if (top && top > (view.readSeq || 0)) {
    view.readSeq = top;
    client.read(view.id, top);
  }
}

document.addEventListener("visibilitychange", markRead);
main();
