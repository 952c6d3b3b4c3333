// Live history: new rows arrive over server-sent events and go on top of the table.
"use strict";
(function () {
  function when(seconds) {
    return new Date(seconds * 1000).toLocaleString();
  }
  document.querySelectorAll("time[data-at]").forEach(function (el) {
    if (el.dataset.at) { el.textContent = when(parseFloat(el.dataset.at)); }
  });
  var table = document.getElementById("history");
  if (!table || !window.EventSource) { return; }
  var body = table.querySelector("tbody");
  var source = new EventSource(table.dataset.stream);
  source.onmessage = function (event) {
    var m = JSON.parse(event.data);
    var cells = [when(m.at), m.device_id || "", m.kind, m.action || "", m.outcome,
                 m.latency_ms ? Math.round(m.latency_ms) + " ms" : "", m.origin || ""];
    var row = document.createElement("tr");
    row.className = "fresh";
    cells.forEach(function (text) {
      var cell = document.createElement("td");
      cell.textContent = text;
      row.appendChild(cell);
    });
    body.insertBefore(row, body.firstChild);
    while (body.rows.length > 200) { body.deleteRow(body.rows.length - 1); }
  };
})();
