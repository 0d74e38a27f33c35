// The incident desk: admins sign in with their admin token (kept by the browser as an HttpOnly session cookie),
// open, update and resolve incidents and maintenances, see a preview of the status page and the widget's banner
// before publishing, and read the audit log. Every text is set with textContent: nothing typed becomes HTML.

// The words come from the shared catalogue (locales/*.json, `status.desk.*`), chosen by the server for the viewer's
// language (?lang=, Accept-Language) and carried in the page as a JSON data block (not a script: CSP allows it).
const words = document.getElementById("desk-words");
const W = words ? JSON.parse(words.textContent) : {};
const LANG = document.documentElement.lang || "en";
const fill = (text, params) => String(text).replace(/\{(\w+)\}/g, (all, k) => (k in params ? params[k] : all));
const group = (name) => Object.fromEntries(Object.entries(W).filter(([k]) => k.startsWith(name + "."))
  .map(([k, v]) => [k.slice(name.length + 1), v]));
const t = {
  ...Object.fromEntries(Object.entries(W).filter(([k]) => !k.includes("."))),
  signedIn: (name) => fill(W.signedIn, { name }), updating: (name) => fill(W.updating, { name }),
  statuses: group("statuses"), impacts: group("impacts"), actions: group("actions"),
};
document.documentElement.lang = LANG;
document.title = t.title;

const INCIDENT_STATUSES = ["investigating", "identified", "monitoring", "resolved"];
const MAINTENANCE_STATUSES = ["scheduled", "in_progress", "verifying", "completed"];
const IMPACTS = ["none", "minor", "major", "critical"];

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") el.textContent = v;
    else if (k === "hl") el.dataset.hl = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c);
  return el;
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method, credentials: "same-origin", cache: "no-store",
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error((data.error && data.error.message) || res.statusText), { status: res.status });
  return data;
}

const root = document.getElementById("desk");
const state = { components: [], active: [], form: null };

function signinView(message) {
  const token = h("textarea", { hl: "desk-token", id: "token", rows: 4, autocomplete: "off", spellcheck: "false" });
  const error = h("p", { class: "error", role: "alert", text: message || "" });
  const form = h("form", { hl: "desk-signin", class: "card", onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      await api("POST", "/api/session", { token: token.value.trim() });
      await start();
    } catch (err) {
      error.textContent = err.message;
    }
  } }, h("p", { text: t.signinHint }), h("label", { for: "token", text: t.token }), token, error,
  h("button", { hl: "desk-signin-submit", class: "primary", type: "submit", text: t.signin }));
  root.replaceChildren(h("h1", { text: t.title }), form);
}

function field(label, input) {
  return [h("label", { for: input.id, text: label }), input];
}

function options(values, names, selected) {
  return values.map((v) => h("option", { value: v, selected: v === selected, text: names[v] || v }));
}

// The form's fields as one value: what the preview draws and what publish sends.
function draft() {
  const f = state.form;
  const checked = [...f.components.querySelectorAll("input:checked")].map((i) => i.value);
  return {
    kind: f.kind, target: f.target, name: f.target ? f.target.name : f.name.value.trim(), status: f.status.value,
    impact: f.impact ? f.impact.value : "maintenance", components: checked, body: f.body.value.trim(),
    scheduled_for: f.from ? f.from.value : null, scheduled_until: f.until ? f.until.value : null,
  };
}

function previewPage(d) {
  const names = Object.fromEntries(state.components.map((c) => [c.id, c.name]));
  const affects = d.components.map((c) => names[c] || c).join(", ");
  return h("article", { class: `incident impact-${d.impact}`, hl: "preview-page", "data-status": d.status },
    h("h3", { text: d.name || "…" }),
    affects ? h("p", { class: "affected", text: `${t.affects}: ${affects}` }) : null,
    h("ol", { class: "updates" }, h("li", {}, h("strong", { text: t.statuses[d.status] || d.status }),
      h("p", { text: d.body || "…" }))));
}

