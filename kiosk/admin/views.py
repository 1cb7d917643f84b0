"""The admin area: sign-in, host directory, kiosk devices, statistics, audit log, settings.

Every page but the sign-in page needs a live server-side session (R22); every response is no-store (R24).
"""

import io

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for

from kiosk.admin import accounts, audit, forms, stats
from kiosk.db import get_db
from kiosk.devices import pairing as devices
from kiosk.errors import form_status
from kiosk.hosts import directory
from kiosk.phone import mask
from kiosk.settings import EDITABLE, save_settings, setting
from kiosk.spreadsheet import SpreadsheetError, read_table

bp = Blueprint("admin", __name__)

OPEN_ENDPOINTS = {"admin.login"}
SESSION_KEY = "admin_session"
HOST_LIST_LIMIT = 200


@bp.before_request
def require_admin():
    token = session.get(SESSION_KEY)
    g.admin = accounts.session_admin(get_db(), token)
    if g.admin is not None or request.endpoint in OPEN_ENDPOINTS:
        return None
    if token:
        session.pop(SESSION_KEY)
        flash("Your session has ended. Sign in again.", "info")
    return redirect(url_for("admin.login"))  # absolute: kiosk/schools/admin_views.py reuses this check


@bp.after_request
def no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def admin_context():
    admin = g.get("admin")
    return {"admin": admin, "alerts": audit.open_alerts(get_db()) if admin else [], "mask": mask}


# Signing in and out


@bp.route("/login", methods=["GET", "POST"])
def login():
    if g.admin is not None:
        return redirect(url_for(".index"))
    form = forms.LoginForm()
    if form.validate_on_submit():
        admin = accounts.authenticate(get_db(), form.username.data, form.password.data)
        if admin is not None:
            _start_session(admin)
            return redirect(url_for(".index"))
        form.form_errors.append(forms.SIGN_IN_FAILED)
    status = form_status(form)
    return render_template("admin/login.html", form=form), status


def _start_session(admin):
    token = accounts.start_session(get_db(), admin.id)
    # A new session (and CSRF token) on every sign-in, so a session planted before it is worth nothing.
    session.clear()
    g.pop("csrf_token", None)  # flask-wtf's copy of the old session's token
    session[SESSION_KEY] = token


@bp.post("/logout")
def logout():
    accounts.end_session(get_db(), session.get(SESSION_KEY))
    audit.record(get_db(), "sign_out", admin_id=g.admin.id)
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for(".login"))


@bp.get("/")
def index():
    return redirect(url_for(".hosts"))


# Host directory


@bp.get("/hosts")
def hosts():
    query = request.args.get("q", "")[:100]
    found, total = directory.find_hosts(get_db(), query, limit=HOST_LIST_LIMIT)
    return render_template("admin/hosts.html", hosts=found, total=total, query=query)


@bp.route("/hosts/new", methods=["GET", "POST"])
def add_host():
    form = forms.HostForm()
    if form.validate_on_submit():
        try:
            host_id = directory.add_host(get_db(), form.host())
        except directory.HostConflictError as e:
            _show_conflict(form, e)
        else:
            return _host_saved("host_added", host_id)
    return render_template("admin/host_form.html", form=form, host=None), form_status(form)


@bp.route("/hosts/<int:host_id>", methods=["GET", "POST"])
def edit_host(host_id):
    host = directory.get_host_entry(get_db(), host_id) or abort(404)
    form = forms.HostForm(obj=host)
    if form.validate_on_submit():
        try:
            directory.update_host(get_db(), host_id, form.host())
        except directory.HostConflictError as e:
            _show_conflict(form, e)
        else:
            return _host_saved("host_edited", host_id)
    return render_template("admin/host_form.html", form=form, host=host), form_status(form)


def _show_conflict(form, error):
    what = "mobile number" if error.field == "phone" else "e-mail address"
    form[error.field].errors.append(f"Another host already has this {what}.")


def _host_saved(action, host_id):
    audit.record(get_db(), action, admin_id=g.admin.id, host=host_id)
    flash("The host is saved.", "success")
    return redirect(url_for(".hosts"))


@bp.post("/hosts/<int:host_id>/deactivate")
def deactivate_host(host_id):
    return _set_active(host_id, False)


@bp.post("/hosts/<int:host_id>/reactivate")
def reactivate_host(host_id):
    return _set_active(host_id, True)


def _set_active(host_id, active):
    directory.get_host_entry(get_db(), host_id) or abort(404)
    directory.set_host_active(get_db(), host_id, active)
    audit.record(get_db(), "host_reactivated" if active else "host_deactivated", admin_id=g.admin.id, host=host_id)
    flash("The host is active again." if active else "The host is deactivated: the kiosk no longer offers them.",
          "success")
    return redirect(url_for(".edit_host", host_id=host_id))


@bp.route("/hosts/<int:host_id>/delete", methods=["GET", "POST"])
def delete_host(host_id):
    host = directory.get_host_entry(get_db(), host_id) or abort(404)
    if request.method == "GET":
        return render_template("admin/host_delete.html", host=host)
    directory.delete_host(get_db(), host_id)
    audit.record(get_db(), "host_deleted", admin_id=g.admin.id, host=host_id)
    flash("The host is deleted.", "success")
    return redirect(url_for(".hosts"))


@bp.route("/hosts/import", methods=["GET", "POST"])
def import_hosts():
    form = forms.ImportForm()
    if form.validate_on_submit():
        try:
            return _import_preview(form.file.data)
        except SpreadsheetError as e:
            form.file.errors.append(str(e))
    return render_template("admin/import.html", form=form), form_status(form)


