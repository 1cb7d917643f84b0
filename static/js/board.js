// Welcome screen: keeps the "On the way" board current (hosts who answered the arrival SMS), every 15 seconds.
// Only hosts' short names come from the server, and they are set as text, never as HTML.
(function () {
  "use strict";
  var board = document.getElementById("on-the-way");
  if (!board) { return; }
  var list = board.querySelector("ul");

  function show(coming) {
    var items = coming.map(function (entry) {
      var item = document.createElement("li");
      var host = document.createElement("span");
      var when = document.createElement("span");
      host.className = "host";
      host.textContent = entry.host;
      when.className = "when";
      when.textContent = entry.when;
      item.append(host, " — ", when);
      return item;
    });
    list.replaceChildren.apply(list, items);
    board.hidden = items.length === 0;
  }

  function refresh() {
    fetch(board.dataset.url, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (coming) { if (coming) { show(coming); } })
      .catch(function () { /* the next refresh tries again */ })
      .then(function () { setTimeout(refresh, 15000); });
  }

  setTimeout(refresh, 15000);
}());
