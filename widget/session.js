/**
 * Which token and language a full page (Support tab, dashboard, reports, demo) runs with: a token handed over in
 * the URL fragment (#token=…) or, in demo mode, the demo user picked on the demo page; the language from its
 * `locale` claim, then ?lang=, then the browser's. Nothing here talks to /ws.
 */

import { tokenClaims } from "./client.js";
import { h } from "./dom.js";
import { load, pickLanguage, t } from "./i18n.js";

const PICK_KEY = "helpline.demo.pick."; // + "customer" | "agent": which demo user was chosen
const TOKEN_KEY = "helpline.token."; // + kind: a token handed over by the host in the fragment

let demoCache;

/** The demo tokens of `helpline up`, or null when the server is not in demo mode. */
export async function demoTokens() {
  if (demoCache !== undefined) return demoCache;
  try {
    const res = await fetch("/demo/tokens");
    demoCache = res.ok ? await res.json() : null;
  } catch {
    demoCache = null;
  }
  return demoCache;
}

/** Demo users a picker offers, for kind "customer" (one per plan) or "agent". */
export function demoChoices(tokens, kind) {
  if (!tokens) return [];
  if (kind === "customer") {
    return Object.entries(tokens.customers || {}).map(([plan, token]) => ({ key: plan, label: plan, token }));
  }
  const agents = tokens.agents && tokens.agents.length ? tokens.agents : [tokens.agent];
  return agents.filter(Boolean).map((token, i) => ({ key: "agent" + (i + 1), label: "agent " + (i + 1), token }));
}

export function rememberPick(kind, key) {
  if (key) localStorage.setItem(PICK_KEY + kind, key);
  else localStorage.removeItem(PICK_KEY + kind);
}

export function pickedKey(kind) {
  return localStorage.getItem(PICK_KEY + kind);
}

/** The token this page should use, or null (then the page shows a sign-in picker). */
export async function pageToken(kind) {
  const query = new URLSearchParams(location.search);
  const m = query.get("token") || (/(?:^|[#&])token=([^&]+)/.exec(location.hash) || [])[1];
  if (m) {
    sessionStorage.setItem(TOKEN_KEY + kind, decodeURIComponent(m));
    query.delete("token");
    const rest = query.toString();
    history.replaceState(null, "", location.pathname + (rest ? "?" + rest : "") + location.hash.replace(/#?token=[^&]*/, ""));
  }
  const handed = sessionStorage.getItem(TOKEN_KEY + kind);
  if (handed) return handed;
  const key = pickedKey(kind);
  const choice = demoChoices(await demoTokens(), kind).find((c) => c.key === key);
  return choice ? choice.token : null;
}

/** Forget a token handed over in the URL (the user picked another demo user). */
export function forgetHanded(kind) {
  sessionStorage.removeItem(TOKEN_KEY + kind);
}

/** A small sign-in picker for demo mode; calls onPick(key) after storing the choice. */
export async function signInPicker(kind, t, onPick) {
  const choices = demoChoices(await demoTokens(), kind);
  if (!choices.length) return h("p", { hl: "signed-out", class: "muted", text: t.unauthorized });
  return h("div", { hl: "sign-in", class: "sign-in" }, h("span", { text: t.signInAs + ": " }),
    choices.map((c) => h("button", {
      type: "button", hl: "sign-in-" + c.key, onclick: () => { rememberPick(kind, c.key); onPick(c.key); },
    }, c.label)));
}

export function signOut(kind) {
  forgetHanded(kind);
  rememberPick(kind, null);
}

/**
 * The page's words in the viewer's language (token `locale` claim > ?lang= > the browser's languages), loaded
 * before anything renders; sets <html lang> and fills the page's own chrome: `data-i18n="key"` sets an element's
 * text, `data-i18n-label="key"` its aria-label.
 */
export async function loadPage(kind, surfaces) {
  const claim = tokenClaims(await pageToken(kind)).locale;
  const lang = await load(pickLanguage({ claim, htmlLang: false }), surfaces);
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  return lang;
}
