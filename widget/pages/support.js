/**
 * The Support tab (/support): every ticket of the signed-in customer with its whole thread, read over the HTTP API
 * so it stays readable without a live connection, and live (messages, typing, presence) when /ws is up.
 */

import { HelplineClient, tokenClaims } from "../client.js";
import { h, replace, when } from "../dom.js";
import { locale, strings } from "../i18n.js";
import { loadPage, pageToken, signInPicker, signOut } from "../session.js";
import { ThreadView } from "../thread.js";

const TYPING_IDLE_MS = 3000;
// The page's words in the viewer's language before anything renders (token `locale` claim > ?lang= > browser).
await loadPage("customer", ["widget", "support"]);
const t = strings();
const loc = locale();
const $ = (sel) => document.querySelector(sel);

let client = null;
let tickets = new Map();
let current = null; // { id, thread, presenceEl, agents: Map }
let filter = "all"; // which tickets the list shows: all | open | waiting | solved (FILTERS)
let query = ""; // the search box, folded (foldText)
// "Waiting" is a ticket waiting on the customer (pending); "solved" includes the closed ones.
const FILTERS = { all: null, open: ["open"], waiting: ["pending"], solved: ["solved", "closed"] };

async function main() {
  document.title = `${t.title} · Helpline`;
  $("#title").textContent = t.title;
  $("#list-title").textContent = t.yourTickets;
  $("#empty-hint").textContent = t.pickRequest;
  $("#sign-out").textContent = t.signOut;
  $("#sign-out").addEventListener("click", (ev) => { ev.preventDefault(); signOut("customer"); location.reload(); });
  linkStatusPage();
  const token = await pageToken("customer");
  if (!token) {
    replace($("#sign-in-slot"), await signInPicker("customer", t, () => location.reload()));
    return;
  }
  client = new HelplineClient({ token });
  wire();
  client.connect();
  planNotes();
  listTools();
  yourData();
  await loadList();
  const wanted = new URLSearchParams(location.search).get("ticket");
  if (wanted) openTicket(wanted);
}

async function linkStatusPage() {
  try {
    const config = await (await fetch("/api/config")).json();
    if (config.status_url) Object.assign($("#status-link"), { href: config.status_url, hidden: false });
  } catch { /* no status page configured */ }
}

/** What the user's plan promises: the expected reply time (paid), the notice (free), the phone line (premium). */
async function planNotes() {
  const slot = $("#plan-slot");
  const plan = tokenClaims(client.token).plan || "free";
  if (plan === "free") {
    slot.append(h("p", { hl: "free-notice", class: "notice", text: t.freeNotice }));
    return;
  }
  try {
    const e = await client.api("GET", "/api/support/expected");
    if (e.expected_s != null) {
      slot.append(h("p", { hl: "expected", class: "notice",
        text: t.expected(t.minutes(Math.max(1, Math.ceil(e.expected_s / 60))), e.queue_ahead) }));
    }
  } catch { /* no estimate: say nothing rather than guess */ }
  if (plan === "premium") {
    const box = await (await import("../callback.js")).supportOptions(client, t, (id) => loadList().then(() => openTicket(id)));
    if (box) slot.append(box);
  }
}

