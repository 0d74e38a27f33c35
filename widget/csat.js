/**
 * The satisfaction question (CSAT) under a solved ticket, for the widget and the Support tab, loaded only then.
 * Asked while the server has no rating (GET 404); rated once (POST), after which it is never shown again.
 */

import { h } from "./dom.js";

const asked = new Map(); // ticket id -> Promise<boolean>: ask? (one GET per ticket and page)

/** Resolves to the question's element, or null when this ticket is rated already (or the check failed). */
export async function csatPrompt(client, ticket, t) {
  if (!asked.has(ticket)) {
    asked.set(ticket, client.api("GET", `/api/tickets/${encodeURIComponent(ticket)}/csat`).then(() => false,
      (err) => err.status === 404));
  }
  if (!(await asked.get(ticket))) return null;
  let score = 0;
  const comment = h("textarea", { hl: "csat-comment", rows: "1", maxlength: "2000", "aria-label": t.csatComment,
    placeholder: t.csatComment });
  const submit = h("button", { hl: "csat-submit", class: "primary", type: "submit", disabled: true }, t.csatSend);
  const error = h("p", { class: "notice", role: "alert", hidden: true });
  const stars = [1, 2, 3, 4, 5].map((n) => h("button", {
    hl: "csat-score", type: "button", class: "star", dataset: { score: n }, "aria-pressed": "false",
    "aria-label": `${n} / 5`, text: String(n),
    onclick: () => {
      score = n;
      submit.disabled = false;
      for (const s of stars) s.setAttribute("aria-pressed", String(Number(s.dataset.score) <= n));
    },
  }));
  const form = h("form", { hl: "csat", class: "csat", onsubmit: async (ev) => {
    ev.preventDefault();
    if (!score) return;
    submit.disabled = true;
    try {
      await client.api("POST", `/api/tickets/${encodeURIComponent(ticket)}/csat`,
        comment.value.trim() ? { score, comment: comment.value.trim() } : { score });
    } catch (err) {
      if (err.status !== 409) { // 409: rated already (another tab): as good as done
        error.textContent = err.message || t.error;
        error.hidden = false;
        submit.disabled = false;
        return;
      }
    }
    asked.set(ticket, Promise.resolve(false));
    form.replaceChildren(h("p", { hl: "csat-thanks", text: t.csatThanks }));
  } }, h("div", { class: "stars", role: "group", "aria-label": t.csatAsk }, h("strong", { text: t.csatAsk }), stars),
    h("div", { class: "row" }, comment, submit), error);
  return form;
}
