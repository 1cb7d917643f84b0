// The host list's "select every host on this page" box: shown only where this script runs; without it, each row's
// box and the "all hosts matching" choice still work.
(function () {
  "use strict";
  var all = document.getElementById("select-page");
  if (!all) { return; }
  var boxes = document.querySelectorAll("#host-list input[name=host]");
  all.hidden = false;
  all.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
  });
}());