def _import_preview(upload):
    """Parse the upload and show what an import would do; the parsed rows wait in the database, not the file."""
    table = read_table(upload.read(), upload.filename or "upload")
    result = directory.parse_hosts(table, region=current_app.config["DEFAULT_REGION"])
    plan = directory.plan_hosts(get_db(), result.hosts)
    preview_id = directory.save_import_preview(get_db(), result.hosts, admin_id=g.admin.id)
    confirm = forms.PreviewConfirmForm(formdata=None, preview_id=preview_id)
    return render_template("admin/import_preview.html", result=result, plan=plan, confirm=confirm,
                           minutes=directory.IMPORT_PREVIEW_MINUTES)


@bp.post("/hosts/import/confirm")
def confirm_import():
    form = forms.PreviewConfirmForm()
    hosts = directory.take_import_preview(get_db(), form.preview_id.data, admin_id=g.admin.id)
    if hosts is None:
        flash(f"That preview has expired (after {directory.IMPORT_PREVIEW_MINUTES} minutes). Upload the file again.",
              "error")
        return redirect(url_for(".import_hosts"))
    saved = directory.save_hosts(get_db(), hosts)
    audit.record(get_db(), "hosts_imported", admin_id=g.admin.id, added=saved.added, updated=saved.updated,
                 unchanged=saved.unchanged)
    flash(f"Imported: {saved.added} added, {saved.updated} updated, {saved.unchanged} unchanged.", "success")
    return redirect(url_for(".hosts"))


@bp.get("/hosts/export")
def export_hosts():
    stream = io.StringIO(newline="")
    count = directory.export_hosts(get_db(), stream)
    audit.record(get_db(), "hosts_exported", admin_id=g.admin.id, hosts=count)
    return stream.getvalue().encode("utf-8"), {"Content-Type": "text/csv; charset=utf-8",
                                               "Content-Disposition": "attachment; filename=hosts.csv"}


# Kiosk tablets


@bp.get("/kiosks")
def kiosks():
    return _kiosks_page(forms.TabletNameForm())


def _kiosks_page(pair_form, status=200):
    return render_template("admin/kiosks.html", devices=devices.list_devices(get_db()), pair_form=pair_form), status


@bp.post("/kiosks/pair")
def pair_kiosk():
    form = forms.TabletNameForm()
    if not form.validate():
        return _kiosks_page(form, 422)
    code = devices.create_pairing_code(get_db(), form.name.data)
    audit.record(get_db(), "pairing_code_created", admin_id=g.admin.id)
    return render_template("admin/kiosk_pairing.html", code=code, link=public_url("kiosk.pair", code=code.code),
                           pair_url=public_url("kiosk.pair"))


def public_url(endpoint, **values):
    """An absolute URL a tablet or a pupil's browser can open (pairing links, consent withdrawal links)."""
    # Behind a proxy the request's host may be an internal name; KIOSK_PUBLIC_URL is what the tablet can reach.
    public = current_app.config["PUBLIC_URL"]
    if public:
        return public.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, **values, _external=True)


@bp.post("/kiosks/<int:device_id>/rename")
def rename_kiosk(device_id):
    devices.get_device(get_db(), device_id) or abort(404)
    form = forms.TabletNameForm()
    if form.validate():
        devices.rename_device(get_db(), device_id, form.name.data)
        audit.record(get_db(), "device_renamed", admin_id=g.admin.id, device=device_id)
        flash("The tablet is renamed.", "success")
    else:
        flash(form.name.errors[0], "error")
    return redirect(url_for(".kiosks"))


@bp.post("/kiosks/<int:device_id>/revoke")
def revoke_kiosk(device_id):
    devices.get_device(get_db(), device_id) or abort(404)
    devices.revoke_device(get_db(), device_id)
    audit.record(get_db(), "device_revoked", admin_id=g.admin.id, device=device_id)
    flash("The tablet is revoked: it shows the check-in form no more.", "success")
    return redirect(url_for(".kiosks"))


# Statistics, audit log, alerts, settings


@bp.get("/statistics")
def statistics():
    db = get_db()
    per_day, per_hour = stats.checkins_per_day(db), stats.checkins_per_hour(db)
    refusals = stats.refusals_by_reason(db)
    return render_template("admin/statistics.html", per_day=per_day, per_hour=per_hour, sms=stats.sms_per_day(db),
                           refusals=refusals, statuses=stats.SMS_STATUSES, peak=stats.peak, days=stats.DAYS)


@bp.get("/audit")
def audit_log():
    return render_template("admin/audit.html", events=audit.latest(get_db()), limit=audit.LATEST)


@bp.post("/alerts/<int:alert_id>/resolve")
def resolve_alert(alert_id):
    if audit.resolve_alert(get_db(), alert_id):
        audit.record(get_db(), "alert_resolved", admin_id=g.admin.id, alert=alert_id)
    return redirect(_back_to(request.form.get("next")))


def _back_to(path):
    """A path inside the admin area to return to; anything else (another site) becomes the start page."""
    path = path or ""
    if path.startswith(url_for(".index")) and "//" not in path and "\\" not in path:
        return path
    return url_for(".index")


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    form = forms.SettingsForm(data={key: setting(key) for key in EDITABLE})
    if form.validate_on_submit():
        changed = {key: value for key, value in form.values().items() if value != setting(key)}
        if changed:
            save_settings(get_db(), changed)
            audit.record(get_db(), "settings_changed", admin_id=g.admin.id, keys=",".join(sorted(changed)))
        flash("The settings are saved." if changed else "Nothing was changed.", "success")
        return redirect(url_for(".settings"))
    defaults = {key: current_app.config[key] for key in EDITABLE}
    return render_template("admin/settings.html", form=form, defaults=defaults), form_status(form)
