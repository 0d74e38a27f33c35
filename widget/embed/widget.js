/*
 * Helpline widget loader: the one classic <script src=".../widget.js" async data-token="T"> a host page adds.
 * It defines window.Helpline at once (calls are queued) and imports the widget's ES modules from beside itself.
 */
(function () {
  "use strict";
  if (window.Helpline && window.Helpline.version) return;
  var script = document.currentScript;
  var src = script && script.src ? script.src : location.origin + "/widget.js";
  var origin = new URL(src).origin;
  // The server writes its build's version here (support/web/static.py), so the modules load from immutable URLs.
  var build = "";
  // ...and the first view's modules (embed/app.js and its static imports) and its languages: the loader hints them
  // all at once (modulepreload), so every module is one round trip after this script, not one per import level.
  var preload = [];
  var languages = ["en"];
  // Served as /widget.js (the tree under /widget/) or from inside the tree as .../embed/widget.js.
  var root = /\/embed\/widget\.js$/.test(new URL(src).pathname)
    ? new URL("../", src).href
    : new URL("widget/" + (build ? build + "/" : ""), src).href;
  var queue = [];
  var app = null;

  function call(name) {
    return function () {
      var args = Array.prototype.slice.call(arguments);
      if (app) return app[name].apply(app, args);
      queue.push([name, args]);
    };
  }

  var prefetched = null;
  var started = false;
  var queueBoot = call("boot");

  var api = {
    version: "1",
    boot: function (options) {
      if (started && !app) early(options); // booted while the modules load: its words and list can still come along
      return queueBoot.apply(null, arguments);
    },
    open: call("open"),
    close: call("close"),
    setToken: call("setToken"),
    setContext: call("setContext"),
    on: call("on"),
  };
  window.Helpline = api;

  var token = script && script.getAttribute("data-token");
  if (token) api.boot({ token: token, lang: script.getAttribute("data-lang") || undefined });

  function hint(path) {
    var link = document.createElement("link");
    link.rel = "modulepreload";
    link.href = root + path;
    (document.head || document.documentElement).appendChild(link);
  }

  // The language i18n.js pickLanguage() will choose (the token's claim, the host's lang, ?lang=, <html lang>, the
  // browser's): a guess that only decides which words are hinted; app.js's boot loads the right ones regardless.
  function language(boot) {
    var claim;
    try {
      claim = JSON.parse(atob(boot.token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).locale;
    } catch (e) { /* no token, or not a JWT: no claim */ }
    var tags = [claim, boot.lang, new URLSearchParams(location.search).get("lang"),
      document.documentElement.getAttribute("lang")].concat(navigator.languages || [navigator.language]);
    for (var i = 0; i < tags.length; i++) {
      var primary = String(tags[i] || "").split(/[-_]/)[0].toLowerCase();
      if (languages.indexOf(primary) >= 0) return primary;
    }
    return "en";
  }

  // A boot's language module and the ticket list it shows first, asked for beside the modules, not after them.
  function early(boot) {
    if (!boot || !boot.token || prefetched) return;
    hint("locales/" + language(boot) + "/launcher.js"); // the launcher's words; the panel brings the rest
    var page = fetch(origin + "/api/tickets?limit=50", { headers: { Authorization: "Bearer " + boot.token } })
      .then(function (res) { return res.ok ? res.json() : null; }, function () { return null; });
    prefetched = { token: boot.token, page: page };
  }

  function ready() {
    started = true;
    preload.forEach(hint);
    var boots = queue.filter(function (call) { return call[0] === "boot"; });
    if (boots.length) early(boots[boots.length - 1][1][0]);
    import(root + "embed/app.js").then(function (mod) {
      app = mod.start(origin, prefetched);
      var pending = queue;
      queue = [];
      for (var i = 0; i < pending.length; i++) app[pending[i][0]].apply(app, pending[i][1]);
      window.dispatchEvent(new CustomEvent("helpline:loaded"));
    }, function (err) {
      console.error("Helpline widget failed to load", err);
    });
  }

  if (document.body) ready();
  else document.addEventListener("DOMContentLoaded", ready);
  window.dispatchEvent(new CustomEvent("helpline:ready"));
})();
