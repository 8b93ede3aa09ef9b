// Progressive enhancement only: every page works without it.
// The queue refreshes its rows in place every data-poll-seconds and says when the count changes.
(function () {
  "use strict";
  function pollQueue(table) {
    var url = table.getAttribute("data-poll");
    var seconds = Number(table.getAttribute("data-poll-seconds")) || 10;
    var status = document.getElementById("queue-status");
    window.setInterval(function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (response.redirected || !response.ok) { throw new Error("queue " + response.status); }
          return response.text();
        })
        .then(function (html) {
          var parsed = new DOMParser().parseFromString("<table>" + html + "</table>", "text/html");
          var fresh = parsed.getElementById("queue-rows");
          var current = document.getElementById("queue-rows");
          if (!fresh || !current) { return; }
          var before = current.getAttribute("data-count");
          current.replaceWith(fresh);
          var after = fresh.getAttribute("data-count");
          if (status && before !== after) {
            status.textContent = "The queue now has " + after + " open case" + (after === "1" ? "" : "s") + ".";
          }
        })
        .catch(function () {
          if (status) { status.textContent = "The queue could not be refreshed; reload the page."; }
        });
    }, seconds * 1000);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var table = document.getElementById("queue");
    if (table) { pollQueue(table); }
    var focus = document.getElementById("error") || document.getElementById("done");
    if (focus) { focus.focus(); }
  });
})();
