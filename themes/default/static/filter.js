// Filters index tables by severity, service and year. The full table is
// readable without JavaScript; this only hides rows. State lives in the URL
// (?severity=SEV1&year=2026) so a filtered view can be shared.
(function () {
  "use strict";
  var table = document.querySelector("table[data-filterable]");
  var selects = document.querySelectorAll("select[data-filter]");
  if (!table || !selects.length) return;
  var rows = table.tBodies[0].rows;
  var count = document.querySelector("[data-filter-count]");
  var params = new URLSearchParams(location.search);
  selects.forEach(function (s) {
    var v = params.get(s.dataset.filter === "services" ? "service" : s.dataset.filter);
    if (v) s.value = v;
    s.addEventListener("change", apply);
  });
  function apply() {
    var shown = 0;
    var q = new URLSearchParams();
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i], ok = true;
      selects.forEach(function (s) {
        if (!s.value) return;
        var have = (row.dataset[s.dataset.filter] || "").split(" ");
        if (have.indexOf(s.value) < 0) ok = false;
      });
      row.hidden = !ok;
      if (ok) shown++;
    }
    selects.forEach(function (s) { if (s.value) q.set(s.dataset.filter === "services" ? "service" : s.dataset.filter, s.value); });
    var qs = q.toString();
    history.replaceState(null, "", qs ? "?" + qs : location.pathname);
    if (count) count.textContent = shown === rows.length ? "" : shown + " of " + rows.length + " shown";
  }
  apply();
})();
