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
  var names = JSON.parse(table.dataset.names || "{}");
  var members = JSON.parse(table.dataset.members || "{}");
  var labels = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
    return th.textContent;
  });
  var source = new EventSource(table.dataset.stream);
  source.onerror = function () {
    // Refused (an account holds at most so many open streams) or gone: say so, once.
    if (source.readyState !== EventSource.CLOSED || document.getElementById("live-stopped")) {
      return;
    }
    var note = document.createElement("p");
    note.id = "live-stopped";
    note.textContent = "Live updates stopped (too many pages open, or the bridge restarted):" +
      " reload the page to resume.";
    table.parentNode.insertBefore(note, table);
  };
  source.onmessage = function (event) {
    var m = JSON.parse(event.data);
    var failed = m.outcome !== "ok" && m.outcome !== "queued";
    var action = (m.action || "") + (m.directive ? " (" + m.directive + ")" : "");
    var cells = [when(m.at), names[m.device_id] || m.device_id || "", m.kind, action,
                 m.outcome, failed ? m.detail || "" : "",
                 m.latency_ms ? Math.round(m.latency_ms) + " ms" : "",
                 (m.origin || "") + (m.member ? " \u00b7 by " + (members[m.member] || m.member) : ""),
                 ""];
    var row = document.createElement("tr");
    row.className = "fresh";
    cells.forEach(function (text, i) {
      var cell = document.createElement("td");
      cell.dataset.label = labels[i] || "";
      cell.textContent = text;
      row.appendChild(cell);
    });
    if (m.journey && m.id) {
      var link = document.createElement("a");
      link.href = table.dataset.journeys + m.id;
      link.textContent = "journey";
      row.lastChild.appendChild(link);
    }
    body.insertBefore(row, body.firstChild);
    while (body.rows.length > 200) { body.deleteRow(body.rows.length - 1); }
  };
})();