// The same markup as the widget's banner (widget/embed/app.js refreshBanner): a title line and the latest update.
function previewWidget(d) {
  if (d.kind === "maintenance") return h("p", { class: "muted", hl: "preview-banner", text: t.maintenanceNoBanner });
  if (d.status === "resolved") return h("p", { class: "muted", hl: "preview-banner", text: t.bannerGone });
  return h("div", { class: "preview-banner", hl: "preview-banner", role: "status" },
    h("strong", { text: `${t.incidentWord}: ${d.name || "…"}` }), h("span", { text: d.body || "…" }));
}

function drawPreview() {
  const d = draft();
  state.form.preview.replaceChildren(
    h("h2", { text: t.preview }), h("h3", { text: t.previewPage }), previewPage(d),
    h("h3", { text: t.previewWidget }), previewWidget(d));
}

function composer(kind, target = null, resolving = false) {
  const statuses = kind === "maintenance" ? MAINTENANCE_STATUSES : INCIDENT_STATUSES;
  const initial = resolving ? statuses[3] : target ? target.status : statuses[0];
  const f = { kind, target };
  f.name = target ? null : h("input", { type: "text", id: "f-name", hl: "desk-name", maxlength: 300, required: true });
  f.status = h("select", { id: "f-status", hl: "desk-status" }, options(statuses, t.statuses, initial));
  f.impact = kind === "incident"
    ? h("select", { id: "f-impact", hl: "desk-impact" }, options(IMPACTS, t.impacts, target ? target.impact : "minor"))
    : null;
  const on = new Set(target ? target.components : []);
  f.components = h("fieldset", { hl: "desk-components" }, h("legend", { text: t.components }),
    state.components.map((c) => h("label", {}, h("input", { type: "checkbox", value: c.id, checked: on.has(c.id) }), ` ${c.name}`)));
  f.body = h("textarea", { id: "f-body", hl: "desk-body", maxlength: 10000, required: true });
  f.from = kind === "maintenance" && !target ? h("input", { type: "datetime-local", id: "f-from", hl: "desk-from" }) : null;
  f.until = kind === "maintenance" && !target ? h("input", { type: "datetime-local", id: "f-until", hl: "desk-until" }) : null;
  f.message = h("p", { role: "status", hl: "desk-message" });
  f.preview = h("section", { class: "card", hl: "preview" });
  const heading = target ? t.updating(target.name) : kind === "maintenance" ? t.newMaintenance : t.newIncident;
  const form = h("form", { class: "card", hl: "incident-form", "data-kind": kind, oninput: drawPreview, onchange: drawPreview,
    onsubmit: (ev) => { ev.preventDefault(); publish(); } },
  h("h2", { text: heading }),
  f.name ? field(t.name, f.name) : null, field(t.status, f.status), f.impact ? field(t.impact, f.impact) : null,
  f.from ? field(t.from, f.from) : null, f.until ? field(t.until, f.until) : null,
  f.components, field(t.message, f.body), f.message,
  h("div", { class: "row" }, h("button", { class: "primary", type: "submit", hl: "publish", text: t.publish }),
    h("button", { type: "button", text: t.cancel, onclick: () => { state.form = null; draw(); } })));
  f.element = h("div", { class: "desk-grid" }, form, f.preview);
  state.form = f;
  draw();
  drawPreview();
  (f.name || f.body).focus();
}

const utc = (local) => (local ? `${local}:00Z` : "");

