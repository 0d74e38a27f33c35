/**
 * The customer sidebar of the open ticket (data-hl="sidebar"): who the customer is (name, plan, local time), the
 * report's context laid out for a person (page, symbol, timeframe, app version, client errors collapsed when long,
 * then any other field as a labelled line, never raw JSON), the ticket's attachments, every earlier ticket of the
 * customer (linked: it opens in the dashboard) and their open callbacks. All text goes in through textContent.
 */

import { h, replace, when } from "../dom.js";

const ERRORS_SHOWN = 3; // more client errors than this are collapsed behind "Show all"
const LONG_ERROR = 300; // and so is a list holding an error longer than this
const KNOWN = ["page", "symbol", "timeframe", "app_version", "time_zone", "language", "client_errors"];

/** The customer's wall clock now, in their IANA zone; null when the zone is missing or unknown to the browser. */
export function localTime(zone, loc, now = new Date()) {
  if (!zone || typeof zone !== "string") return null;
  try {
    return new Intl.DateTimeFormat(loc, { timeZone: zone, weekday: "short", hour: "2-digit", minute: "2-digit" })
      .format(now);
  } catch {
    return null; // a zone this browser does not know
  }
}

/** A context value as readable text: scalars as they are, lists one per line, objects as "key: value" lines. */
function readable(value, depth = 0) {
  if (value === null || value === undefined) return "";
  if (typeof value !== "object") return String(value);
  if (depth > 3) return "…";
  if (Array.isArray(value)) return value.map((v) => readable(v, depth + 1)).join("\n");
  return Object.entries(value).map(([k, v]) => `${label(k)}: ${readable(v, depth + 1)}`).join("\n");
}

const label = (key) => String(key).replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());

function row(hl, name, value) {
  return h("div", { class: "ctx-row", hl }, h("dt", { text: name }), h("dd", { text: value }));
}

function errorsBlock(errors, t) {
  const list = (Array.isArray(errors) ? errors : [errors]).map((e) => readable(e)).filter(Boolean);
  if (!list.length) return null;
  const items = (rows) => h("ol", { class: "ctx-errors" }, rows.map((e) => h("li", { hl: "client-error", text: e })));
  const long = list.length > ERRORS_SHOWN || list.some((e) => e.length > LONG_ERROR);
  const title = t.clientErrors(list.length);
  if (!long) return h("div", { hl: "client-errors" }, h("strong", { text: title }), items(list));
  // Collapsed: the summary names the first error, the rest opens on demand.
  return h("details", { hl: "client-errors" },
    h("summary", { text: `${title} · ${t.showAll(list.length)}` }), items(list));
}

/** The context of a report as rows; `page_url` is the page the widget was on when the ticket was sent. */
export function contextRows(tk, t) {
  const ctx = tk.context && typeof tk.context === "object" && !Array.isArray(tk.context) ? tk.context : {};
  const rows = [];
  const page = tk.page_url || ctx.page_url;
  if (page || ctx.page) rows.push(row("ctx-page", t.ctxPage, [ctx.page, page].filter(Boolean).join(" · ")));
  if (ctx.symbol) rows.push(row("ctx-symbol", t.ctxSymbol, readable(ctx.symbol)));
  if (ctx.timeframe) rows.push(row("ctx-timeframe", t.ctxTimeframe, readable(ctx.timeframe)));
  if (ctx.app_version) rows.push(row("ctx-app-version", t.ctxAppVersion, readable(ctx.app_version)));
  if (ctx.time_zone) rows.push(row("ctx-time-zone", t.ctxTimeZone, readable(ctx.time_zone)));
  if (ctx.language) rows.push(row("ctx-language", t.ctxLanguage, readable(ctx.language)));
  for (const [key, value] of Object.entries(ctx)) {
    if (KNOWN.includes(key) || key === "page_url" || value === null || value === "") continue;
    rows.push(row("ctx-other", label(key), readable(value)));
  }
  return { rows, errors: ctx.client_errors ? errorsBlock(ctx.client_errors, t) : null };
}

/**
 * The sidebar. show(tk) draws it for the open ticket (again on every change of the ticket; the lists are only
 * reloaded when the ticket or customer changes); openTicket(id) opens an earlier ticket.
 */
