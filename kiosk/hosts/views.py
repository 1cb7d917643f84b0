"""The host directory in the admin area: list and search, add, edit, deactivate, delete, import, export.

Registered under the admin blueprint (kiosk/__init__.py), whose sign-in check and no-store header cover it. With
several locations, a host belongs to some of them or to all; a location admin (kiosk/admin/scope.py) sees the hosts
at their location, changes those that belong to it alone, adds hosts only to it, and leaves imports and exports,
which span the directory, to an installation admin.
"""

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for

from kiosk.admin import audit, scope
from kiosk.db import get_db
from kiosk.errors import form_status
from kiosk.hosts import directory, memberships
from kiosk.hosts.forms import FIELD_LABELS, LANGUAGE_NAMES, HostForm, ImportConfirmForm, ImportForm
from kiosk.i18n import admin_gettext as _a
from kiosk.i18n import admin_ngettext as _na
from kiosk.locations import locations
from kiosk.spreadsheet import SpreadsheetError, read_table
from kiosk.web import csv_download

bp = Blueprint("hosts", __name__)
HOST_LIST_LIMIT = 200
PREVIEW_LIST_LIMIT = 100  # hosts an import preview lists by name in each group; the counts are always whole


@bp.get("")
def index():
    query = request.args.get("q", "")[:100]
    found, total = directory.find_hosts(get_db(), query, limit=HOST_LIST_LIMIT, location_id=scope.location_id())
    places = memberships.names_by_host(get_db(), [host.id for host in found]) if locations.several(get_db()) else None
    return render_template("admin/hosts.html", hosts=found, total=total, query=query, places=places,
                           everywhere=scope.everywhere())


@bp.route("/new", methods=["GET", "POST"])
def add():
    form = _host_form(HostForm())
    if form.validate_on_submit():
        try:
            host_id = directory.add_host(get_db(), form.host(), location_ids=_chosen_locations(form) or ())
        except directory.HostConflictError as e:
            _show_conflict(form, e)
        else:
            return _saved("host_added", host_id)
    return render_template("admin/host_form.html", form=form, host=None), form_status(form)


@bp.route("/<int:host_id>", methods=["GET", "POST"])
def edit(host_id):
    host = _visible_host(host_id)
    if host.managed or not _changeable(host):
        return _read_only(host)
    form = _host_form(HostForm(obj=host))
    if request.method == "GET" and "locations" in form:
        form.locations.data = memberships.locations_of(get_db(), host_id)
    if form.validate_on_submit():
        try:
            directory.update_host(get_db(), host_id, form.host(), location_ids=_chosen_locations(form))
        except directory.HostConflictError as e:
            _show_conflict(form, e)
        else:
            return _saved("host_edited", host_id)
    return render_template("admin/host_form.html", form=form, host=host), form_status(form)


def _visible_host(host_id):
    """The host, if the admin may see it (a location admin: a host at their location); else 404."""
    host = directory.get_host_entry(get_db(), host_id)
    if host is None or not (scope.everywhere() or memberships.is_at(get_db(), host_id, scope.location_id())):
        abort(404)
    return host


def _changeable(host):
    """Whether the admin may change the host: a location admin only one of their location alone."""
    return scope.everywhere() or memberships.belongs_only_to(get_db(), host.id, scope.location_id())


def _host_form(form):
    """An installation admin places the host (with several locations); a location admin's hosts are theirs."""
    several = scope.everywhere() and locations.several(get_db())
    return form.with_locations([(place.id, place.name) for place in locations.list_locations(get_db())]
                               if several else None)


def _chosen_locations(form):
    """The host's locations as the form leaves them: a location admin's own; None where the form has no choice."""
    if not scope.everywhere():
        return [scope.location_id()]
    return form.locations.data if "locations" in form else None


def _read_only(host):
    """A host the directory sync manages, or (for a location admin) one shared with other locations, is shown, not
    edited: the identity provider, or another location, would lose the change."""
    if request.method == "POST":
        flash(_a("This host comes from your directory sync: change them in your identity provider, not here.")
              if host.managed else _a("This host belongs to other locations too: an installation admin can change "
                                      "them."), "error")
        return redirect(url_for(".edit", host_id=host.id), 303)
    return render_template("admin/host_managed.html", host=host, shared=not host.managed,
                           places=memberships.names_by_host(get_db(), [host.id]).get(host.id))


def _show_conflict(form, error):
    form[error.field].errors.append(_a("Another host already has this mobile number.") if error.field == "phone"
                                    else _a("Another host already has this e-mail address."))


def _saved(action, host_id):
    audit.record(get_db(), action, admin_id=g.admin.id, host=host_id)
    flash(_a("The host is saved."), "success")
    return redirect(url_for(".index"))


@bp.post("/<int:host_id>/deactivate")
def deactivate(host_id):
    return _set_active(host_id, False)


@bp.post("/<int:host_id>/reactivate")
def reactivate(host_id):
    return _set_active(host_id, True)


def _set_active(host_id, active):
    host = _visible_host(host_id)
    if host.managed or not _changeable(host):
        return _read_only(host)
    if active and not host.phone:
        flash(_a("This host has no mobile number: the kiosk could not text them."), "error")
        return redirect(url_for(".edit", host_id=host_id))
    directory.set_host_active(get_db(), host_id, active)
    audit.record(get_db(), "host_reactivated" if active else "host_deactivated", admin_id=g.admin.id, host=host_id)
    flash(_a("The host is active again.") if active
          else _a("The host is deactivated: the kiosk no longer offers them."), "success")
    return redirect(url_for(".edit", host_id=host_id))


