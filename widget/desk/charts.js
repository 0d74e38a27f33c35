/**
 * Small SVG charts for the reports page, drawn in the browser with no library and no build step: a line chart over
 * time buckets and a horizontal bar chart. Every label goes in through textContent, never as markup.
 */

import { h } from "../dom.js";

const SVG = "http://www.w3.org/2000/svg";

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

function legend(series) {
  return h("div", { class: "legend" }, series.map((s) => h("span", {}, h("i", { style: `background:${s.color}` }), s.name)));
}

/**
 * Lines over buckets: labels = ["May 1", …], series = [{name, color, values: [number|null…]}] (one value per label).
 * A null value breaks the line there (no data in that bucket), so a gap is never drawn as zero.
 */
export function lineChart(labels, series, format, title) {
  const width = 420, height = 200, left = 34, right = 8, top = 12, bottom = 26;
  const values = series.flatMap((s) => s.values.filter((v) => v !== null && v !== undefined));
  const max = Math.max(1e-9, ...values);
  const x = (i) => left + (labels.length <= 1 ? 0 : (i * (width - left - right)) / (labels.length - 1));
  const y = (v) => height - bottom - ((height - top - bottom) * v) / max;
  const svg = svgEl("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img" });
  const heading = svgEl("title");
  heading.textContent = title;
  svg.append(heading, svgEl("line", { class: "axis", x1: left, x2: width - right, y1: height - bottom, y2: height - bottom }));
  svg.append(svgText(left - 4, top + 4, format(max), { "text-anchor": "end" }), svgText(left - 4, height - bottom, "0", { "text-anchor": "end" }));
  const step = Math.max(1, Math.ceil(labels.length / 6));
  labels.forEach((label, i) => {
    if (i % step === 0 || i === labels.length - 1) svg.append(svgText(x(i), height - 8, label, { "text-anchor": "middle" }));
  });
  for (const s of series) {
    let run = [];
    const flush = () => {
      if (run.length > 1) svg.append(svgEl("polyline", { points: run.join(" "), fill: "none", stroke: s.color, "stroke-width": 2 }));
      run = [];
    };
    s.values.forEach((v, i) => {
      if (v === null || v === undefined) return flush();
      run.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
      const dot = svgEl("circle", { cx: x(i), cy: y(v), r: 2.5, fill: s.color, "data-series": s.name });
      const tip = svgEl("title");
      tip.textContent = `${s.name} · ${labels[i]}: ${format(v)}`;
      dot.append(tip);
      svg.append(dot);
    });
    flush();
  }
  return h("div", {}, svg, legend(series));
}

/** Horizontal bars: rows = [{label, value}], the largest first as given. */
export function hbarChart(rows, color, title) {
  const width = 420, row = 20, left = 120, right = 40;
  const height = Math.max(row, rows.length * row) + 4;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const svg = svgEl("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img" });
  const heading = svgEl("title");
  heading.textContent = title;
  svg.append(heading);
  rows.forEach((r, i) => {
    const y = 2 + i * row;
    const w = ((width - left - right) * r.value) / max;
    svg.append(svgText(left - 6, y + 13, r.label, { "text-anchor": "end" }),
      svgEl("rect", { x: left, y: y + 2, width: Math.max(1, w), height: row - 6, fill: color, rx: 2, "data-label": r.label }),
      svgText(left + w + 4, y + 13, String(r.value)));
  });
  return svg;
}
