/**
 * The first-response SLA of a ticket as a live countdown (data-hl="sla", data-state ok | warning | breached).
 * The due time is the server's (`first_response_due`, counted in business hours, docs/workflow.md), so the count
 * runs to that instant; it turns amber (warning) in the last quarter of the time the ticket was given (wall clock
 * from opening to due), red once past due. Answered tickets show whether the reply was in time.
 * One shared one-second ticker redraws every badge still on the page.
 */

import { h } from "../dom.js";

export const WARNING_SHARE = 0.25;
const badges = new Set(); // { el, tk, t }
let ticker = 0;

/** ok | warning | breached | null (no target: free plans) for a ticket at `now` (ms). */
export function slaState(tk, now) {
  if (tk.first_response_at) return tk.first_response_breached ? "breached" : "ok";
  if (!tk.first_response_due) return null;
  const due = Date.parse(tk.first_response_due);
  const left = due - now;
  if (left <= 0 || tk.first_response_breached) return "breached";
  const given = due - Date.parse(tk.created_at);
  return left <= given * WARNING_SHARE ? "warning" : "ok";
}

/** "2 h 05 min", "4 min 10 s", "12 s" in the page's language (the catalogue's desk.dur* messages). */
export function duration(ms, t) {
  const s = Math.max(0, Math.floor(Math.abs(ms) / 1000));
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const two = (n) => String(n).padStart(2, "0");
  if (days) return t.durDaysHours({ days, hours });
  if (hours) return t.durHoursMinutes({ hours, minutes: two(minutes) });
  if (minutes) return t.durMinutesSeconds({ minutes, seconds: two(s % 60) });
  return t.durSeconds({ seconds: s % 60 });
}

function draw(badge) {
  const { el, tk, t } = badge;
  const now = Date.now();
  const state = slaState(tk, now);
  el.hidden = state === null;
  if (state === null) return;
  el.dataset.state = state;
  if (tk.first_response_at) {
    el.textContent = state === "ok" ? t.slaMet : t.slaLate;
    return;
  }
  const left = Date.parse(tk.first_response_due) - now;
  el.textContent = left > 0 ? t.slaLeft(duration(left, t)) : t.slaOverdue(duration(left, t));
}

function tick() {
  for (const badge of badges) {
    if (badge.el.isConnected) draw(badge);
    else if (badge.drawn) badges.delete(badge); // left the page (the queue redraws its rows)
  }
}

/** A badge for `tk`; update(tk) redraws it from a newer view of the ticket. */
export function slaBadge(tk, t) {
  const badge = { el: h("span", { hl: "sla", class: "sla", role: "timer" }), tk, t, drawn: false };
  draw(badge);
  badge.drawn = true;
  badges.add(badge);
  if (!ticker) ticker = setInterval(tick, 1000);
  return Object.assign(badge.el, { update(next) { badge.tk = next; draw(badge); } });
}
