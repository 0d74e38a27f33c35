/**
 * Messages from the shared catalogue (locales/*.json), served as one ES module per language and surface
 * (./locales/<lang>/<surface>.js): language choice, messages, plurals (Intl.PluralRules). No DOM work.
 */

import { tokenClaims } from "./client.js";

const INTL = { en: "en-US", vi: "vi-VN" };
const SLOT = /\{(\w+)\}/g;
const LEGACY = ["widget", "desk", "support"]; // strings() drops these prefixes: `widget.send` is `t.send`

const messages = { en: {}, vi: {} }; // language -> flat key -> string, or {one, other, …} for a plural
const loaded = new Set(); // "vi/widget"
const views = {};
let current = "en";

/** Our language for a tag (`vi`, `vi-VN`, `en_GB`), or null. */
export function supported(tag) {
  const primary = String(tag || "").split(/[-_]/)[0].toLowerCase();
  return primary in INTL ? primary : null;
}

/** The first of: the token's `locale` claim, the host's `lang`, ?lang=, <html lang>, the browser's languages. */
export function pickLanguage({ claim, lang, htmlLang = true } = {}) {
  const tags = [claim, lang, new URLSearchParams(location.search).get("lang"),
    htmlLang && document.documentElement.getAttribute("lang"), ...(navigator.languages || [navigator.language])];
  return tags.map(supported).find(Boolean) || "en";
}

/** Load the surfaces' messages of `language` (once each; widget.js prefetches the widget's) and make it current. */
export async function load(language, surfaces) {
  const lang = supported(language) || "en";
  const missing = surfaces.filter((s) => !loaded.has(lang + "/" + s));
  const modules = await Promise.all(missing.map((s) => import(new URL(`./locales/${lang}/${s}.js`, import.meta.url))));
  missing.forEach((s, i) => (Object.assign(messages[lang], modules[i].default), loaded.add(lang + "/" + s)));
  delete views[lang];
  return (current = lang);
}

/** The widget's language (from boot's `token` and `lang`) with the launcher's words loaded (widget.js hints them);
 * app.js at boot. The rest of the widget's words (`widget`) come with its panel. */
export const loadWidget = ({ token, lang } = {}) => load(pickLanguage({ claim: tokenClaims(token).locale, lang }), ["launcher"]);

/** Message `key` with its `{name}` slots filled (numbers in the language's digits); plurals by `params.count`. */
export function t(key, params = {}, lang = current) {
  let entry = messages[lang][key];
  if (entry === undefined) return key; // tests/i18n keeps en and vi in step
  if (typeof entry === "object") entry = entry[new Intl.PluralRules(INTL[lang]).select(+params.count || 0)] ?? entry.other;
  return entry.replace(SLOT, (all, name) =>
    !(name in params) ? all : typeof params[name] === "number" ? params[name].toLocaleString(INTL[lang]) : String(params[name]));
}

/** The words for a server error code (`not_found`, …); the code itself stays in the HTTP body. */
export const errorText = (code, lang = current) =>
  t(messages[lang][`errors.${code}`] === undefined ? "errors.unknown" : `errors.${code}`, {}, lang);

function legacyEntry(lang, key, entry) {
  if (typeof entry === "object") return (n) => t(key, typeof n === "object" ? n : { count: n }, lang);
  const name = (entry.match(/\{(\w+)\}/) || [])[1];
  // One slot: the positional call (`t.typing(name)`) still works; more slots need a params object.
  return name ? (arg) => t(key, typeof arg === "object" && arg ? arg : { [name]: arg }, lang) : entry;
}

function legacyView(lang) {
  const view = {};
  for (const [key, entry] of Object.entries(messages[lang])) {
    const [surface, ...path] = key.split(".");
    if (!LEGACY.includes(surface)) continue;
    let node = view;
    for (const part of path.slice(0, -1)) node = node[part] ||= {};
    node[path.at(-1)] = legacyEntry(lang, key, entry);
  }
  view.expected = (duration, count) => t(count ? "widget.expectedQueue" : "widget.expected", { duration, count }, lang);
  view.minutes = (m) => (m < 60 ? t("widget.minutes", { count: m }, lang) : t("widget.hours", { count: Math.round(m / 6) / 10 }, lang));
  return view;
}

/** The loaded messages of `lang` (else the current language) as an object: `t.send`, `t.typing(name)`, … */
export const strings = (lang) => (views[supported(lang) || current] ||= legacyView(supported(lang) || current));

/** The BCP 47 locale for Intl formatting of `lang` (else the current language). */
export const locale = (lang) => INTL[supported(lang) || current];
