/**
 * The demo host platform (/): a chart page and a watchlist page, a picker of demo users, and the widget handed the
 * chosen customer's token and the page's context (symbol, timeframe). Plays the host; not part of the widget.
 */

import { tokenClaims } from "../client.js";
import { load, pickLanguage, t } from "../i18n.js";
import { demoChoices, demoTokens, forgetHanded, pageToken, rememberPick } from "../session.js";

const $ = (sel) => document.querySelector(sel);
const SYMBOLS = [["BTCUSD", 64250], ["ETHUSD", 3120], ["EURUSD", 1.0842], ["XAUUSD", 2365], ["AAPL", 214.3], ["VNINDEX", 1268]];
const state = { page: "chart", symbol: "BTCUSD", timeframe: "15m" };
const lang = new URLSearchParams(location.search).get("lang");
if (lang) document.documentElement.lang = lang;

/* ---- the host's own pages ---- */

function route() {
  state.page = location.hash === "#watchlist" ? "watchlist" : "chart";
  $("#page-chart").hidden = state.page !== "chart";
  $("#page-watchlist").hidden = state.page !== "watchlist";
  for (const a of document.querySelectorAll("nav a[data-page]")) {
    if (a.dataset.page === state.page) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (state.page === "chart") drawChart();
  handContext();
}

function seeded(seed) {
  let x = 0;
  for (const ch of seed) x = (x * 31 + ch.charCodeAt(0)) >>> 0;
  return () => ((x = (x * 1664525 + 1013904223) >>> 0) / 4294967296);
}

function candles() {
  const base = SYMBOLS.find(([s]) => s === state.symbol)[1];
  const rnd = seeded(state.symbol + state.timeframe);
  const out = [];
  let price = base;
  for (let i = 0; i < 80; i += 1) {
    const open = price;
    price = Math.max(base * 0.5, open * (1 + (rnd() - 0.49) * 0.02));
    out.push({ open, close: price, high: Math.max(open, price) * (1 + rnd() * 0.006), low: Math.min(open, price) * (1 - rnd() * 0.006) });
  }
  return out;
}

function drawChart() {
  const canvas = $("#chart");
  const ctx = canvas.getContext("2d");
  const data = candles();
  const hi = Math.max(...data.map((c) => c.high));
  const lo = Math.min(...data.map((c) => c.low));
  const y = (v) => 20 + (canvas.height - 40) * (1 - (v - lo) / (hi - lo || 1));
  const w = canvas.width / data.length;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.strokeStyle = "#1c2a3b";
  for (let i = 1; i < 6; i += 1) {
    ctx.beginPath();
    ctx.moveTo(0, (canvas.height / 6) * i);
    ctx.lineTo(canvas.width, (canvas.height / 6) * i);
    ctx.stroke();
  }
  data.forEach((c, i) => {
    const color = c.close >= c.open ? "#3fbf6b" : "#e05555";
    ctx.strokeStyle = ctx.fillStyle = color;
    const x = i * w + w / 2;
    ctx.beginPath();
    ctx.moveTo(x, y(c.high));
    ctx.lineTo(x, y(c.low));
    ctx.stroke();
    ctx.fillRect(x - w * 0.35, Math.min(y(c.open), y(c.close)), w * 0.7, Math.max(1, Math.abs(y(c.open) - y(c.close))));
  });
  $("#symbol").textContent = state.symbol;
  $("#last-price").textContent = format(data[data.length - 1].close);
  for (const b of document.querySelectorAll("[data-tf]")) b.setAttribute("aria-pressed", String(b.dataset.tf === state.timeframe));
}

function format(v) {
  return v >= 100 ? v.toFixed(2) : v.toFixed(4);
}

function renderWatchlist() {
  const body = $("#watch-rows");
  body.replaceChildren();
  for (const [symbol, base] of SYMBOLS) {
    const rnd = seeded(symbol);
    const change = (rnd() - 0.5) * 6;
    const tr = document.createElement("tr");
    const cells = [symbol, format(base * (1 + change / 100)), `${change >= 0 ? "+" : ""}${change.toFixed(2)}%`];
    cells.forEach((text, i) => {
      const td = document.createElement("td");
      td.textContent = text;
      if (i === 2) td.className = change >= 0 ? "up" : "down";
      tr.append(td);
    });
    const open = document.createElement("button");
    open.type = "button";
    open.textContent = "Chart";
    open.addEventListener("click", () => { state.symbol = symbol; location.hash = "#chart"; });
    const td = document.createElement("td");
    td.append(open);
    tr.append(td);
    body.append(tr);
  }
}

/* ---- the widget integration, as a host would write it ---- */

function helpline(fn) {
  if (window.Helpline) fn(window.Helpline);
  else addEventListener("helpline:ready", () => fn(window.Helpline), { once: true });
}

function handContext() {
  helpline((hl) => hl.setContext({ page: state.page, symbol: state.symbol, timeframe: state.timeframe }));
}

/** A demo person's words for the picker and the header: "Pat Pro", "Pro". */
function person(token) {
  const claims = tokenClaims(token);
  return { name: claims.name || claims.sub || "", role: claims.role, plan: claims.plan };
}

/** The header says who is signed in (name, and the plan for a customer), in the page's language. */
function showPerson(token) {
  $("#who-label").textContent = t("demo.signedInAs");
  $("#switch-label").textContent = t("demo.switchPersona");
  const who = token ? person(token) : null;
  $("#who-name").textContent = who ? who.name : t("demo.signedOut");
  const plan = $("#who-plan");
  plan.hidden = !who || who.role !== "customer";
  if (who) plan.textContent = t(`demo.plans.${who.plan}`);
}

async function signIn() {
  // A host boots the widget as soon as it has the token (handed over in ?token= is at once; a picked demo user
  // needs the demo tokens), so the widget's words and ticket list load beside its modules.
  const token = await pageToken("customer");
  if (token) {
    // The demo platform's own text is English (<html lang="en">), but it hands the widget its visitor's language
    // (?lang=, else the browser's), as a platform serving Vietnamese users would; a token's claim still comes first.
    helpline((hl) => hl.boot({
      token, lang: lang || navigator.language || undefined,
      context: { page: state.page, symbol: state.symbol, timeframe: state.timeframe },
    }));
  }
  await load(pickLanguage({ lang }), ["demo"]);
  const tokens = await demoTokens();
  const select = $("#demo-user");
  select.options[0].textContent = t("demo.noOne");
  for (const c of demoChoices(tokens, "customer")) {
    const who = person(c.token);
    select.append(new Option(`${who.name} · ${t(`demo.plans.${c.key}`)}`, "customer:" + c.key));
  }
  for (const c of demoChoices(tokens, "agent")) {
    select.append(new Option(`${person(c.token).name} · ${t("demo.agent")}`, "agent:" + c.key));
  }
  if (tokens && tokens.status_url) Object.assign($("#status-link"), { href: tokens.status_url, hidden: false });
  if (!tokens) signInUnavailable();
  // The same person, not the same string: a sign-in link carries a token issued earlier than the page's own.
  const signedIn = token ? tokenClaims(token).sub : null;
  const chosen = demoChoices(tokens, "customer").find((c) => tokenClaims(c.token).sub === signedIn);
  select.value = chosen ? "customer:" + chosen.key : "";
  showPerson(token);
  select.addEventListener("change", () => {
    const [kind, key] = select.value.split(":");
    forgetHanded(kind || "customer");
    if (kind === "agent") {
      rememberPick("agent", key);
      location.href = "/dashboard";
      return;
    }
    rememberPick("customer", key || null);
    location.reload(); // a host swaps users by reloading; the widget then boots with the new token
  });
}

/** No demo tokens (an operator's secret, or not asked from this machine): say so instead of an empty picker. */
function signInUnavailable() {
  const select = $("#demo-user");
  select.disabled = true;
  select.options[0].textContent = "(demo sign-in not available)";
  const hint = $("#hint");
  hint.dataset.hl = "demo-signin-off";
  hint.textContent = "Demo sign-in links are not available: they exist only when `helpline up` generated its own " +
    "secret, and only on this machine. Open this page with ?token=… signed by your platform to try the widget.";
}

document.querySelector(".tf").addEventListener("click", (ev) => {
  const tf = ev.target.closest("[data-tf]");
  if (!tf) return;
  state.timeframe = tf.dataset.tf;
  drawChart();
  handContext();
});
addEventListener("hashchange", route);
renderWatchlist();
route();
signIn();