export function customerSidebar(client, t, loc, openTicket) {
  const el = h("aside", { hl: "sidebar", class: "pane sidebar", "aria-label": t.sidebar });
  const parts = {
    who: h("section", { class: "sb-who" }),
    context: h("section", { class: "sb-context" }),
    files: h("ul", { hl: "sidebar-attachments", class: "sb-list" }),
    tickets: h("ul", { hl: "sidebar-tickets", class: "sb-list" }),
    callbacks: h("ul", { hl: "sidebar-callbacks", class: "sb-list" }),
  };
  const clock = h("span", { hl: "local-time" });
  let shown = null; // { ticket, customer, zone }
  el.hidden = true;
  el.append(parts.who, parts.context,
    h("h3", { text: t.attachments }), parts.files,
    h("h3", { text: t.earlierTickets }), parts.tickets,
    h("h3", { text: t.openCallbacks }), parts.callbacks);

  const tickClock = () => {
    if (!shown) return;
    const now = localTime(shown.zone, loc);
    clock.textContent = now || t.localTimeUnknown;
    clock.dataset.zone = now ? shown.zone : "";
  };
  setInterval(tickClock, 30_000);

  async function loadLists(tk) {
    const cid = tk.customer?.id;
    const mine = (rows) => shown && shown.ticket === tk.id && rows;
    const [files, earlier, callbacks] = await Promise.all([
      client.api("GET", `/api/tickets/${encodeURIComponent(tk.id)}/attachments`).catch(() => null),
      cid ? client.api("GET", `/api/customers/${encodeURIComponent(cid)}/tickets`).catch(() => null) : null,
      client.api("GET", "/api/callbacks").catch(() => null),
    ]);
    if (!mine(true)) return;
    const fileRows = files ? files.attachments || files.items || (Array.isArray(files) ? files : []) : [];
    replace(parts.files, fileRows.length ? fileRows.map((f) => {
      const slot = h("span", { text: f.filename || f.id });
      import("../attach.js").then((m) => m.show(client, f.id, slot, f.filename || f.id, t));
      return h("li", { hl: "sidebar-attachment", dataset: { attachment: f.id } }, slot);
    }) : h("li", { class: "muted", text: t.noAttachments }));
    const others = (earlier?.tickets || []).filter((o) => o.id !== tk.id);
    replace(parts.tickets, others.length ? others.map((o) => h("li", {}, h("button", {
      type: "button", class: "link", hl: "sidebar-ticket", dataset: { ticket: o.id, status: o.status },
      onclick: () => openTicket(o.id),
    }, h("span", { text: o.subject }), h("span", { class: "muted",
      text: ` · ${t.status[o.status] || o.status} · ${when(o.created_at, loc)}` })))) :
      h("li", { class: "muted", text: t.noEarlierTickets }));
    const open = (callbacks?.callbacks || []).filter((c) => c.customer?.id === cid);
    replace(parts.callbacks, open.length ? open.map((c) => h("li", { hl: "sidebar-callback", dataset: { ticket: c.ticket } },
      h("button", { type: "button", class: "link", onclick: () => openTicket(c.ticket),
        text: [c.phone, c.preferred_time, c.note].filter(Boolean).join(" · ") }))) :
      h("li", { class: "muted", text: t.noCallbacks }));
  }

  function show(tk) {
    const zone = tk.context && typeof tk.context.time_zone === "string" ? tk.context.time_zone : null;
    const fresh = !shown || shown.ticket !== tk.id;
    shown = { ticket: tk.id, customer: tk.customer?.id, zone };
    el.hidden = false;
    el.dataset.ticket = tk.id;
    replace(parts.who,
      h("h2", { hl: "sidebar-name", text: tk.customer?.name || tk.customer?.id || "" }),
      h("div", { class: "meta-row" },
        h("span", { hl: "sidebar-plan", class: `chip p${tk.priority}`, text: tk.plan }),
        h("span", { class: "muted", text: tk.customer?.id || "" })),
      h("div", { class: "muted" }, `${t.localTime}: `, clock));
    tickClock();
    const { rows, errors } = contextRows(tk, t);
    replace(parts.context, h("h3", { text: t.reportContext }),
      rows.length ? h("dl", { hl: "report-context", class: "ctx" }, rows) : null, errors);
    if (fresh) {
      for (const list of [parts.files, parts.tickets, parts.callbacks]) replace(list);
      loadLists(tk);
    }
  }

  /** An attachment was posted to the open ticket (a message line): reload the lists. */
  const refresh = (tk) => tk && shown && shown.ticket === tk.id && loadLists(tk);
  return { el, show, refresh };
}
