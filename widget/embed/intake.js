/**
 * The widget's new-ticket form: article suggestions while the subject is typed (with the suggested / opened /
 * deflected events), the expected reply time of the user's plan, and the known-incident offer at submit.
 */

import { newClientId } from "../client.js";
import { h, replace } from "../dom.js";

const SUGGEST_DEBOUNCE_MS = 250;

/**
 * Build the form. onTicket(ticket) is called with the ticket that was opened (sent, or following an incident).
 * The returned leave() is called when the form goes away: a draft in which the user opened an article and that was
 * not sent counts as deflected for each article opened (the rule, docs in widget/README.md).
 */
export function ticketForm({ client, base, t, lang, plan, context, onTicket, followUp = null }) {
  const draft = { id: newClientId(), opened: new Set(), sent: false }; // one client_id per draft: a retry counts once
  const subject = h("input", { hl: "subject", name: "subject", required: true, maxlength: "200", autocomplete: "off",
    value: followUp ? t.followUpSubject(followUp.subject).slice(0, 200) : "" });
  const body = h("textarea", { hl: "body", name: "body", required: true, rows: "5" });
  const category = h("select", { hl: "category", name: "category" },
    Object.entries(t.categories).map(([v, label]) => h("option", { value: v, text: label })));
  const suggestions = h("div", { hl: "suggestions", class: "suggestions", hidden: true, "aria-live": "polite" });
  const known = h("div", { hl: "known-incident", class: "notice known", role: "alert", hidden: true });
  let offered = null; // the incident the offer shows, while it is shown
  const expected = h("p", { hl: "expected", class: "notice", hidden: true });
  const submit = h("button", { hl: "submit", class: "primary", type: "submit" }, t.submit);
  const error = h("p", { hl: "form-error", class: "notice", role: "alert", hidden: true });
  const event = (slug, kind) => fetch(`${base}/api/articles/${encodeURIComponent(slug)}/events`, {
    method: "POST", keepalive: true, headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ kind, client_id: draft.id }),
  }).catch(() => {});

  const suggest = async () => {
    const q = subject.value.trim();
    if (q.length < 3) {
      suggestions.hidden = true;
      return;
    }
    try {
      const q3 = `q=${encodeURIComponent(subject.value)}&limit=3&lang=${encodeURIComponent(lang || "en")}`;
      const res = await fetch(`${base}/api/articles?${q3}`); // in the widget's language first
      const articles = res.ok ? (await res.json()).articles || [] : [];
      if (q !== subject.value.trim()) return; // the user typed on meanwhile: a newer answer is coming
      replace(suggestions, h("p", { class: "muted", text: t.suggestions }), articles.map((a) => h("a", {
        hl: "suggestion", href: `${base}/help/${encodeURIComponent(a.slug)}`, target: "_blank", rel: "noopener",
        title: a.snippet || "", text: a.title, dataset: { slug: a.slug },
        onclick: () => { draft.opened.add(a.slug); event(a.slug, "opened"); },
      })));
      suggestions.hidden = !articles.length;
      for (const a of articles) event(a.slug, "suggested");
    } catch { /* no self-help service: no suggestions */ }
  };
  let timer = 0;
  subject.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(suggest, SUGGEST_DEBOUNCE_MS);
  });

  const fields = () => ({ subject: subject.value.trim(), body: body.value.trim(), category: category.value });
  const busy = (on) => {
    submit.disabled = on;
    submit.textContent = on ? t.submitting : t.submit;
  };
  const done = (tk) => {
    draft.sent = true;
    onTicket(tk);
  };
  const fail = (err) => {
    error.textContent = err.message && err.status ? err.message : t.error;
    error.hidden = false;
    busy(false);
  };
  const send = async () => {
    busy(true);
    try {
      done(await client.api("POST", "/api/tickets", {
        ...fields(), page_url: location.href, context: context(), client_id: draft.id,
        ...(followUp ? { follow_up_of: followUp.id } : {}),
      }));
    } catch (err) {
      fail(err);
    }
  };
  const follow = async (incident) => {
    busy(true);
    try {
      done(await client.api("POST", `/api/incidents/${encodeURIComponent(incident.id)}/follow`, {
        ...fields(), page_url: location.href, context: context(),
      }));
    } catch (err) {
      fail(err);
    }
  };
  /** An active incident this draft is probably about, or null; never stands in the way of sending. */
  const match = async () => {
    try {
      return ((await client.api("POST", "/api/incidents/match", fields())).incidents || [])[0] || null;
    } catch {
      return null;
    }
  };

  const form = h("form", { hl: "ticket-form", onsubmit: async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    if (!known.hidden) return send(); // Enter again after the offer: the user insists
    busy(true);
    const incident = await match();
    busy(false);
    if (!incident) return send();
    offered = incident;
    replace(known, h("strong", { text: t.knownIncident(incident.name) }), h("span", { text: t.knownHint }),
      incident.shortlink ? h("a", { href: safeUrl(incident.shortlink), target: "_blank", rel: "noopener",
        text: incident.shortlink }) : null,
      h("div", { class: "row" },
        h("button", { hl: "follow-incident", class: "primary", type: "button", onclick: () => follow(incident) }, t.follow),
        h("button", { hl: "submit-anyway", type: "button", onclick: send }, t.sendAnyway)));
    known.hidden = false;
    known.scrollIntoView({ block: "nearest" });
  } },
    followUp ? h("p", { hl: "follow-up-of", class: "notice", text: `${t.followUpOf}: ${followUp.subject}` }) : null,
    h("label", {}, t.subject, subject), suggestions, h("label", {}, t.category, category),
    h("label", {}, t.body, body), expected,
    plan === "free" ? h("p", { hl: "free-notice", class: "notice", text: t.freeNotice }) : null,
    plan === "premium" ? h("p", { class: "notice", text: t.premiumNotice }) : null,
    known, error, submit);

  if (plan !== "free") {
    client.api("GET", "/api/support/expected").then((e) => {
      if (e.expected_s == null) return;
      expected.textContent = t.expected(t.minutes(Math.max(1, Math.ceil(e.expected_s / 60))), e.queue_ahead);
      expected.hidden = false;
    }, () => {});
  }

  const leave = () => {
    if (draft.sent) return;
    for (const slug of draft.opened) event(slug, "deflected");
    draft.opened.clear();
  };
  // The status page changed (a `status` frame): an offered incident that is over is no longer offered.
  const statusChanged = (incidents) => {
    if (!offered || known.hidden || incidents.some((i) => i.id === offered.id)) return;
    replace(known, h("strong", { hl: "known-resolved", text: t.knownResolved(offered.name) }));
    offered = null;
  };
  return { el: form, subject, leave, statusChanged };
}

export function safeUrl(url) {
  try {
    const u = new URL(url, location.href);
    return u.protocol === "https:" || u.protocol === "http:" ? u.href : "#";
  } catch {
    return "#";
  }
}
