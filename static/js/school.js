// School visit pages on the kiosk: the teacher's name filter, and an idle wipe of the forms (R25, R26).
(function () {
  "use strict";
  var search = document.getElementById("school-search");
  if (search) {
    var people = document.querySelectorAll("#school-people li");
    search.addEventListener("input", function () {
      var query = search.value.trim().toLowerCase();
      people.forEach(function (item) {
        item.hidden = query !== "" && item.getAttribute("data-name").indexOf(query) === -1;
      });
    });
    // Enter in the search box should not send the form.
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); }
    });
  }

  var form = document.querySelector("form[data-idle-seconds]");
  if (!form) { return; }
  function wipe() {
    form.reset();
    form.querySelectorAll("input[type=text], input[type=email], input[type=search]")
      .forEach(function (input) { input.value = ""; });
  }
  // Back/forward: never show what the previous pupil typed.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { wipe(); window.location.reload(); }
  });
  var idleMs = Number(form.dataset.idleSeconds) * 1000;
  var idleTimer;
  function goIdle() { wipe(); window.location.replace(form.dataset.idleUrl); }
  function touched() { clearTimeout(idleTimer); idleTimer = setTimeout(goIdle, idleMs); }
  ["input", "keydown", "pointerdown", "focusin"].forEach(function (type) {
    document.addEventListener(type, touched, true);
  });
  touched();
}());
