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

  var api = {
    version: "1",
    boot: call("boot"),
    open: call("open"),
    close: call("close"),
    setToken: call("setToken"),
    setContext: call("setContext"),
    on: call("on"),
  };
  window.Helpline = api;

  var token = script && script.getAttribute("data-token");
  if (token) api.boot({ token: token, lang: script.getAttribute("data-lang") || undefined });

  function ready() {
    // The viewer's words load while app.js does (i18n.js and its catalogue module sit no deeper than app.js's
    // imports): no round trip added; app.js then finds them in the module map.
    var boot = queue.filter(function (call) { return call[0] === "boot"; }).pop();
    import(root + "i18n.js").then(function (i18n) { return i18n.loadWidget(boot && boot[1][0]); }).catch(function () {});
    import(root + "embed/app.js").then(function (mod) {
      app = mod.start(origin);
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
