/**
 * Tags on the agent dashboard: chips in the queue (data-hl="tag"), and the open ticket's editor (add with Enter,
 * remove with ×) over POST /api/tickets/{id}/tags; the queue frame brings everyone's changes live.
 */

import { h, replace } from "../dom.js";
import { strings } from "../i18n.js";

const words = () => strings().tools; // read when used: the page loads the catalogue first

/** Read-only chips for a queue row. */
export function tagChips(tags) {
  if (!tags || !tags.length) return null;
  return h("span", { class: "tags" }, tags.map((tag) => h("span", { hl: "tag", class: "chip tag", dataset: { tag }, text: tag })));
}

/** The open ticket's tags, editable. render(ticket) shows its current set. */
export function tagEditor(client, ticketId, { onTicket, onError }) {
  const t = words();
  const chips = h("span", { class: "tags", hl: "ticket-tags" });
  const change = async (body) => {
    try {
      onTicket(await client.api("POST", `/api/tickets/${encodeURIComponent(ticketId)}/tags`, body));
    } catch (err) {
      onError(err.message);
    }
  };
  const input = h("input", { hl: "tag-input", type: "text", maxlength: "40", placeholder: t.addTag, "aria-label": t.addTag,
    size: "12", onkeydown: (ev) => {
      if (ev.key !== "Enter" || !input.value.trim()) return;
      ev.preventDefault();
      const tag = input.value.trim();
      input.value = "";
      change({ add: [tag] });
    } });
  const el = h("div", { class: "meta-row", role: "group", "aria-label": t.tags }, h("span", { class: "muted", text: t.tags + ":" }), chips, input);
  return {
    el,
    render(tk) {
      replace(chips, (tk.tags || []).map((tag) => h("span", { hl: "tag", class: "chip tag", dataset: { tag } }, tag,
        h("button", { type: "button", class: "link", hl: "tag-remove", "aria-label": t.removeTag(tag),
          onclick: () => change({ remove: [tag] }) }, "×"))));
    },
  };
}

/** Keep a <select> of the tags present in the queue (the queue's tag filter), keeping the current choice. */
export function syncTagFilter(select, tickets) {
  const t = words();
  const current = select.value;
  const all = [...new Set([...tickets].flatMap((tk) => tk.tags || []))].sort();
  if (current && !all.includes(current)) all.push(current);
  replace(select, h("option", { value: "", text: t.anyTag }), all.map((tag) => h("option", { value: tag, text: tag })));
  select.value = current;
}
