// Check-in form: host type-ahead (ARIA combobox) and focus on mistakes; idle.js wipes the form.
(function () {
  "use strict";
  var form = document.getElementById("checkin-form");
  if (!form) { return; }

  // After a refused submit, move focus to the list of mistakes so a screen reader reads it first.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }

  // Host type-ahead.
  var input = document.getElementById("host_query");
  var hidden = document.getElementById("host_id");
  var list = document.getElementById("host-options");
  var count = document.getElementById("host-count");
  var none = document.getElementById("host-none");
  var field = form.querySelector(".combobox");
  var minChars = Number(form.dataset.searchMin);
  var options = [];
  var active = -1;
  var latest = 0;
  var debounce;

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function choose(index) {
    var option = options[index];
    none.hidden = true;
    input.value = option.name;
    hidden.value = String(option.id);
    close();
    count.textContent = option.name;
  }

  function highlight(index) {
    active = index;
    Array.prototype.forEach.call(list.children, function (li, i) {
      li.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", list.children[index].id);
      list.children[index].scrollIntoView({ block: "nearest" });
    }
  }

  function render(hosts) {
    options = hosts;
    list.textContent = "";
    hosts.forEach(function (host, i) {
      var li = document.createElement("li");
      li.id = "host-option-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      var name = document.createElement("span");
      name.className = "name";
      name.textContent = host.name;
      li.appendChild(name);
      // The department, and for a host of another office that office (the tablet's own hosts come first).
      var details = [host.department, host.location].filter(Boolean).join(" · ");
      if (details) {
        var department = document.createElement("span");
        department.className = "department";
        department.textContent = details;
        li.appendChild(department);
      }
      li.addEventListener("click", function () { choose(i); input.focus(); });
      list.appendChild(li);
    });
    var open = hosts.length > 0;
    // An on-screen keyboard covers the lower part of the screen: bring the field to the top as the list opens.
    if (open && list.hidden) { field.scrollIntoView({ block: "start" }); }
    list.hidden = !open;
    none.hidden = open || input.value.trim().length < minChars;
    input.setAttribute("aria-expanded", open ? "true" : "false");
    active = -1;
    if (!open) { count.textContent = list.dataset.noneText; }
    else if (hosts.length === 1) { count.textContent = list.dataset.oneText; }
    else { count.textContent = list.dataset.countText.replace("%d", hosts.length); }
  }

  function search() {
    var query = input.value.trim();
    if (query.length < minChars) { render([]); count.textContent = ""; return; }
    var ticket = ++latest;
    fetch(form.dataset.searchUrl + "?q=" + encodeURIComponent(query), {
      headers: { Accept: "application/json" }, cache: "no-store", credentials: "same-origin"
    })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (hosts) { if (ticket === latest) { render(hosts); } })
      .catch(function () { if (ticket === latest) { render([]); } });
  }

  input.addEventListener("input", function () {
    hidden.value = "";
    clearTimeout(debounce);
    debounce = setTimeout(search, 120);
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" && options.length) {
      event.preventDefault();
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(Math.min(active + 1, options.length - 1));
    } else if (event.key === "ArrowUp" && options.length) {
      event.preventDefault();
      highlight(Math.max(active - 1, 0));
    } else if (event.key === "Enter" && !list.hidden && active >= 0) {
      event.preventDefault();
      choose(active);
    } else if (event.key === "Escape") {
      close();
    }
  });

  document.addEventListener("click", function (event) {
    if (!form.querySelector(".combobox").contains(event.target)) { close(); }
  });

  // Text typed before this script ran, or kept after a refused submit, still gets its suggestions.
  if (input.value.trim() && !hidden.value) { search(); }

  var reception = document.getElementById("choose-reception");
  if (reception) {
    reception.addEventListener("click", function () {
      input.value = reception.dataset.label;
      hidden.value = reception.dataset.value;
      none.hidden = true;
      close();
      count.textContent = reception.dataset.label;
    });
  }
}());