async function publish() {
  const d = draft();
  const f = state.form;
  if (!d.body || (!d.target && !d.name)) { f.message.className = "error"; f.message.textContent = t.missing; return; }
  try {
    if (d.target) {
      const body = { status: d.status, body: d.body, components: d.components };
      if (d.kind === "incident") body.impact = d.impact;
      await api("POST", `/api/${d.kind === "maintenance" ? "maintenances" : "incidents"}/${encodeURIComponent(d.target.id)}/updates`, body);
    } else if (d.kind === "maintenance") {
      await api("POST", "/api/maintenances", { name: d.name, body: d.body, components: d.components,
        scheduled_for: utc(d.scheduled_for), scheduled_until: utc(d.scheduled_until) });
    } else {
      await api("POST", "/api/incidents", { name: d.name, status: d.status, impact: d.impact, body: d.body,
        components: d.components });
    }
  } catch (err) {
    if (err.status === 401) return signinView(err.message);
    f.message.className = "error";
    f.message.textContent = err.message;
    return;
  }
  state.form = null;
  await refresh(t.published);
}

function activeList() {
  const items = state.active.map((i) => h("li", { class: "incident", hl: "desk-incident", "data-incident": i.id,
    "data-status": i.status },
  h("strong", { text: i.name }), " ", h("span", { class: "muted", text: t.statuses[i.status] || i.status }),
  h("div", { class: "row" },
    h("button", { type: "button", hl: "desk-update", text: t.update, onclick: () => composer(i.kind, i) }),
    h("button", { type: "button", hl: "desk-resolve", text: t.resolve, onclick: () => composer(i.kind, i, true) }))));
  return h("section", { class: "card", hl: "desk-active" }, h("h2", { text: t.active }),
    items.length ? h("ul", { class: "updates" }, items) : h("p", { class: "none", text: t.none }));
}

function auditTable(entries) {
  return h("section", { class: "card" }, h("h2", { text: t.audit }),
    h("table", { class: "audit", hl: "audit" },
      h("tr", {}, h("th", { text: t.when }), h("th", { text: t.who }), h("th", { text: t.what })),
      entries.map((e) => h("tr", { hl: "audit-entry", "data-action": e.action, "data-target": e.target },
        h("td", { text: new Date(e.at).toISOString().replace("T", " ").slice(0, 19) + " UTC" }),
        h("td", { text: `${e.actor.name} (${e.actor.id})` }),
        h("td", { text: [t.actions[e.action] || e.action, e.detail.name, e.detail.status && (t.statuses[e.detail.status] || e.detail.status),
          e.detail.body].filter(Boolean).join(" · ") })))));
}

let who = null;
let audit = [];

function draw(notice) {
  const parts = [
    h("div", { class: "row" }, h("h1", { text: t.title }), h("span", { class: "muted", hl: "desk-admin", text: t.signedIn(who.name) }),
      h("button", { type: "button", text: t.signout, onclick: async () => { await api("DELETE", "/api/session"); signinView(); } })),
    notice ? h("p", { class: "ok", role: "status", hl: "desk-notice", text: notice }) : null,
    h("div", { class: "row" },
      h("button", { type: "button", hl: "desk-new-incident", class: "primary", text: t.newIncident, onclick: () => composer("incident") }),
      h("button", { type: "button", hl: "desk-new-maintenance", text: t.newMaintenance, onclick: () => composer("maintenance") })),
    state.form ? state.form.element : null, activeList(), auditTable(audit)];
  root.replaceChildren(...parts.filter(Boolean)); // replaceChildren would write a null as the text "null"
}

async function refresh(notice) {
  const [status, log] = await Promise.all([api("GET", "/api/status"), api("GET", "/api/audit")]);
  state.active = [...status.incidents.map((i) => ({ ...i, kind: "incident" })),
    ...status.maintenances.map((m) => ({ ...m, kind: "maintenance", impact: "maintenance" }))];
  audit = log.entries;
  draw(notice);
}

async function start() {
  try {
    who = (await api("GET", "/api/session")).admin;
  } catch (err) {
    return signinView(err.status === 401 || err.status === 403 ? "" : err.message);
  }
  state.components = (await api("GET", "/api/components")).components;
  await refresh();
}

start();
