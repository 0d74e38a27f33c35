/**
 * The dashboard's side panels and per-ticket tools beyond the thread: signals of similar free reports, requested
 * callbacks, the away toggle, and for the open ticket the "reviewed" mark, the incident link and "callback done".
 */

import { h, replace, when } from "../dom.js";
import { t } from "../i18n.js";

const ARROW = { rising: "↑", falling: "↓", steady: "→" };

/** A panel that reloads itself on refresh() (debounced: ticket frames come in bursts). */
function panel(hl, title, load, row) {
  const count = h("span", { hl: hl + "-total", class: "chip", text: "0" });
  const list = h("ul", {});
  const el = h("section", { hl, class: "panel", "aria-label": title }, h("h3", {}, h("span", { text: title }), count), list);
  let timer = 0;
  const now = async () => {
    try {
      const rows = await load();
      count.textContent = String(rows.length);
      replace(list, rows.length ? rows.map(row) : h("li", { class: "muted", text: t("desk.none") }));
    } catch { /* keep what is shown; the next refresh tries again */ }
  };
  const refresh = () => {
    clearTimeout(timer);
    timer = setTimeout(now, 500);
  };
  now();
  return { el, refresh, now };
}

/** Signals: groups of similar free reports with their count and trend; "mark all reviewed" acts on the group. */
export function signalsPanel(client, openTicket) {
  const p = panel("signals", t("desk.signals"), () => client.api("GET", "/api/signals"), (s) => {
    const tr = s.trend || {};
    return h("li", { hl: "signal", dataset: { signal: s.id } },
      h("button", { type: "button", class: "link", title: s.sample || "", text: s.title,
        onclick: () => s.ticket_ids && s.ticket_ids.length && openTicket(s.ticket_ids[s.ticket_ids.length - 1]) }),
      h("span", { hl: "signal-count", class: "chip", title: "reports", text: String(s.count) }),
      h("span", { hl: "signal-trend", class: `trend-${tr.direction || "steady"}`,
        title: `last 24 h: ${tr.last_24h ?? 0}, previous 24 h: ${tr.previous_24h ?? 0}`,
        text: `${ARROW[tr.direction] || "→"} ${tr.last_24h ?? 0}/24h` }),
      h("button", { hl: "signal-review", type: "button", onclick: async (ev) => {
        ev.target.disabled = true;
        try {
          await client.api("POST", `/api/signals/${encodeURIComponent(s.id)}/review`);
        } finally {
          p.now();
        }
      } }, t("desk.markAllReviewed")));
  });
  setInterval(p.now, 60000);
  return p;
}

/** Requested callbacks (premium), oldest first; "done" solves the callback's ticket. */
export function callbacksPanel(client, openTicket) {
  const p = panel("callbacks", t("desk.callbacks"), async () => (await client.api("GET", "/api/callbacks")).callbacks || [],
    (c) => h("li", { hl: "callback-item", dataset: { callback: c.id, ticket: c.ticket } },
      h("button", { type: "button", class: "link", onclick: () => openTicket(c.ticket),
        text: `${c.customer?.name || ""} · ${c.phone}` + (c.preferred_time ? ` · ${c.preferred_time}` : "") }),
      h("button", { hl: "callback-done", type: "button", onclick: () => callbackDone(client, c.id).then(p.now) }, t("desk.done"))));
  return p;
}

export async function callbackDone(client, id) {
  await client.api("POST", `/api/callbacks/${encodeURIComponent(id)}/done`);
}

/** "Away": no automatic assignment while set. Its state is read once the agent is online. */
export function awayToggle(client, meId) {
  const box = h("input", { type: "checkbox", hl: "away", onchange: async () => {
    try {
      const me = await client.api("PUT", "/api/agents/me", { away: box.checked });
      box.checked = !!me.away;
    } catch {
      box.checked = !box.checked;
    }
  } });
  const sync = async () => {
    try {
      const me = (await client.api("GET", "/api/agents")).find((a) => a.id === meId());
      if (me) box.checked = !!me.away;
    } catch { /* stays as shown */ }
  };
  return { el: h("label", { class: "away" }, box, " Away"), sync };
}

/**
 * The tools of the open ticket: "Reviewed" (free reports), the link to an active incident, and "Callback done" for
 * callback tickets. render(tk) redraws from the ticket; onTicket(tk) takes the server's answer; onError(msg).
 */
export function ticketTools(client, id, { onTicket, onError, statusUrl }) {
  const el = h("div", { class: "meta-row" });
  const path = `/api/tickets/${encodeURIComponent(id)}`;
  const act = (fn) => async () => {
    try {
      await fn();
    } catch (err) {
      onError(err.message);
    }
  };
  const reviewed = h("button", { hl: "reviewed", type: "button" });
  reviewed.onclick = act(async () => {
    const res = await client.api("PATCH", path, { reviewed: reviewed.dataset.reviewed !== "true" });
    onTicket(res.ticket || res);
  });
  const incident = h("select", { hl: "incident-link", "aria-label": t("desk.linkedIncident") },
    h("option", { value: "", text: t("desk.noIncident") }));
  incident.onchange = act(async () => {
    onTicket(await client.api("POST", path + "/incident", { incident_id: incident.value || null }));
  });
  const done = h("button", { hl: "callback-done", type: "button", hidden: true }, t("desk.callbackDone"));
  let incidents = [];
  statusUrl.then(async (url) => {
    if (!url) return;
    const status = await (await fetch(url.replace(/\/$/, "") + "/api/status")).json();
    incidents = (status.incidents || []).filter((i) => i.status !== "resolved");
    const keep = incident.value;
    replace(incident, h("option", { value: "", text: t("desk.noIncident") }),
      incidents.map((i) => h("option", { value: i.id, text: `${i.name} (${i.status})` })));
    incident.value = keep;
  }).catch(() => {});

  const render = (tk, { linked } = {}) => {
    reviewed.hidden = tk.plan !== "free";
    reviewed.dataset.reviewed = String(!!tk.reviewed_at);
    reviewed.textContent = tk.reviewed_at ? t("desk.reviewedAt", { when: when(tk.reviewed_at) }) : t("desk.markReviewed");
    // Lists and the queue carry incident null for now (docs/statuspage.md): only a full read or a link says.
    if (linked) {
      if (tk.incident && ![...incident.options].some((o) => o.value === tk.incident)) {
        incident.append(h("option", { value: tk.incident, text: tk.incident }));
      }
      incident.value = tk.incident || "";
    }
    if (tk.category === "callback" && tk.status !== "solved" && tk.status !== "closed") {
      client.api("GET", "/api/callbacks").then(({ callbacks }) => {
        const cb = (callbacks || []).find((c) => c.ticket === id);
        done.hidden = !cb;
        done.onclick = cb ? act(() => callbackDone(client, cb.id)) : null;
      }, () => {});
    } else {
      done.hidden = true;
    }
  };
  el.append(reviewed, h("label", {}, t("desk.incidentLabel") + " ", incident), done);
  return { el, render };
}
