/**
 * The team's status, live (data-hl="team"): every agent watching the queue, online or away, with their active
 * tickets against their capacity; and the agent's own capacity (data-hl="capacity", empty: no limit). Changes come
 * as `agent` frames from every gateway node (docs/workflow.md), then the list is read again from GET /api/agents.
 */

import { h, replace } from "../dom.js";

export function teamPanel(client, t, meId) {
  const list = h("ul", {});
  const capacity = h("input", { hl: "capacity", type: "number", min: "0", max: "1000", step: "1",
    inputmode: "numeric", placeholder: t.capacityNone, "aria-label": t.capacity, class: "capacity" });
  const el = h("section", { hl: "team", class: "panel", "aria-label": t.team },
    h("h3", {}, h("span", { text: t.team })), list,
    h("label", { class: "muted" }, t.capacity + " ", capacity));
  let timer = 0;
  let editing = false;

  const draw = (agents) => {
    replace(list, agents.length ? agents.map((a) => {
      const status = !a.online ? "offline" : a.away ? "away" : "online";
      return h("li", { hl: "team-agent", dataset: { agent: a.id, status } },
        h("span", { text: a.name || a.id }),
        h("span", { class: `chip status-${status}`, hl: "team-status", text: status === "away" ? t.away : t.online }),
        h("span", { class: "muted", text: a.capacity === null || a.capacity === undefined ?
          t.loadOpen(a.open_assigned ?? 0) : t.loadOf({ count: a.open_assigned ?? 0, capacity: a.capacity }) }));
    }) : h("li", { class: "muted", text: "—" }));
    const me = agents.find((a) => a.id === meId());
    if (me && !editing) capacity.value = me.capacity === null || me.capacity === undefined ? "" : String(me.capacity);
  };
  const load = async () => {
    try {
      draw(await client.api("GET", "/api/agents"));
    } catch { /* keep what is shown */ }
  };
  let due = Infinity;
  const refresh = (ms = 200) => { // frames come in bursts (a node's agents reconnecting): one read per burst
    const at = Date.now() + ms;
    if (at >= due) return;
    clearTimeout(timer);
    due = at;
    timer = setTimeout(() => { due = Infinity; load(); }, ms);
  };
  capacity.addEventListener("focus", () => { editing = true; });
  capacity.addEventListener("change", async () => {
    const raw = capacity.value.trim();
    const value = raw === "" ? null : Number(raw);
    if (value !== null && (!Number.isInteger(value) || value < 0)) return;
    try {
      await client.api("PUT", "/api/agents/me", { capacity: value });
    } finally {
      editing = false;
      load();
    }
  });
  client.on("agent", () => refresh());
  client.on("queue", () => refresh());
  client.on("ticket", () => refresh(3000)); // assignments move the counts; a busy queue must not flood the API
  return { el, refresh: load };
}
