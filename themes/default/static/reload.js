// Live reload for `hindsight serve` (never part of a built site). Listens on
// Server-Sent Events; reloads on a new good build; shows the errors of a bad
// build in an overlay over the last good page, and clears it when fixed.
// Before the first good build, pages are `serve`'s list of the errors
// (#hindsight-no-site): any build reloads it, into the site once one is good.
(function () {
  "use strict";
  var me = document.currentScript;
  var build = Number(me && me.dataset.build);
  var overlay = null;
  var noSite = document.getElementById("hindsight-no-site") !== null;

  function show(errors) {
    if (!overlay) {
      overlay = document.createElement("div");
      overlay.id = "hindsight-overlay";
      overlay.setAttribute("role", "alert");
      overlay.style.cssText = "position:fixed;inset:auto 1rem 1rem 1rem;max-height:60vh;overflow:auto;z-index:99999;" +
        "background:#1c1f23;color:#f3f4f6;border-left:6px solid #e5484d;border-radius:8px;padding:1rem 1.25rem;" +
        "font:14px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;box-shadow:0 10px 40px rgba(0,0,0,.4)";
      document.body.appendChild(overlay);
    }
    overlay.textContent = "";
    var h = document.createElement("div");
    h.style.cssText = "font-weight:700;margin-bottom:.5rem;color:#ff9592";
    h.textContent = errors.length + (errors.length === 1 ? " error" : " errors") + " — still showing the last good build";
    overlay.appendChild(h);
    errors.forEach(function (e) {
      var item = document.createElement("div");
      item.className = "hindsight-error";
      item.style.cssText = "margin:.6rem 0";
      var loc = document.createElement("div");
      loc.style.color = "#9ecbff";
      loc.textContent = e.file + ":" + e.line + ":" + e.column + "  [" + e.code + "]";
      var msg = document.createElement("div");
      msg.textContent = e.message;
      item.appendChild(loc);
      item.appendChild(msg);
      if (e.source) {
        var src = document.createElement("pre");
        src.style.cssText = "margin:.25rem 0;color:#c9d1d9;white-space:pre-wrap";
        src.textContent = e.line + " | " + e.source;
        item.appendChild(src);
      }
      if (e.hint) {
        var hint = document.createElement("div");
        hint.style.color = "#a8e6b8";
        hint.textContent = "help: " + e.hint;
        item.appendChild(hint);
      }
      overlay.appendChild(item);
    });
  }

  function update(state) {
    if (noSite) {
      if (state.build !== build) location.reload();
    } else if (state.errors) {
      fetch("/__hindsight/errors.json").then(function (r) { return r.json(); }).then(function (s) { show(s.errors); });
    } else if (state.build !== build) {
      // A build that did not change this page (and follows the one it was
      // served from) leaves it alone; any doubt reloads.
      var path = location.pathname.replace(/index\.html$/, "");
      if (state.pages && state.from === build && state.pages.indexOf(path) < 0 && !overlay) {
        build = state.build;
      } else {
        location.reload();
      }
    } else if (overlay) {
      overlay.remove();
      overlay = null;
    }
  }

  var source = new EventSource("/__hindsight/events");
  source.onmessage = function (ev) { update(JSON.parse(ev.data)); };
})();
