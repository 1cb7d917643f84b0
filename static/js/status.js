// Status screen: follows the SMS status live, then returns to the welcome screen by itself.
// It leaves only once every message is settled ("final"), or once it has sent the visitor to the desk ("ask_desk":
// the host could not be reached, or not in time) and given them time to read why. "sent" is final enough to start
// the countdown, but Twilio may still report delivered or undelivered, so the screen keeps polling until it leaves.
(function () {
  "use strict";
  var box = document.getElementById("visit-status");
  if (!box) { return; }
  var resetMs = Number(box.dataset.resetSeconds) * 1000;
  // Without an answer from the server for this long, the screen cannot know the truth: it sends the visitor to the desk.
  var lostContactMs = Math.max(60000, resetMs * 6);
  var lastAnswer = Date.now();
  var leaveTimer = null;
  var leavingAskDesk = false;

  function home() { window.location.replace(box.dataset.homeUrl); }

  function leaveSoon(askDesk) {
    if (leaveTimer !== null && (leavingAskDesk || !askDesk)) { return; }
    // Someone who must go to the desk gets longer to read that, also when the news comes during the countdown.
    clearTimeout(leaveTimer);
    leavingAskDesk = askDesk;
    leaveTimer = setTimeout(home, askDesk ? resetMs * 3 : resetMs);
  }

  function show(status) {
    ["host", "visitor", "reception"].forEach(function (recipient) {
      var item = box.querySelector("[data-recipient=" + recipient + "]");
      if (item) { item.dataset.state = status[recipient] || "none"; }
    });
    var visitor = box.querySelector("[data-recipient=visitor]");
    if (visitor) { visitor.dataset.reason = status.visitor_reason || ""; }
    box.dataset.askDesk = status.ask_desk ? "true" : "false";
    box.dataset.reason = status.reason || "";
    box.dataset.final = status.final ? "true" : "false";
    var coming = document.getElementById("coming");
    if (coming && coming.textContent !== (status.coming || "")) { coming.textContent = status.coming || ""; }
    if (status.final || status.ask_desk) { leaveSoon(status.ask_desk); }
  }

  function lostContact() {
    box.dataset.askDesk = "true";
    box.dataset.reason = "lost_contact";
    leaveSoon(true);
  }

  function poll() {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (status) {
          lastAnswer = Date.now();
          show(status);
        } else if (Date.now() - lastAnswer > lostContactMs) {
          lostContact();
        }
        setTimeout(poll, status && status.final ? 2000 : 1000);
      })
      .catch(function () {
        if (Date.now() - lastAnswer > lostContactMs) { lostContact(); }
        setTimeout(poll, 2000);
      });
  }

  window.addEventListener("pageshow", function (event) { if (event.persisted) { home(); } });
  poll();
}());
