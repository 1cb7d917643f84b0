// The visitor badge (issue 15), on pages that carry template#badge-template (templates/kiosk/_badge.html).
// Once the server has accepted a check-in, static/js/submit.js calls velkommenBadge.print(form, submitter) just before
// it leaves the page. The badge is built here from what is in the page (the name and host typed, or the pupils
// ticked), the typed inputs are wiped, and the browser prints (silently in Chromium started with --kiosk-printing).
// The badge stays in the page until the next page replaces it. Nothing goes to the server, storage, cookies or a URL.
(function () {
  "use strict";
  var template = document.getElementById("badge-template");
  if (!template) { return; }
  var LONG_NAME = 24;  // letters; a longer name is set smaller, and still wraps rather than being cut

  function today() {
    var options = { day: "numeric", month: "long", year: "numeric" };
    try { return new Date().toLocaleDateString(document.documentElement.lang, options); }
    catch (e) { return new Date().toLocaleDateString(undefined, options); }  // a language the browser lacks
  }

  // One badge: a copy of the template with each [data-badge] slot given its value; a line left empty goes.
  function card(values) {
    var badge = template.content.firstElementChild.cloneNode(true);
    badge.querySelectorAll("[data-badge]").forEach(function (slot) {
      var value = values[slot.getAttribute("data-badge")];
      if (value) { slot.textContent = value; }
      if (!slot.textContent.trim()) { (slot.closest(".badge-line") || slot).remove(); }
    });
    if (values.name.length > LONG_NAME) { badge.classList.add("badge-long-name"); }
    return badge;
  }

  function visitor(form) {
    var host = form.querySelector("#host_query").value.trim();
    var reception = template.getAttribute("data-reception");
    if (reception && form.querySelector("#host_id").value === reception) {
      host = template.getAttribute("data-reception-name");
    }
    return [{ name: form.querySelector("#name").value.trim(), host: host }];
  }

  // The pupils this submit checks in: those ticked, or with "Everyone is here" all who had not arrived yet.
  function pupils(form, submitter) {
    var wanted = document.getElementById("badge-pupils");
    if (wanted && !wanted.checked) { return []; }
    var everyone = Boolean(submitter && submitter.name === "everyone");
    return Array.prototype.filter.call(form.querySelectorAll("li[data-badge-name]"), function (item) {
      var box = item.querySelector("input[type=checkbox]");
      return box && !box.disabled && (everyone || box.checked);
    }).map(function (item) { return { name: item.getAttribute("data-badge-name") }; });
  }

  function wipe(form) {
    form.querySelectorAll("input[type=text], input[type=tel], input[type=search], #host_id")
      .forEach(function (input) { input.value = ""; });
  }

  function print(form, submitter) {
    var people = template.getAttribute("data-people") === "pupils" ? pupils(form, submitter) : visitor(form);
    wipe(form);
    people = people.filter(function (person) { return person.name; });
    if (!people.length) { return; }
    var old = document.getElementById("badge");
    if (old) { old.remove(); }
    var sheet = document.createElement("section");
    sheet.id = "badge";
    sheet.className = "badge-" + template.getAttribute("data-size");
    var date = today();
    people.forEach(function (person) {
      person.date = date;
      sheet.appendChild(card(person));
    });
    document.body.appendChild(sheet);
    window.print();  // one print job, one page per badge; blocks until printed (or the dialog is closed)
  }

  window.velkommenBadge = { print: print };
}());
