// Kiosk forms (form[data-idle-seconds]): wiped and back to the welcome screen after a while without a touch (R26),
// and never showing the previous visitor's entries after Back (R25).
(function () {
  "use strict";
  var form = document.querySelector("form[data-idle-seconds]");
  if (!form) { return; }

  function wipe() {
    form.reset();
    form.querySelectorAll("input[type=text], input[type=tel], input[type=email], input[type=search], " +
                          "input[type=hidden]:not([name=csrf_token])")
      .forEach(function (input) { input.value = ""; });
  }

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
