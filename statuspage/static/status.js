// Live updates for the status page: the server-rendered page works without this file.
// Polls /api/status; when anything changed, fetches the page again and swaps <main> for the new one.
// The new markup is parsed by DOMParser (inert) and moved in as nodes: no innerHTML, no user text as HTML.
// Every <time datetime> is shown in the page's language (<html lang>, chosen by the server) and the viewer's
// own time zone (Intl's default); the server wrote it in UTC for readers without JavaScript.
const POLL_MS = 15000;
const when = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
  year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short",
});

function localTimes(root) {
  for (const el of root.querySelectorAll("time[datetime]")) {
    const date = new Date(el.getAttribute("datetime"));
    if (!Number.isNaN(date.getTime())) el.textContent = when.format(date);
  }
}

function fingerprint(s) {
  return JSON.stringify([s.overall, s.updated_at, s.components.map((c) => c.status),
    s.incidents.map((i) => [i.id, i.status, i.updates.length])]);
}

let last = null;

async function refresh() {
  try {
    const status = await (await fetch("/api/status", { cache: "no-store" })).json();
    const now = fingerprint(status);
    if (last !== null && now !== last) {
      // The same page in the same language (?lang= kept; fetch sends the browser's Accept-Language).
      const html = await (await fetch("/" + location.search, { cache: "no-store" })).text();
      const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live");
      const current = document.getElementById("live");
      if (fresh && current) {
        localTimes(fresh);
        current.replaceWith(document.adoptNode(fresh));
      }
    }
    last = now;
    document.documentElement.dataset.live = "on";
  } catch (err) {
    document.documentElement.dataset.live = "offline";  // keep the last page shown; try again later
  }
}

localTimes(document);
if (document.getElementById("live")) {  // the main page is live; an incident's page only shows local times
  refresh();
  setInterval(refresh, POLL_MS);
  // Pushed changes: the page's own stream (/api/stream) refreshes at once; the poll above covers its absence.
  if (typeof EventSource === "function") new EventSource("/api/stream").addEventListener("status", () => refresh());
}

// Subscribing by e-mail (the form is on the page only when the service can send mail).
const subscribe = document.querySelector('[data-hl="subscribe"]');
if (subscribe) {
  subscribe.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const result = subscribe.querySelector('[role="status"]');
    const email = subscribe.querySelector('input[name="email"]').value.trim();
    try {
      const res = await fetch("/api/subscriptions", {
        // The page's language becomes the e-mails' language.
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, lang: document.documentElement.lang }),
      });
      const body = await res.json().catch(() => ({}));
      result.textContent = res.ok ? subscribe.dataset.sent : (body.error && body.error.message) || res.statusText;
    } catch (err) {
      result.textContent = String(err);
    }
  });
}