function wire() {
  const conn = $('[data-hl="connection"]');
  client.on("state", (s) => {
    conn.hidden = false;
    conn.dataset.state = s;
    conn.textContent = s === "online" ? t.liveShort : s === "unauthorized" ? t.unauthorized : s === "connecting" ? t.connecting : t.offlineShort;
  });
  client.on("welcome", () => loadList());
  client.on("ticket", (f) => {
    const was = tickets.get(f.ticket.id) || {};
    tickets.set(f.ticket.id, { ...was, ...f.ticket });
    renderList();
    if (current && f.ticket.id === current.id) {
      renderMeta(tickets.get(f.ticket.id));
      syncComposer();
    }
  });
  client.on("error", (f) => {
    // A closed ticket refused the message: it is marked not sent, and the follow-up replaces the composer.
    if (f.reason !== "ticket_closed" || !current) return;
    const el = f.ref && current.thread.el.querySelector(`[data-client-id="${CSS.escape(f.ref)}"]`);
    if (!el) return;
    current.thread.setState(el, "failed");
    const tk = tickets.get(current.id);
    if (tk && tk.status !== "closed") {
      tk.status = "closed";
      renderList();
      renderMeta(tk);
    }
    syncComposer();
  });
  client.on("joined", (f) => {
    if (!current || f.ticket !== current.id) return;
    for (const m of f.messages || []) current.thread.add(m);
    current.thread.readCursors(f.read);
    current.agents.clear();
    for (const u of f.presence || []) if (u.role !== "customer") current.agents.set(u.id, u);
    renderPresence();
    markRead();
  });
  client.on("message", (m) => {
    const tk = tickets.get(m.ticket);
    if (tk) {
      const news = m.seq > (tk.last_seq || 0) && m.author?.id !== client.user?.id; // not an echo of our own words
      const before = unreadOf(tk);
      tk.updated_at = m.created_at;
      tk.last_seq = Math.max(tk.last_seq || 0, m.seq);
      if (!(current && current.id === m.ticket)) tk.unread = before + (news ? 1 : 0);
    }
    if (current && m.ticket === current.id) {
      current.thread.add(m);
      markRead();
    }
    renderList();
  });
  client.on("ack", (a) => current && a.ticket === current.id && current.thread.ack(a.client_id, a.seq));
  client.on("typing", (f) => current && f.ticket === current.id && current.thread.typing(f.user, f.active));
  client.on("read", (f) => current && f.ticket === current.id && current.thread.read(f.user, f.seq));
  client.on("presence", (f) => {
    if (!current || f.ticket !== current.id || f.user.role === "customer") return;
    if (f.online) current.agents.set(f.user.id, f.user);
    else current.agents.delete(f.user.id);
    renderPresence();
  });
}

async function loadList() {
  try {
    const list = await client.tickets(100);
    tickets = new Map(list.map((tk) => [tk.id, tk]));
    renderList();
    syncComposer();
  } catch (err) {
    if (!tickets.size) replace($('[data-hl="ticket-list"]'), h("li", { class: "muted", text: t.loadFailed }));
  }
}

/** The server's count (others' messages the customer may see, never notes or their own), kept live here. */
function unreadOf(tk) {
  if (current && current.id === tk.id) return 0;
  return tk.unread ?? Math.max(0, (tk.last_seq || 0) - (tk.read_seq || 0));
}

/** Lower case without diacritics, so "hoan tien" finds "Hoàn tiền" and "REFUND" finds "refund". */
function foldText(text) {
  return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/gi, "d").toLowerCase();
}

/** The search box and the status filter above the list. */
function listTools() {
  const search = h("input", { hl: "ticket-search", type: "search", placeholder: t.searchTickets, "aria-label": t.searchTickets,
    oninput: () => { query = foldText(search.value.trim()); renderList(); } });
  const names = { all: t.filterAll, open: t.filterOpen, waiting: t.filterWaiting, solved: t.filterSolved };
  const buttons = Object.keys(FILTERS).map((key) => h("button", { hl: "ticket-filter", type: "button",
    dataset: { filter: key }, "aria-pressed": String(key === filter), text: names[key], onclick: () => {
      filter = key;
      for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.filter === key));
      renderList();
    } }));
  $("#list-tools").replaceChildren(h("div", { class: "filters", role: "group", "aria-label": t.searchTickets }, search, buttons));
}

function shown(tk) {
  const statuses = FILTERS[filter];
  return (!statuses || statuses.includes(tk.status)) && (!query || foldText(tk.subject).includes(query));
}

function renderList() {
  const all = [...tickets.values()].sort((a, b) => String(b.updated_at).localeCompare(String(a.updated_at)));
  const list = all.filter(shown);
  const ul = $('[data-hl="ticket-list"]');
  if (!list.length) {
    replace(ul, h("li", { class: "muted", text: all.length ? t.noMatch : t.noTickets }));
    return;
  }
  replace(ul, list.map((tk) => {
    const unread = unreadOf(tk);
    return h("li", {}, h("button", {
      hl: "ticket-item", type: "button", dataset: { ticket: tk.id, status: tk.status },
      "aria-current": String(!!current && current.id === tk.id), onclick: () => openTicket(tk.id),
    },
      h("span", { class: "subj", text: tk.subject }),
      unread ? h("span", { hl: "unread", class: "badge", "aria-label": t.unread(unread), text: unread }) : h("span"),
      h("span", { class: "meta-row" },
        h("span", { hl: "status", class: "chip", text: t.status[tk.status] || tk.status }),
        h("span", { hl: "priority", class: `chip p${tk.priority}`, text: t.priorityName[tk.priority] || "" }),
        tk.reviewed_at ? h("span", { hl: "reviewed", class: "chip", text: "✓ " + t.reviewed }) : null),
      h("span", { class: "muted", title: t.lastActivity, text: when(tk.updated_at, loc) })));
  }));
}

