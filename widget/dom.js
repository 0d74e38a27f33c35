/** Tiny DOM builder shared by the three surfaces: text only ever goes in through textContent, never innerHTML. */

/**
 * h("button", {hl: "send", type: "button", onclick: fn}, "Send") builds an element.
 * Strings among the children become text nodes, so user text can never become markup.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "hl") el.setAttribute("data-hl", value);
    else if (key === "text") el.textContent = String(value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace every child of `el` with `children`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A short, locale-aware time of day or date for an ISO 8601 string. */
export function when(iso, loc) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay
    ? d.toLocaleTimeString(loc, { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleDateString(loc, { day: "numeric", month: "short" }) + " " +
      d.toLocaleTimeString(loc, { hour: "2-digit", minute: "2-digit" });
}

const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"']+/gi;

/** Text with its http(s) links as <a> elements, built node by node (never markup); trailing punctuation stays text. */
export function linkify(text) {
  const out = [];
  let last = 0;
  for (const found of String(text).matchAll(URL_IN_TEXT)) {
    const raw = found[0].replace(/[.,;:!?)\]]+$/, "");
    let href = null;
    try {
      const url = new URL(raw);
      if (url.protocol === "http:" || url.protocol === "https:") href = url.href;
    } catch { /* not a URL after all: text */ }
    if (!href) continue;
    if (found.index > last) out.push(document.createTextNode(text.slice(last, found.index)));
    out.push(h("a", { href, target: "_blank", rel: "noopener noreferrer", text: raw }));
    last = found.index + raw.length;
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}

/** Up to two initials of a name, for an avatar ("Alice Nguyen" → "AN"). */
export function initials(name) {
  const parts = String(name || "").trim().split(/\s+/u).filter((p) => /^\p{L}/u.test(p));
  return parts.slice(0, 2).map((p) => [...p][0].toUpperCase()).join("") || "?";
}
