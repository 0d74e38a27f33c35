/**
 * The reports page's charts over time (GET /api/reports/charts): first response and resolution medians per plan,
 * targets met and breached, CSAT average, volume by tag; and the CSV exports (GET /api/reports/export.csv), fetched
 * with the page's token and saved as a file.
 */

import { replace, h } from "../dom.js";
import { locale, strings } from "../i18n.js";
import { hbarChart, lineChart } from "./charts.js";

const words = () => strings().tools; // read when used: the page loads the catalogue first
const PLAN_COLORS = { premium: "#6a1b9a", pro_plus: "#1565c0", pro: "#00897b", free: "#9e9e9e", all: "#1b1f24" };
const $ = (sel) => document.querySelector(sel);

const hours = (s) => (s === null || s === undefined ? null : s / 3600);
const fmtHours = (v) => (v === null || v === undefined ? "–" : v.toFixed(1) + " h");

function bucketLabel(iso, bucket) {
  const d = new Date(iso);
  return d.toLocaleDateString(locale(), bucket === "week" ? { day: "numeric", month: "short" } : { day: "numeric", month: "numeric" });
}

export function renderTrends(charts) {
  const t = words();
  const all = charts.series.find((s) => s.plan === "all");
  const labels = all.points.map((p) => bucketLabel(p.start, charts.bucket));
  const plans = charts.series.filter((s) => s.plan !== "all");
  const perPlan = (pick) => plans.map((s) => ({ name: (strings().plans || {})[s.plan] || s.plan, color: PLAN_COLORS[s.plan], values: s.points.map(pick) }));
  replace($("[data-hl=chart-first-response-trend]"),
    lineChart(labels, perPlan((p) => hours(p.first_response_median_s)), fmtHours, t.firstResponseTrend));
  replace($("[data-hl=chart-resolution-trend]"),
    lineChart(labels, perPlan((p) => hours(p.resolution_median_s)), fmtHours, t.resolutionTrend));
  replace($("[data-hl=chart-met-trend]"), lineChart(labels, [
    { name: t.met, color: "#2e7d32", values: all.points.map((p) => p.met) },
    { name: t.breaches, color: "#c62828", values: all.points.map((p) => p.breaches) },
  ], (v) => String(Math.round(v)), t.metTrend));
  replace($("[data-hl=chart-csat-trend]"), lineChart(labels, [
    { name: t.satisfaction, color: "#f9a825", values: all.points.map((p) => p.csat_average) },
  ], (v) => v.toFixed(1), t.csatTrend));
  replace($("[data-hl=chart-tags]"), charts.tags.length
    ? hbarChart(charts.tags.slice(0, 15).map((x) => ({ label: x.tag, value: x.volume })), "#3949ab", t.tagVolume)
    : h("p", { class: "muted", text: t.noTags }));
}

export async function loadTrends(token, days) {
  const res = await fetch(`/api/reports/charts?days=${encodeURIComponent(days)}`, { headers: { Authorization: `Bearer ${token}` } });
  if (res.ok) renderTrends(await res.json());
}

/** Download a CSV through fetch (the API wants the token in a header, which a plain link cannot send). */
async function download(token, days, kind) {
  const res = await fetch(`/api/reports/export.csv?days=${encodeURIComponent(days)}&kind=${kind}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  if (!res.ok) return;
  const url = URL.createObjectURL(await res.blob());
  const a = h("a", { href: url, download: `helpline-report-${kind}-${days}d.csv`, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function wireExports(token, days) {
  const t = words();
  $("[data-hl=export-csv]").textContent = t.exportCsv;
  $("[data-hl=export-tags-csv]").textContent = t.exportTagsCsv;
  $("[data-hl=export-csv]").addEventListener("click", () => download(token, days(), "series"));
  $("[data-hl=export-tags-csv]").addEventListener("click", () => download(token, days(), "tags"));
  for (const [sel, key] of [["#trend-fr", "firstResponseTrend"], ["#trend-res", "resolutionTrend"], ["#trend-met", "metTrend"],
    ["#trend-csat", "csatTrend"], ["#trend-tags", "tagVolume"]]) $(sel).textContent = t[key];
}
