// Welcome screen left in another language: back to the default language after a while without a touch or a key.
(function () {
  "use strict";
  var script = document.getElementById("welcome-reset");
  if (!script) { return; }
  var idleMs = Number(script.dataset.idleSeconds) * 1000;
  var timer;
  function home() { window.location.replace(script.dataset.idleUrl); }
  function touched() { clearTimeout(timer); timer = setTimeout(home, idleMs); }
  ["pointerdown", "keydown", "touchstart"].forEach(function (name) {
    document.addEventListener(name, touched, { passive: true });
  });
  touched();
})();