async function openTicket(id) {
  if (current && current.id !== id) client.leave(current.id);
  const thread = new ThreadView({ t, loc, me: () => client.user?.id || tokenClaims(client.token).sub, label: "",
    files: (fid, el, label) => import("../attach.js").then((m) => m.show(client, fid, el, label, t)) });
  const meta = h("div", { class: "meta-row muted" });
  current = { id, thread, meta, state: h("div"), presenceEl: h("div", { hl: "presence", class: "presence", "aria-live": "polite" }),
    agents: new Map(), links: h("div", { class: "links" }), due: h("p", { hl: "first-reply", class: "notice", hidden: true }) };
  current.composer = composer(id);
  history.replaceState(null, "", `?ticket=${encodeURIComponent(id)}`);
  const heading = h("h2", { hl: "ticket-subject", text: tickets.get(id)?.subject || "" });
  replace($("#ticket-pane"), heading, meta, current.links, current.due, current.presenceEl, thread.el, thread.typingEl,
    current.state, current.composer);
  renderList();
  renderPresence();
  try {
    const { ticket, messages } = await client.history(id);
    if (!current || current.id !== id) return;
    tickets.set(id, { ...(tickets.get(id) || {}), ...ticket });
    heading.textContent = ticket.subject;
    thread.el.setAttribute("aria-label", ticket.subject);
    renderMeta(tickets.get(id));
    syncComposer();
    for (const m of messages) thread.add(m);
    client.join(id, thread.maxSeq());
  } catch {
    meta.textContent = t.loadFailed;
    client.join(id);
  }
  for (const p of client.pending(id)) thread.add({ ...p, author: client.user }, "sending");
  markRead();
}

/** The open ticket's status line, "received and reviewed", and the satisfaction question once it is solved. */
function renderMeta(tk) {
  // Human words only: the plan's name, never "P4"; the category's label, never its internal name.
  replace(current.meta, h("span", { class: "chip", text: t.status[tk.status] || tk.status }),
    h("span", { class: `chip p${tk.priority}`, text: t.priorityName[tk.priority] || "" }),
    tk.reviewed_at ? h("span", { hl: "reviewed", class: "chip", text: "✓ " + t.reviewed }) : null,
    tk.category && t.categories[tk.category] ? h("span", { hl: "category", text: `${t.category2}: ${t.categories[tk.category]}` }) : null,
    h("span", { text: `${t.lastActivity}: ${when(tk.updated_at, loc)}` }));
  // "First reply expected within …" until the first agent reply (the due time is the server's, business hours
  // counted); a plan without a target (free) has none, and nothing shows after the first reply.
  const left = tk.first_response_due && !tk.first_response_at && tk.status !== "solved" && tk.status !== "closed"
    ? Math.ceil((Date.parse(tk.first_response_due) - Date.now()) / 60000) : null;
  current.due.hidden = left === null || Number.isNaN(left);
  current.due.textContent = left > 0 ? t.firstReplyWithin(t.minutes(left)) : t.firstReplySoon;
  const link = (hl, label, other) => h("p", { hl, class: "muted" }, `${label}: `,
    h("button", { type: "button", class: "link", dataset: { ticket: other }, onclick: () => openTicket(other) },
      tickets.get(other)?.subject || other));
  const ups = tk.follow_ups || [...tickets.values()].filter((x) => x.follow_up_of === tk.id).map((x) => x.id);
  replace(current.links, tk.follow_up_of ? link("follow-up-of", t.followUpOf, tk.follow_up_of) : null,
    ups.map((other) => link("followed-up-in", t.followedUpIn, other)));
  if ((tk.status === "solved" || tk.status === "closed") && !current.csat) {
    const id = tk.id;
    current.csat = true;
    import("../csat.js").then((m) => m.csatPrompt(client, id, t))
      .then((form) => form && current && current.id === id && current.state.append(form), () => {});
  }
}

function markRead() {
  if (!current || document.hidden) return;
  const top = current.thread.maxSeq();
  if (top && top > (current.readSeq || 0)) {
    current.readSeq = top;
    client.read(current.id, top);
    const tk = tickets.get(current.id);
    if (tk) {
      tk.read_seq = Math.max(tk.read_seq || 0, top);
      tk.unread = 0;
    }
  }
}