@bp.route("/<int:host_id>/delete", methods=["GET", "POST"])
def delete(host_id):
    host = _visible_host(host_id)
    # Okta deactivates and never deletes: those an admin may delete
    if (host.managed and not host.switched_off) or not _changeable(host):
        return _read_only(host)
    if request.method == "GET":
        return render_template("admin/host_delete.html", host=host)
    directory.delete_host(get_db(), host_id)
    audit.record(get_db(), "host_deleted", admin_id=g.admin.id, host=host_id)
    flash(_a("The host is deleted."), "success")
    return redirect(url_for(".index"))


@bp.post("/selected")
def selected():
    """Deactivate, reactivate or delete the hosts ticked in the list, or all hosts matching its search.
    Deleting asks first, on a page that names how many and sends the same choice back with confirm=1."""
    form = request.form
    chosen = (directory.matching_host_ids(get_db(), form.get("q", "")[:100]) if form.get("all_matching")
              else [int(value) for value in form.getlist("host") if value.isdigit()])
    ids = directory.unmanaged(get_db(), chosen)  # the directory sync's hosts are left as the provider has them
    if len(ids) < len(chosen):
        flash(_na("%(num)d host comes from your directory sync and was left as it is.",
                  "%(num)d hosts come from your directory sync and were left as they are.", len(chosen) - len(ids)),
              "info")
    if not scope.everywhere():  # and a location admin's hosts are those of their location alone
        own = memberships.only_at(get_db(), ids, scope.location_id())
        if len(own) < len(ids):
            flash(_na("%(num)d host belongs to other locations too and was left as it is.",
                      "%(num)d hosts belong to other locations too and were left as they are.", len(ids) - len(own)),
                  "info")
        ids = own
    action = form.get("action")
    if not ids or action not in ("deactivate", "reactivate", "delete"):
        flash(_a("Tick the hosts to change first.") if not ids else _a("Choose what to do with the hosts."), "error")
        return redirect(url_for(".index", q=form.get("q") or None))
    if action == "delete" and form.get("confirm") != "1":
        return render_template("admin/hosts_delete.html", ids=ids, query=form.get("q", ""),
                               all_matching=form.get("all_matching"))
    if action == "delete":
        count = directory.delete_hosts(get_db(), ids)
        message = _na("%(num)d host deleted.", "%(num)d hosts deleted.", count)
    else:
        count = directory.set_hosts_active(get_db(), ids, action == "reactivate")
        message = (_na("%(num)d host reactivated.", "%(num)d hosts reactivated.", count) if action == "reactivate"
                   else _na("%(num)d host deactivated.", "%(num)d hosts deactivated.", count))
    audit.record(get_db(), f"hosts_{action}d", admin_id=g.admin.id, hosts=count)
    flash(message, "success")
    return redirect(url_for(".index"))


@bp.route("/import", methods=["GET", "POST"])
def import_file():
    scope.require_everywhere()
    form = ImportForm()
    if form.validate_on_submit():
        try:
            return _import_preview(form.file.data)
        except SpreadsheetError as e:
            form.file.errors.append(str(e))
    return render_template("admin/import.html", form=form), form_status(form)


def _import_preview(upload):
    """Parse the upload and show what an import would do; the parsed rows wait in the database, not the file."""
    table = read_table(upload.read(), upload.filename or "upload")
    result = directory.parse_hosts(table, region=current_app.config["DEFAULT_REGION"],
                                   places=memberships.ids_by_name(get_db()))
    plan = directory.plan_hosts(get_db(), result.hosts)
    preview_id = directory.save_import_preview(get_db(), result.hosts, admin_id=g.admin.id)
    confirm = ImportConfirmForm(formdata=None, preview_id=preview_id)
    return render_template("admin/import_preview.html", result=result, plan=plan, confirm=confirm,
                           minutes=directory.IMPORT_PREVIEW_MINUTES, shown=PREVIEW_LIST_LIMIT,
                           field_labels=FIELD_LABELS, language_names=LANGUAGE_NAMES)


@bp.post("/import/confirm")
def confirm_import():
    scope.require_everywhere()
    form = ImportConfirmForm()
    hosts = directory.take_import_preview(get_db(), form.preview_id.data, admin_id=g.admin.id)
    if hosts is None:
        flash(_na("That preview has expired (after %(num)d minute). Upload the file again.",
                  "That preview has expired (after %(num)d minutes). Upload the file again.",
                  directory.IMPORT_PREVIEW_MINUTES), "error")
        return redirect(url_for(".import_file"))
    saved = directory.save_hosts(get_db(), hosts, deactivate_missing=form.deactivate_missing.data)
    audit.record(get_db(), "hosts_imported", admin_id=g.admin.id, added=saved.added, updated=saved.updated,
                 unchanged=saved.unchanged, deactivated=saved.deactivated)
    counts = {"added": saved.added, "updated": saved.updated, "unchanged": saved.unchanged}
    flash(_a("Imported: %(added)d added, %(updated)d updated, %(unchanged)d unchanged, %(deactivated)d deactivated.",
             deactivated=saved.deactivated, **counts) if form.deactivate_missing.data
          else _a("Imported: %(added)d added, %(updated)d updated, %(unchanged)d unchanged.", **counts), "success")
    return redirect(url_for(".index"))


@bp.get("/export")
def export():
    scope.require_everywhere()
    response, count = csv_download("hosts.csv", lambda stream: directory.export_hosts(get_db(), stream))
    audit.record(get_db(), "hosts_exported", admin_id=g.admin.id, hosts=count)
    return response
