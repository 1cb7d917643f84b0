"""School visits in the admin area: list, new visit with a roster preview, confirm, delete; apprenticeship consents.

The uploaded file is read in memory and never kept; a refused roster (R34) leaves nothing behind. A location admin
(kiosk/admin/scope.py) sees and changes their location's school visits and consents only.
"""


from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, url_for

from kiosk.admin import audit, scope
from kiosk.admin.forms import PreviewConfirmForm
from kiosk.db import get_db
from kiosk.errors import form_status
from kiosk.hosts import directory
from kiosk.i18n import admin_gettext as _a
from kiosk.i18n import admin_ngettext as _na
from kiosk.schools import consent
from kiosk.schools import visits as schools
from kiosk.schools.forms import SchoolVisitForm
from kiosk.web import csv_download, public_url

bp = Blueprint("schools", __name__)
HOST_CHOICES_LIMIT = 5000


@bp.get("/")
def visits():
    return render_template("admin/school_visits.html",
                           visits=schools.list_visits(get_db(), location_id=scope.location_id()),
                           hosts={host.id: host.name for host in directory.list_hosts(get_db())})


@bp.route("/new", methods=["GET", "POST"])
def new_visit():
    form = SchoolVisitForm()
    hosts, _ = directory.find_hosts(get_db(), limit=HOST_CHOICES_LIMIT, location_id=scope.location_id())
    # No host is chosen for the admin: a school visit announced to the wrong person is worse than a second click.
    form.host_id.choices = [("", _a("Choose…")), *((host.id, host.name) for host in hosts if host.active)]
    form.at_locations(scope.visible_locations(get_db()))
    if form.validate_on_submit():
        try:
            return _preview(form)
        except schools.RosterError as e:
            form.roster.errors = [str(e)]
    return render_template("admin/school_form.html", form=form,
                           several_locations=len(form.location_id.choices) > 1), form_status(form)


def _preview(form):
    max_rows = current_app.config["ROSTER_MAX_ROWS"]
    upload = form.roster.data
    if upload and upload.filename:
        roster = schools.parse_roster_file(upload.read(), upload.filename, max_rows=max_rows)
    elif form.pasted.data:
        roster = schools.parse_roster_text(form.pasted.data, max_rows=max_rows)
    else:
        raise schools.RosterError(_a("Choose a roster file, or paste a list of names."))
    visit = form.visit()
    preview_id = schools.save_preview(get_db(), visit, roster, admin_id=g.admin.id) if roster.people else None
    host = directory.get_host(get_db(), visit["host_id"], active_only=False)
    return render_template("admin/school_preview.html", visit=visit, host=host, roster=roster,
                           confirm=PreviewConfirmForm(formdata=None, preview_id=preview_id),
                           minutes=schools.PREVIEW_MINUTES)


@bp.post("/confirm")
def confirm():
    form = PreviewConfirmForm()
    visit_id = schools.confirm_preview(get_db(), form.preview_id.data or "", admin_id=g.admin.id,
                                       keep_days=current_app.config["SCHOOL_VISIT_KEEP_DAYS"])
    if visit_id is None:
        flash(_na("That preview has expired (after %(num)d minute). Upload the roster again.",
                  "That preview has expired (after %(num)d minutes). Upload the roster again.",
                  schools.PREVIEW_MINUTES), "error")
        return redirect(url_for(".new_visit"))
    audit.record(get_db(), "school_visit_added", admin_id=g.admin.id, school_visit=visit_id)
    flash(_a("The school visit is saved."), "success")
    return redirect(url_for(".visits"))


@bp.post("/<int:visit_id>/delete")
def delete(visit_id):
    visit = schools.get_visit(get_db(), visit_id, location_id=scope.location_id()) or abort(404)
    if schools.delete_visit(get_db(), visit_id):
        audit.record(get_db(), "school_visit_deleted", admin_id=g.admin.id, location_id=visit.location_id,
                     school_visit=visit_id)
        flash(_a("The school visit and its roster are deleted."), "success")
    return redirect(url_for(".visits"))


# Apprenticeship consents


@bp.get("/consents")
def consents():
    found = consent.list_consents(get_db(), location_id=scope.location_id())
    schools_seen = sorted({c.school for c in found})
    return render_template("admin/school_consents.html", by_school=[
        (school, [c for c in found if c.school == school]) for school in schools_seen])


@bp.post("/consents/<int:consent_id>/withdraw")
def withdraw_consent(consent_id):
    scope.require(consent.location_of(get_db(), consent_id))
    if consent.withdraw(get_db(), consent_id):
        audit.record(get_db(), "consent_withdrawn", admin_id=g.admin.id, consent=consent_id)
        flash(_a("The consent is withdrawn, and the name and e-mail address are deleted."), "success")
    return redirect(url_for(".consents"))


@bp.get("/consents.csv")
def export_consents():
    response, count = csv_download("consents.csv", lambda stream: consent.export_consents(
        get_db(), stream, _withdraw_link, location_id=scope.location_id()))
    audit.record(get_db(), "consents_exported", admin_id=g.admin.id, consents=count)
    return response


def _withdraw_link(found):
    return public_url("kiosk.schools.withdraw", token=consent.withdraw_token(found))
