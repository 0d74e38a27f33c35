/**
 * The reports page: GET /api/reports?days=N drawn as a table and inline SVG bar charts; the charts over time and
 * the CSV exports are report-trends.js.
 * Every text goes in through textContent (h() and svgText), never as markup.
 */

import { h, replace } from "../dom.js";
import { strings } from "../i18n.js";
import { pageToken, signInPicker } from "../session.js";
import { loadTrends, wireExports } from "./report-trends.js";

const SVG = "http://www.w3.org/2000/svg";
const PLAN_LABELS = { premium: "Premium", pro_plus: "Pro+", pro: "Pro", free: "Free", all: "All plans" };
const COLORS = { a: "#1565c0", b: "#90caf9", bad: "#c62828", good: "#2e7d32" };
const $ = (sel) => document.querySelector(sel);

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 3600) return Math.round(seconds / 60) + " min";
  if (seconds < 48 * 3600) return (seconds / 3600).toFixed(1) + " h";
  return (seconds / 86400).toFixed(1) + " d";
}

function svgEl(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  return el;
}

function svgText(x, y, text, attrs) {
  const el = svgEl("text", { x, y, ...attrs });
  el.textContent = text;
  return el;
}

/**
 * Grouped bars: groups = [{label, values: [number|null…]}], series = [{name, color}].
 * `format` labels each bar; a null value draws no bar and the label "–".
 */
function barChart(groups, series, format) {
  const width = 360, height = 190, left = 8, bottom = 28, top = 16;
  const max = Math.max(1, ...groups.flatMap((g) => g.values.filter((v) => v !== null && v !== undefined)));
  const slot = (width - left) / Math.max(1, groups.length);
  const bar = Math.min(28, (slot - 12) / series.length);
  const svg = svgEl("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img" });
  const title = svgEl("title");
  title.textContent = series.map((s) => s.name).join(", ") + " per plan";
  svg.append(title, svgEl("line", { class: "axis", x1: left, x2: width, y1: height - bottom, y2: height - bottom }));
  groups.forEach((g, gi) => {
    const x0 = left + gi * slot + (slot - bar * series.length) / 2;
    g.values.forEach((v, si) => {
      const x = x0 + si * bar;
      const hgt = v ? ((height - bottom - top) * v) / max : 0;
      const y = height - bottom - hgt;
      if (hgt > 0) svg.append(svgEl("rect", { x, y, width: bar - 2, height: hgt, fill: series[si].color, rx: 2 }));
      svg.append(svgText(x + (bar - 2) / 2, y - 3, format(v), { "text-anchor": "middle" }));
    });
    svg.append(svgText(left + gi * slot + slot / 2, height - bottom + 16, g.label, { "text-anchor": "middle" }));
  });
  const legend = h("div", { class: "legend" },
    series.map((s) => h("span", {}, h("i", { style: `background:${s.color}` }), s.name)));
  return h("div", {}, svg, legend);
}

function hours(seconds) {
  return seconds === null || seconds === undefined ? null : seconds / 3600;
}

function row(p, cls) {
  const csat = p.csat.count ? `${p.csat.average} (${p.csat.count})` : "–";
  return h("tr", { class: cls, dataset: { plan: p.plan } },
    h("td", { text: PLAN_LABELS[p.plan] || p.plan }), h("td", { text: p.volume }),
    h("td", { text: duration(p.first_response.median_s) }), h("td", { text: duration(p.first_response.p90_s) }),
    h("td", { text: duration(p.resolution.median_s) }), h("td", { text: duration(p.resolution.p90_s) }),
    h("td", { text: p.met }), h("td", { text: p.breaches }), h("td", { text: csat }));
}

function render(report) {
  const range = `${new Date(report.since).toLocaleString()} – ${new Date(report.until).toLocaleString()}`;
  $("[data-hl=report-range]").textContent = range;
  replace($("[data-hl=report-table] tbody"), report.plans.map((p) => row(p)), row(report.total, "total"));
  const label = (p) => PLAN_LABELS[p.plan] || p.plan;
  const fmtHours = (v) => (v === null || v === undefined ? "–" : v.toFixed(1));
  const count = (v) => String(v ?? 0);
  replace($("[data-hl=chart-first-response]"), barChart(
    report.plans.map((p) => ({ label: label(p), values: [hours(p.first_response.median_s), hours(p.first_response.p90_s)] })),
    [{ name: "median", color: COLORS.a }, { name: "p90", color: COLORS.b }], fmtHours));
  replace($("[data-hl=chart-resolution]"), barChart(
    report.plans.map((p) => ({ label: label(p), values: [hours(p.resolution.median_s), hours(p.resolution.p90_s)] })),
    [{ name: "median", color: COLORS.a }, { name: "p90", color: COLORS.b }], fmtHours));
  replace($("[data-hl=chart-volume]"), barChart(
    report.plans.map((p) => ({ label: label(p), values: [p.volume, p.met, p.breaches] })),
    [{ name: "tickets", color: COLORS.a }, { name: "targets met", color: COLORS.good },
      { name: "breaches", color: COLORS.bad }], count));
  replace($("[data-hl=chart-csat]"), barChart(
    ["1", "2", "3", "4", "5"].map((s) => ({ label: "★" + s, values: [report.total.csat.distribution[s]] })),
    [{ name: "ratings", color: COLORS.a }], count));
}

async function load(token) {
  const days = $("[data-hl=report-days]").value;
  const res = await fetch(`/api/reports?days=${encodeURIComponent(days)}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    $("[data-hl=report-range]").textContent = (body.error && body.error.message) || `error ${res.status}`;
    return;
  }
  render(await res.json());
  await loadTrends(token, days);
}

async function main() {
  const t = strings(navigator.language);
  const token = await pageToken("agent");
  if (!token) {
    replace($("#sign-in-slot"), await signInPicker("agent", t, () => location.reload()));
    return;
  }
  $("[data-hl=report-days]").addEventListener("change", () => load(token));
  wireExports(token, () => $("[data-hl=report-days]").value);
  await load(token);
}

main();
