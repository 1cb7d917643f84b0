// Kiosk forms (form[data-submit=fetch]) are sent with fetch(), so no POST and no answer holding the typed values ever
// becomes an entry in the tablet's history or session-restore files (issue 9, item 2). A mistake is shown in place:
// the summary, each field's message and the one-time tokens come from the server's answer; what the visitor typed
// stays in the inputs and nowhere else. Success and refusals are redirects, followed with location.replace().
(function () {
  "use strict";
  var form = document.querySelector("form[data-submit=fetch]");
  if (!form || !window.fetch || !window.DOMParser) { return; }  // without them, the server's no-JS path serves
  var busy = false;

  function replaceSummary(fresh) {
    var old = document.getElementById("error-summary");
    if (old) { old.remove(); }
    if (!fresh) { return; }
    var summary = document.importNode(fresh, true);
    form.parentNode.insertBefore(summary, form);
    summary.focus();
  }

  function updateFields(doc) {
    var fresh = doc.querySelectorAll("form[data-submit=fetch] .field");
    form.querySelectorAll(".field").forEach(function (field, i) {
      var twin = fresh[i];
      if (!twin) { return; }
      field.className = twin.className;
      field.querySelectorAll("p.error").forEach(function (p) { p.remove(); });
      var control = field.querySelector("input, select, textarea");
      twin.querySelectorAll("p.error").forEach(function (p) {
        field.insertBefore(document.importNode(p, true), control);
      });
      var twinControl = control && twin.querySelector("#" + control.id);
      ["aria-invalid", "aria-describedby"].forEach(function (name) {
        if (!control) { return; }
        if (twinControl && twinControl.hasAttribute(name)) { control.setAttribute(name, twinControl.getAttribute(name)); }
        else { control.removeAttribute(name); }
      });
    });
  }

  function updateTokens(doc) {
    form.querySelectorAll("input[type=hidden][name$=token]").forEach(function (input) {
      var twin = doc.querySelector("form[data-submit=fetch] input[name='" + input.name + "']");
      if (twin) { input.value = twin.value; }
    });
  }

  function showMistakes(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    document.title = doc.title;
    updateFields(doc);
    updateTokens(doc);
    replaceSummary(doc.getElementById("error-summary"));
  }

  function showPage(html) {
    // Any other answer (an expired page, an error): shown as it is, still without a history entry.
    var doc = new DOMParser().parseFromString(html, "text/html");
    document.title = doc.title;
    document.body.replaceWith(document.importNode(doc.body, true));
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) { return; }
    busy = true;
    var body = new FormData(form);
    if (event.submitter && event.submitter.name) { body.append(event.submitter.name, event.submitter.value); }
    fetch(form.action, { method: "POST", body: body, credentials: "same-origin", cache: "no-store",
                         headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (response.redirected) {
          // Checked in: the visitor badge (static/js/badge.js, where the office prints them) is made from the form
          // before the page is left. A badge that fails must not keep the tablet from moving on.
          try { if (window.velkommenBadge) { window.velkommenBadge.print(form, event.submitter); } } catch (e) { }
          window.location.replace(response.url);
          return null;
        }
        return response.text().then(function (html) {
          busy = false;
          if (response.status === 422) { showMistakes(html); } else { showPage(html); }
        });
      })
      .catch(function () {
        busy = false;
        window.location.replace(form.dataset.offlineUrl || form.dataset.idleUrl);
      });
  });
}());
