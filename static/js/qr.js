// Welcome screen: a new QR code every minute (a code is valid for two), and at once when a phone has checked in
// with the one shown, which uses it up. The image is fetched again; no script or data is in it.
(function () {
  "use strict";
  var figure = document.getElementById("phone-qr");
  if (!figure) { return; }
  var image = figure.querySelector("img");
  var source = image.getAttribute("src");
  var version = figure.dataset.version;

  function refresh() { image.src = source + "?t=" + Date.now(); }

  function check() {
    fetch(figure.dataset.versionUrl, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (answer && String(answer.version) !== version) { version = String(answer.version); refresh(); }
      })
      .catch(function () { /* the next check tries again */ });
  }

  setInterval(refresh, Number(figure.dataset.refreshSeconds) * 1000);
  setInterval(check, 5000);
}());
