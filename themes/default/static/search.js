// Client-side search over /search-index.json (built by hindsight, see src/search.rs).
// Titles and ids rank above services and tags, which rank above body terms.
// The index loads on first use, so pages that never search pay nothing.
(function () {
  "use strict";
  var base = document.documentElement.dataset.base || "/";
  var index = null, loading = null;

  function load() {
    if (index) return Promise.resolve(index);
    if (!loading) {
      loading = fetch(base + "search-index.json").then(function (r) { return r.json(); }).then(function (data) {
        var terms = data.terms.map(function (t) {
          var docs = [], at = 0;
          for (var i = 0; i < t[1].length; i++) { at += t[1][i]; docs.push(at); }
          return [t[0], docs];
        });
        index = { docs: data.docs, terms: terms, lower: data.docs.map(function (d) {
          return { id: d[0].toLowerCase(), title: d[1].toLowerCase(), keys: d[6].toLowerCase() };
        }) };
        return index;
      });
    }
    return loading;
  }

  function tokens(q) {
    return q.toLowerCase().split(/[^\p{L}\p{N}_-]+/u).filter(function (t) { return t.length > 0; });
  }

  // Terms are sorted: find the first term with the prefix by binary search.
  function termDocs(idx, prefix, into) {
    var lo = 0, hi = idx.terms.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (idx.terms[mid][0] < prefix) lo = mid + 1; else hi = mid; }
    for (var i = lo; i < idx.terms.length && idx.terms[i][0].lastIndexOf(prefix, 0) === 0; i++) {
      var exact = idx.terms[i][0] === prefix ? 2 : 1;
      idx.terms[i][1].forEach(function (d) { into[d] = Math.max(into[d] || 0, exact); });
    }
  }

  function search(idx, q) {
    var toks = tokens(q);
    if (!toks.length) return [];
    var scores = null;
    toks.forEach(function (tok) {
      var body = {};
      if (tok.length >= 3) termDocs(idx, tok, body);
      var next = {};
      for (var i = 0; i < idx.docs.length; i++) {
        var l = idx.lower[i], s = 0;
        if (l.id === tok) s += 100;
        else if (l.id.indexOf(tok) >= 0) s += 40;
        if (l.title.indexOf(tok) >= 0) s += (new RegExp("(^|[^\\p{L}\\p{N}])" + tok.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "u").test(l.title)) ? 30 : 12;
        if (l.keys.indexOf(tok) >= 0) s += 8;
        if (body[i]) s += 3 * body[i];
        if (s > 0 && (!scores || scores[i] !== undefined)) next[i] = (scores ? scores[i] : 0) + s;
      }
      scores = next;
    });
    return Object.keys(scores).map(Number).sort(function (a, b) {
      return scores[b] - scores[a] || (idx.docs[b][5] > idx.docs[a][5] ? 1 : -1);
    });
  }

  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text) e.textContent = text; return e; }

  function resultLink(d) {
    var a = el("a");
    a.href = d[3];
    var line = el("span");
    line.appendChild(el("span", "doc-id", d[0] + " "));
    line.appendChild(document.createTextNode(d[1]));
    a.appendChild(line);
    a.appendChild(el("span", "result-meta", [d[2], d[4], d[5]].filter(Boolean).join(" · ")));
    return a;
  }

  // Header box: a dropdown of the top results, keyboard navigable.
  var box = document.getElementById("site-search");
  var drop = document.getElementById("search-dropdown");
  if (box && drop) {
    var active = -1;
    box.addEventListener("focus", load);
    box.addEventListener("input", function () {
      var q = box.value;
      load().then(function (idx) {
        if (box.value !== q) return;
        drop.textContent = "";
        active = -1;
        var hits = search(idx, q).slice(0, 8);
        hits.forEach(function (i) { drop.appendChild(resultLink(idx.docs[i])); });
        if (q.trim() && !hits.length) drop.appendChild(el("div", "muted", "No results")).style.padding = ".5rem .7rem";
        drop.hidden = !q.trim();
      });
    });
    box.addEventListener("keydown", function (e) {
      var links = drop.querySelectorAll("a");
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        active = Math.max(0, Math.min(links.length - 1, active + (e.key === "ArrowDown" ? 1 : -1)));
        links.forEach(function (l, i) { l.classList.toggle("active", i === active); });
      } else if (e.key === "Enter" && active >= 0 && links[active]) {
        e.preventDefault();
        location.href = links[active].href;
      } else if (e.key === "Escape") {
        drop.hidden = true;
      }
    });
    document.addEventListener("click", function (e) { if (!drop.contains(e.target) && e.target !== box) drop.hidden = true; });
  }

  // The search page: full results, answering while typing; ?q= works too.
  var input = document.getElementById("search-page-input");
  var list = document.getElementById("search-results");
  var status = document.getElementById("search-status");
  if (input && list) {
    var run = function () {
      var q = input.value;
      load().then(function (idx) {
        if (input.value !== q) return;
        list.textContent = "";
        var hits = search(idx, q);
        hits.slice(0, 100).forEach(function (i) { var li = el("li"); li.appendChild(resultLink(idx.docs[i])); list.appendChild(li); });
        status.textContent = q.trim() ? hits.length + (hits.length === 1 ? " result" : " results") : "Type to search titles, ids, services, tags and text.";
        history.replaceState(null, "", q.trim() ? "?q=" + encodeURIComponent(q) : location.pathname);
      });
    };
    input.addEventListener("input", run);
    var initial = new URLSearchParams(location.search).get("q");
    if (initial) { input.value = initial; run(); }
  }
})();
