/**
 * Search on the agent dashboard: the box (data-hl="search") over GET /api/search with filters (status, plan,
 * assignee, tag, breached, dates), results paged by cursor (data-hl="search-results"), and the team's saved views
 * (data-hl="views"; POST /api/views saves the current filters under a name). All text goes in as text.
 */

import { h, replace, when } from "../dom.js";
import { locale, strings } from "../i18n.js";


const option = (value, text) => h("option", { value, text });

export function searchPanel(client, { openTicket, onError }) {
  const all = strings(); // read when used: the page loads the catalogue first
  const t = all.tools;
  const loc = locale();
  const box = h("input", { hl: "search", type: "search", maxlength: "200", placeholder: t.search, "aria-label": t.search });
  const fields = {
    status: h("select", { hl: "search-status", "aria-label": all.setStatus },
      option("", t.anyStatus), option("active", t.active),
      ["open", "pending", "solved", "closed"].map((s) => option(s, all.status[s]))),
    plan: h("select", { hl: "search-plan", "aria-label": t.anyPlan },
      option("", t.anyPlan), ["premium", "pro_plus", "pro", "free"].map((p) => option(p, p))),
    assignee: h("select", { hl: "search-assignee", "aria-label": t.anyAssignee },
      option("", t.anyAssignee), option("me", t.me), option("none", t.unassigned)),
    tag: h("input", { hl: "search-tag", type: "text", maxlength: "40", size: "10", placeholder: t.tagFilter, "aria-label": t.tagFilter }),
    breached: h("select", { hl: "search-breached", "aria-label": t.breachedAny },
      option("", t.breachedAny), option("true", t.breached), option("false", t.notBreached)),
    since: h("input", { hl: "search-since", type: "date", "aria-label": t.since }),
    until: h("input", { hl: "search-until", type: "date", "aria-label": t.until }),
  };
  const results = h("ul", { hl: "search-results", class: "list", hidden: true, "aria-live": "polite" });
  const more = h("button", { hl: "search-more", type: "button", hidden: true, onclick: () => run(next) }, t.more);
  const views = h("select", { hl: "views", "aria-label": t.views, onchange: () => pickView(views.value) });
  const viewName = h("input", { hl: "view-name", type: "text", maxlength: "100", placeholder: t.viewName, "aria-label": t.viewName, hidden: true });
  const saveConfirm = h("button", { hl: "save-view-confirm", type: "button", hidden: true, onclick: () => saveView() }, t.saveView);
  const save = h("button", { hl: "save-view", type: "button", onclick: () => {
    viewName.hidden = saveConfirm.hidden = false;
    viewName.focus();
  } }, t.saveView);
  let next = null;
  let savedViews = [];

  function filters() {
    const f = { q: box.value.trim() };
    for (const [name, el] of Object.entries(fields)) f[name] = el.value.trim();
    return Object.fromEntries(Object.entries(f).filter(([, v]) => v));
  }

  async function run(cursor = null) {
    const f = filters();
    const params = new URLSearchParams(f);
    if (cursor) params.set("cursor", cursor);
    try {
      const page = await client.api("GET", "/api/search?" + params);
      if (!cursor) replace(results);
      results.hidden = false;
      if (!cursor && !page.results.length) results.append(h("li", { class: "muted", hl: "search-empty", text: t.noResults }));
      for (const hit of page.results) results.append(item(hit));
      next = page.next;
      more.hidden = !next;
    } catch (err) {
      onError(err.message);
    }
  }

  function item({ ticket, snippet }) {
    return h("li", {}, h("button", { hl: "search-result", type: "button", dataset: { ticket: ticket.id }, onclick: () => openTicket(ticket.id) },
      h("span", { class: "subj", text: ticket.subject }),
      h("span", { class: "muted", text: `${ticket.customer?.name || ""} · ${all.status[ticket.status] || ticket.status} · ${when(ticket.created_at, loc)}` }),
      (ticket.tags || []).map((tag) => h("span", { hl: "tag", class: "chip tag", text: tag })),
      snippet ? h("span", { hl: "search-snippet", class: "snippet", text: snippet }) : null));
  }

  function reset() {
    box.value = "";
    for (const el of Object.values(fields)) el.value = "";
    replace(results);
    results.hidden = more.hidden = true;
    views.value = "";
    moreFilters.open = false;
  }

  async function loadViews(selectId = "") {
    try {
      savedViews = await client.api("GET", "/api/views");
    } catch {
      savedViews = [];
    }
    replace(views, option("", t.pickView), savedViews.map((v) => option(v.id, v.name)));
    views.value = selectId;
  }

  function pickView(id) {
    const found = savedViews.find((v) => v.id === id);
    if (!found) return;
    const f = found.filters || {};
    box.value = f.q || "";
    for (const [name, el] of Object.entries(fields)) {
      const value = f[name];
      el.value = value === undefined || value === null ? "" : String(value);
    }
    moreFilters.open = Object.values(fields).some((el) => el.value); // what the view narrows by, in sight
    run();
  }

  async function saveView() {
    const name = viewName.value.trim();
    if (!name) return;
    const f = filters();
    const body = { ...f };
    if (body.breached) body.breached = body.breached === "true";
    try {
      const created = await client.api("POST", "/api/views", { name, filters: body });
      viewName.value = "";
      viewName.hidden = saveConfirm.hidden = true;
      await loadViews(created.id);
    } catch (err) {
      onError(err.message);
    }
  }

  // Folded until wanted: open, they would sit right above the queue's own filters and read as a second copy.
  const moreFilters = h("details", { hl: "search-filters", class: "search-filters" },
    h("summary", { text: t.searchFilters }),
    h("div", { class: "filters row" }, fields.status, fields.plan, fields.assignee, fields.tag, fields.breached,
      h("label", { class: "muted" }, t.since + " ", fields.since), h("label", { class: "muted" }, t.until + " ", fields.until)));
  const form = h("form", { hl: "search-form", class: "search", role: "search", onsubmit: (ev) => {
    ev.preventDefault();
    run();
  } },
    h("div", { class: "row" }, box, h("button", { type: "submit", hl: "search-submit" }, t.searchButton),
      h("button", { type: "button", hl: "search-clear", onclick: reset }, t.clear)),
    moreFilters,
    h("div", { class: "row" }, views, save, viewName, saveConfirm));
  loadViews();
  return { el: h("div", { class: "search-panel" }, form, results, more), run };
}
