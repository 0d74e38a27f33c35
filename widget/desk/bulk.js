/**
 * Bulk actions on the queue: a checkbox per row (data-hl="bulk-select") and a bar (data-hl="bulk-bar") that assigns
 * to me, tags, solves or marks reviewed every selected ticket in one call (POST /api/tickets/bulk).
 */

import { h } from "../dom.js";
import { strings } from "../i18n.js";


export function bulkBar(client, { onDone, onError }) {
  const t = strings().tools; // read when used: the page loads the catalogue first
  const selected = new Set();
  const count = h("span", { hl: "bulk-count" });
  const outcome = h("span", { hl: "bulk-outcome", class: "muted", role: "status" });
  const tagInput = h("input", { hl: "bulk-tag", type: "text", maxlength: "40", size: "10", placeholder: t.addTag, "aria-label": t.addTag });
  const run = async (action, extra = {}) => {
    if (!selected.size) return;
    try {
      const { results } = await client.api("POST", "/api/tickets/bulk", { tickets: [...selected], action, ...extra });
      const ok = results.filter((r) => r.ok).length;
      outcome.textContent = ok === results.length ? t.bulkDone(ok) : t.bulkPartly({ ok, failed: results.length - ok });
      clear();
      onDone(results);
    } catch (err) {
      onError(err.message);
    }
  };
  const button = (hl, label, onclick) => h("button", { hl, type: "button", onclick }, label);
  const el = h("div", { hl: "bulk-bar", class: "bulk-bar row", hidden: true, role: "toolbar", "aria-label": t.selected(0) },
    count,
    button("bulk-assign", t.assignMe, () => run("assign", { assignee: "me" })),
    tagInput,
    button("bulk-tag-apply", t.tagSelected, () => tagInput.value.trim() && run("tag", { tags: [tagInput.value.trim()] })),
    button("bulk-solve", t.solve, () => run("solve")),
    button("bulk-review", t.review, () => run("review")),
    button("bulk-clear", t.clearSelection, () => clear()));
  const boxes = new Map();
  function sync() {
    el.hidden = !selected.size;
    count.textContent = t.selected(selected.size);
    for (const [id, box] of boxes) {
      if (!box.isConnected) boxes.delete(id);
      else box.checked = selected.has(id);
    }
  }
  function clear() {
    selected.clear();
    sync();
  }
  return {
    el: h("div", {}, el, outcome),
    /** The checkbox for one queue row. */
    checkbox(tk) {
      const box = h("input", { type: "checkbox", hl: "bulk-select", dataset: { ticket: tk.id }, "aria-label": t.select(tk.subject || tk.id),
        checked: selected.has(tk.id), onchange: () => {
          if (box.checked) selected.add(tk.id);
          else selected.delete(tk.id);
          sync();
        } });
      boxes.set(tk.id, box);
      return box;
    },
  };
}
