// School visit pages on the kiosk: the teacher's name filter (idle.js wipes the forms).
(function () {
  "use strict";
  var search = document.getElementById("school-search");
  if (search) {
    var people = document.querySelectorAll("#school-people li");
    var filter = function () {
      var query = search.value.trim().toLowerCase();
      people.forEach(function (item) {
        item.hidden = query !== "" && item.getAttribute("data-name").indexOf(query) === -1;
      });
    };
    search.addEventListener("input", filter);
    filter();  // what was typed before this script ran is filtered too
    // Enter in the search box should not send the form.
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); }
    });
  }
}());
