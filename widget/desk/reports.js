/**
 * The reports page: GET /api/reports?days=N drawn as a table and inline SVG bar charts; the charts over time and
 * the CSV exports are report-trends.js.
 * Every text goes in through textContent (h() and svgText), never as markup.
 */

import { h, replace } from "../dom.js";
import { errorText, locale, strings, t as tr } from "../i18n.js";
import { loadPage, pageToken, signInPicker } from "../session.js";
import { loadTrends, wireExports } from "./report-trends.js";

const SVG = "http://www.w3.org/2000/svg";
const COLORS = { a: "#1565c0", b: "#90caf9", bad: "#c62828", good: "#2e7d32" };
const $ = (sel) => document.querySelector(sel);

const planLabel = (plan) => (strings().plans || {})[plan] || plan;
const oneDecimal = (v) => Math.round(v * 10) / 10;

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  // Under a minute in seconds: a reply in 20 s is not "0 min".
  if (seconds < 59.5) return tr("desk.durationSec", { count: Math.round(seconds) });
  if (seconds < 3600) return tr("desk.durationMin", { count: Math.round(seconds / 60) });
  if (seconds < 48 * 3600) return tr("desk.durationHours", { count: oneDecimal(seconds / 3600) });
  return tr("desk.durationDays", { count: oneDecimal(seconds / 86400) });
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
  title.textContent = tr("desk.perPlanChart", { series: series.map((s) => s.name).join(", ") });
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
    h("td", { text: planLabel(p.plan) }), h("td", { text: p.volume }),
    h("td", { text: duration(p.first_response.median_s) }), h("td", { text: duration(p.first_response.p90_s) }),
    h("td", { text: duration(p.resolution.median_s) }), h("td", { text: duration(p.resolution.p90_s) }),
    h("td", { text: p.met }), h("td", { text: p.breaches }), h("td", { text: csat }));
}

function render(report) {
  // In the viewer's language and time zone (Intl's defaults: the browser's zone).
  const format = new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" });
  const range = `${format.format(new Date(report.since))} – ${format.format(new Date(report.until))}`;
  $("[data-hl=report-range]").textContent = range;
  replace($("[data-hl=report-table] tbody"), report.plans.map((p) => row(p)), row(report.total, "total"));
  const label = (p) => planLabel(p.plan);
  const fmtHours = (v) => (v === null || v === undefined ? "–" : oneDecimal(v).toLocaleString(locale()));
  const count = (v) => String(v ?? 0);
  replace($("[data-hl=chart-first-response]"), barChart(
    report.plans.map((p) => ({ label: label(p), values: [hours(p.first_response.median_s), hours(p.first_response.p90_s)] })),
    [{ name: tr("desk.median"), color: COLORS.a }, { name: "p90", color: COLORS.b }], fmtHours));
  replace($("[data-hl=chart-resolution]"), barChart(
    report.plans.map((p) => ({ label: label(p), values: [hours(p.resolution.median_s), hours(p.resolution.p90_s)] })),
    [{ name: tr("desk.median"), color: COLORS.a }, { name: "p90", color: COLORS.b }], fmtHours));
  replace($("[data-hl=chart-volume]"), barChart(
    report.plans.map((p) => ({ label: label(p), values: [p.volume, p.met, p.breaches] })),
    [{ name: tr("desk.tickets"), color: COLORS.a }, { name: tr("desk.targetsMet"), color: COLORS.good },
      { name: tr("desk.breaches"), color: COLORS.bad }], count));
  replace($("[data-hl=chart-csat]"), barChart(
    ["1", "2", "3", "4", "5"].map((s) => ({ label: "★" + s, values: [report.total.csat.distribution[s]] })),
    [{ name: tr("desk.csat"), color: COLORS.a }], count));
}

async function load(token) {
  const days = $("[data-hl=report-days]").value;
  const res = await fetch(`/api/reports?days=${encodeURIComponent(days)}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    $("[data-hl=report-range]").textContent = errorText((body.error && body.error.code) || "unknown");
    return;
  }
  render(await res.json());
  await loadTrends(token, days);
}

async function main() {
  const token = await pageToken("agent");
  await loadPage("agent", ["widget", "desk", "support"]);
  const t = strings();
  for (const option of $("[data-hl=report-days]").options) {
    if (option.value !== "1") option.textContent = tr("desk.lastDays", { count: Number(option.value) });
  }
  if (!token) {
    replace($("#sign-in-slot"), await signInPicker("agent", t, () => location.reload()));
    return;
  }
  $("[data-hl=report-days]").addEventListener("change", () => load(token));
  wireExports(token, () => $("[data-hl=report-days]").value);
  await load(token);
}

main();
