/**
 * Macros on the open ticket: pick one and apply it (POST /api/macros/{id}/apply): its reply is posted, then status,
 * tags and assignee change in one step; the ticket frame and the thread show the outcome.
 */

import { h, replace } from "../dom.js";
import { strings } from "../i18n.js";

let cache = null;

export function macroPicker(client, ticketId, { onTicket, onError, onNotice }) {
  const t = strings().tools; // read when used: the page loads the catalogue first
  const select = h("select", { hl: "macro", "aria-label": t.macro });
  const apply = h("button", { hl: "apply-macro", type: "button", onclick: async () => {
    const id = select.value;
    if (!id) return;
    const title = select.selectedOptions[0]?.textContent || "";
    apply.disabled = true;
    try {
      // One client_id per press: pressing again after a failure retries the same application.
      const clientId = apply.dataset.clientId || (apply.dataset.clientId = `m-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`);
      onTicket(await client.api("POST", `/api/macros/${encodeURIComponent(id)}/apply`, { ticket: ticketId, client_id: clientId }));
      delete apply.dataset.clientId;
      select.value = "";
      onNotice(title);
    } catch (err) {
      onError(err.message);
    } finally {
      apply.disabled = false;
    }
  } }, t.applyMacro);
  if (!cache) cache = client.api("GET", "/api/macros").catch(() => []);
  cache.then((list) => replace(select, h("option", { value: "", text: t.macro }),
    list.map((m) => h("option", { value: m.id, text: m.title }))));
  return h("span", { class: "row" }, select, apply);
}
