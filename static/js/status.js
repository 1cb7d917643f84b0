// Status screen: follows the SMS status live, then returns to the welcome screen by itself.
// "sent" is final enough to start the countdown, but Twilio may still report delivered or undelivered, so the
// screen keeps polling until it leaves.
(function () {
  "use strict";
  var box = document.getElementById("visit-status");
  if (!box) { return; }
  var resetMs = Number(box.dataset.resetSeconds) * 1000;
  var giveUpAt = Date.now() + Math.max(60000, resetMs * 6);
  var leaveTimer = null;
  var leavingAskDesk = false;

  function home() { window.location.replace(box.dataset.homeUrl); }

  function leaveSoon(status) {
    if (leaveTimer !== null && (leavingAskDesk || !status.ask_desk)) { return; }
    // Someone who must go to the desk gets longer to read that, also when the news comes during the countdown.
    clearTimeout(leaveTimer);
    leavingAskDesk = status.ask_desk;
    leaveTimer = setTimeout(home, status.ask_desk ? resetMs * 3 : resetMs);
  }

  function show(status) {
    ["host", "visitor", "reception"].forEach(function (recipient) {
      var item = box.querySelector("[data-recipient=" + recipient + "]");
      if (item) { item.dataset.state = status[recipient] || "none"; }
    });
    box.dataset.askDesk = status.ask_desk ? "true" : "false";
    box.dataset.final = status.final ? "true" : "false";
    if (status.final) { leaveSoon(status); }
  }

  function poll() {
    if (Date.now() > giveUpAt) { home(); return; }
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (status) { show(status); }
        setTimeout(poll, status && status.final ? 2000 : 1000);
      })
      .catch(function () { setTimeout(poll, 2000); });
  }

  window.addEventListener("pageshow", function (event) { if (event.persisted) { home(); } });
  poll();
}());