function renderPresence() {
  if (!current) return;
  const names = [...current.agents.values()].map((u) => u.name);
  current.presenceEl.dataset.online = String(names.length > 0);
  const free = (tokenClaims(client.token).plan || "free") === "free";
  current.presenceEl.textContent = names.length ? t.agentOnline(names.join(", ")) : free ? t.noAgentFree : t.noAgent;
}

/** The open ticket's composer matches its status: a closed one gets the follow-up offer instead (once). */
function syncComposer() {
  const tk = current && tickets.get(current.id);
  if (tk && tk.status === "closed" && current.composer.dataset.hl !== "closed-notice") {
    current.composer.replaceWith(current.composer = composer(tk.id));
  }
}

/** A closed ticket takes no message (the server refuses it): a follow-up, linked back to it, is offered instead. */
function followUpOffer(tk) {
  const box = h("div", { hl: "closed-notice", class: "closed-notice" }, h("p", { class: "muted", text: t.closedNotice }));
  const start = h("button", { hl: "follow-up", class: "primary", type: "button", text: t.followUp, onclick: async () => {
    const { ticketForm } = await import("../embed/intake.js");
    const plan = tokenClaims(client.token).plan || "free";
    const form = ticketForm({ client, base: "", t, plan, context: () => ({}), followUp: tk, onTicket: async (created) => {
      tickets.set(created.id, created);
      await loadList();
      openTicket(created.id);
    } });
    start.replaceWith(form.el);
    form.subject.focus();
  } });
  box.append(start);
  return box;
}

function composer(id) {
  const tk = tickets.get(id);
  if (tk && tk.status === "closed") return followUpOffer(tk);
  const input = h("textarea", { hl: "composer-input", name: "message", rows: "3", required: true });
  let typingOn = false;
  let idle = 0;
  const stop = () => {
    clearTimeout(idle);
    if (typingOn) client.typing(id, false);
    typingOn = false;
  };
  input.addEventListener("input", () => {
    if (!typingOn && input.value.trim()) client.typing(id, (typingOn = true));
    clearTimeout(idle);
    idle = setTimeout(stop, TYPING_IDLE_MS);
  });
  const note = h("span", { hl: "upload-state", class: "muted", "aria-live": "polite" });
  const tools = h("span", { class: "row" });
  import("../attach.js").then((m) => tools.prepend(...m.attachControls(client, () => id, input, t, (s) => { note.textContent = s; })));
  tools.append(note);
  const form = h("form", { hl: "composer", class: "composer", onsubmit: (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    stop();
    const item = client.send(id, text);
    current.thread.add({ ...item, author: client.user }, "sending");
    input.value = "";
  } }, h("label", {}, h("span", { class: "sr", text: t.composer }), input),
    h("div", { class: "row" }, tools, h("button", { hl: "send", class: "primary", type: "submit" }, t.send)));
  return form;
}

/** "Download my data" (GET /api/me/export as a JSON file) and "Delete my data" (POST /api/me/erase, confirmed first). */
function yourData() {
  const note = h("p", { hl: "data-state", class: "muted", role: "status" });
  const download = h("button", { hl: "download-data", type: "button", text: t.downloadData, onclick: async () => {
    try {
      const data = await client.api("GET", "/api/me/export");
      const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
      const a = h("a", { href: url, download: "helpline-my-data.json", hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch {
      note.textContent = t.error;
    }
  } });
  const confirmBox = h("div", { hl: "delete-confirmation", class: "notice", role: "alertdialog", hidden: true,
    "aria-label": t.deleteData },
    h("p", { text: t.deleteConfirm }),
    h("div", { class: "row" },
      h("button", { hl: "delete-confirm", class: "danger", type: "button", text: t.deleteData, onclick: async () => {
        try {
          await client.api("POST", "/api/me/erase");
          confirmBox.hidden = true;
          note.textContent = t.deleteDone;
          current = null;
          replace($("#ticket-pane"), h("p", { class: "muted", text: t.pickRequest }));
          await loadList();
        } catch {
          note.textContent = t.error;
        }
      } }),
      h("button", { hl: "delete-cancel", type: "button", text: t.cancel, onclick: () => {
        confirmBox.hidden = true;
        erase.focus();
      } })));
  const erase = h("button", { hl: "delete-data", type: "button", text: t.deleteData, onclick: () => {
    confirmBox.hidden = false;
    confirmBox.querySelector('[data-hl="delete-cancel"]').focus();
  } });
  $("#your-data").replaceChildren(h("h2", { text: t.yourData }), h("div", { class: "your-data" }, download, erase), confirmBox, note);
}

document.addEventListener("visibilitychange", markRead);
main();
