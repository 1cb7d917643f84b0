"""The admin area's shell: sign-in, statistics, audit log, alerts, settings.

Every page but the sign-in page needs a live server-side session (R22); every response is no-store (R24). The
host directory, the kiosk tablets and the school visits are blueprints of their own domains, registered under
this one (kiosk/__init__.py), so these checks cover them too.
"""

from dataclasses import replace
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from kiosk import i18n
from kiosk.admin import accounts, audit, charts, forms, oidc, scope, stats
from kiosk.db import get_db
from kiosk.errors import form_status
from kiosk.i18n import admin_gettext as _a
from kiosk.locations import locations
from kiosk.messaging import inbound
from kiosk.phone import mask
from kiosk.settings import EDITABLE, default, save_settings, setting, welcome_key
from kiosk.web import csv_download, local_path, public_url

bp = Blueprint("admin", __name__)

OPEN_ENDPOINTS = {"admin.login", "admin.language", "admin.oidc_start", "admin.oidc_callback"}
SESSION_KEY = "admin_session"


@bp.before_request
def require_admin():
    token = session.get(SESSION_KEY)
    g.admin = accounts.session_admin(get_db(), token)
    if g.admin is not None or request.endpoint in OPEN_ENDPOINTS:
        return None
    if token:
        session.pop(SESSION_KEY)
        flash(_a("Your session has ended. Sign in again."), "info")
    return redirect(url_for("admin.login"))


@bp.after_request
def no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def admin_context():
    admin = g.get("admin")
    alerts = audit.open_alerts(get_db(), location_id=scope.location_id()) if admin else []
    return {"admin": admin, "alerts": alerts, "mask": mask,
            "several_locations": bool(admin) and locations.several(get_db())}


# Signing in and out


@bp.route("/login", methods=["GET", "POST"])
def login():
    if g.admin is not None:
        return redirect(url_for(".index"))
    if not current_app.config["LOCAL_LOGIN"]:  # KIOSK_LOCAL_LOGIN=0: no password form, and none is taken
        if request.method == "POST":
            return _login_page(problem=_a("Signing in with a password is switched off here. Use the button above."),
                               status=403)
        return _login_page()
    form = forms.LoginForm()
    if form.validate_on_submit():
        admin = accounts.authenticate(get_db(), form.username.data, form.password.data)
        if admin is not None:
            _start_session(admin)
            return redirect(url_for(".index"))
        form.form_errors.append(forms.SIGN_IN_FAILED)
    return _login_page(form, status=form_status(form))


def _login_page(form=None, problem=None, status=200):
    """The sign-in page: the provider's button when OIDC is set up, the password form unless switched off, and
    `problem`, a refused sign-in in plain words."""
    if form is None and current_app.config["LOCAL_LOGIN"]:
        form = forms.LoginForm()
    return render_template("admin/login.html", form=form, problem=problem, back_to=url_for(".login"),
                           oidc_button=oidc.button_label() if oidc.enabled() else None), status


# OIDC sign-in (kiosk/admin/oidc.py, docs/oidc.md). Both ends are plain GETs: the button is a link, as a form posted
# to here and redirected to the provider would break the CSP's form-action 'self'. A forged start signs nobody in.


@bp.get("/login/oidc")
def oidc_start():
    if not oidc.enabled():
        abort(404)
    if g.admin is not None:
        return redirect(url_for(".index"))
    try:
        target, sign_in = oidc.begin(public_url("admin.oidc_callback"), session.get(i18n.ADMIN_SESSION_KEY))
    except oidc.SignInRefused as refusal:
        audit.record(get_db(), "sign_in_oidc_refused", reason=refusal.reason)
        return _login_page(problem=oidc.refusal_message(refusal.reason), status=503)
    response = redirect(target)
    oidc.set_pending_cookie(response, sign_in)
    return response


@bp.get("/login/oidc/callback")
def oidc_callback():
    """The provider sends the browser back here. The session cookie is SameSite=Strict, so it does not come along:
    the sign-in under way is in its own cookie (see kiosk/admin/oidc.py)."""
    if not oidc.enabled():
        abort(404)
    sign_in = oidc.pending(request.cookies.get(current_app.config["OIDC_COOKIE_NAME"]))
    if sign_in and sign_in.language and i18n.ADMIN_SESSION_KEY not in session:
        i18n.choose_admin_language(sign_in.language)
    try:
        response = _oidc_signed_in(*oidc.finish(sign_in, request.args))
    except oidc.SignInRefused as refusal:
        audit.record(get_db(), "sign_in_oidc_refused", admin_id=refusal.admin_id, reason=refusal.reason)
        status = 503 if refusal.reason == "PROVIDER_UNREACHABLE" else 403
        response = current_app.make_response(_login_page(problem=oidc.refusal_message(refusal.reason), status=status))
    oidc.clear_pending_cookie(response)  # a state works once
    return response


def _oidc_signed_in(identity, claims):
    db = get_db()
    try:
        admission = oidc.allowed(claims, current_app.config)
        location_id = _admitted_location(db, admission)
    except oidc.SignInRefused as refusal:
        refusal.admin_id = accounts.oidc_admin_id(db, identity.issuer, identity.subject)
        raise
    admin, created = accounts.oidc_admin(db, identity.issuer, identity.subject, identity.label)
    if created:
        audit.record(db, "oidc_admin_created", admin_id=admin.id)
    if admission.by_group and admin.location_id != location_id:
        # The provider's groups say at every sign-in which location (or all) the admin manages.
        accounts.set_location(db, admin.username, location_id)
        admin = replace(admin, location_id=location_id)
    audit.record(db, "sign_in_oidc", admin_id=admin.id)
    _start_session(admin)
    # This response ends a navigation that the provider's site started, and a browser sends no Strict cookie on any
    # step of it, a redirect from here included: /admin/ would not see the new session. A page of ours that moves on
    # by itself (meta refresh, no script: R23) starts a navigation of this site, which does send it.
    return current_app.make_response(render_template("admin/signed_in.html", back_to=url_for(".index")))


def _admitted_location(db, admission):
    """The id of the location a location group admits to (None: the whole installation). Raises SignInRefused when
    OIDC_LOCATION_GROUPS names a location that does not exist (renamed, say)."""
    if admission.location is None:
        return None
    found = locations.id_named(db, admission.location)
    if found is None:
        raise oidc.SignInRefused("UNKNOWN_LOCATION")
    return found


def _start_session(admin):
    token = accounts.start_session(get_db(), admin.id)
    # A new session (and CSRF token) on every sign-in, so a session planted before it is worth nothing.
    _clear_session()
    g.pop("csrf_token", None)  # flask-wtf's copy of the old session's token
    session[SESSION_KEY] = token


def _clear_session():
    """Empty the session but for the admin area's language, a display preference that grants nothing."""
    language = session.get(i18n.ADMIN_SESSION_KEY)
    session.clear()
    if language is not None:
        session[i18n.ADMIN_SESSION_KEY] = language


@bp.post("/logout")
def logout():
    accounts.end_session(get_db(), session.get(SESSION_KEY))
    audit.record(get_db(), "sign_out", admin_id=g.admin.id)
    _clear_session()
    flash(_a("You are signed out."), "info")
    return redirect(url_for(".login"))


# The language picker's links, signed in or not: like the kiosk's, they only change what the pages show, so a GET
# without a CSRF token may do it. `next` stays inside the admin area.
@bp.get("/language/<code>")
def language(code):
    if not i18n.choose_admin_language(code):
        abort(404)
    target = _back_to(request.args.get("next"))
    try:  # a page that only answers a form (a pairing code, "Delete 3 hosts?") cannot be shown again by a link
        current_app.create_url_adapter(request).match(urlsplit(target).path, method="GET")
    except MethodNotAllowed:
        target = url_for(".index")
    except HTTPException:
        pass
    return redirect(target)


@bp.get("/")
def index():
    return redirect(url_for(".hosts.index"))


# Statistics, audit log, alerts, settings


@bp.get("/statistics")
def statistics():
    visible = scope.visible_locations(get_db())
    figures = stats.gather(get_db(), _statistics_location(visible))
    return render_template("admin/statistics.html", figures=figures, statuses=stats.SMS_STATUSES, days=stats.DAYS,
                           choices=visible if len(visible) > 1 else [],
                           status_labels={status: charts.SMS_SERIES[status].label for status in stats.SMS_STATUSES},
                           charts=charts.for_statistics(figures))


@bp.get("/statistics.csv")
def statistics_csv():
    figures = stats.gather(get_db(), _statistics_location(scope.visible_locations(get_db())))
    response, _ = csv_download(stats.csv_filename(figures), lambda stream: stats.export_csv(figures, stream))
    audit.record(get_db(), "statistics_exported", admin_id=g.admin.id,
                 location_id=figures.location.id if figures.location is not None else None)
    return response


def _statistics_location(visible):
    """The location whose statistics were asked for (?location=<id>), or None for all of them; a location admin's
    own when none was asked for. Any other id, of a location not in `visible` (the admin's) or of none, answers 404."""
    wanted = request.args.get("location") or (None if scope.everywhere() else str(scope.location_id()))
    if wanted is None:
        return None
    return next((location for location in visible if str(location.id) == wanted), None) or abort(404)


@bp.get("/audit")
def audit_log():
    return render_template("admin/audit.html", events=audit.latest(get_db(), location_id=scope.location_id()),
                           limit=audit.LATEST)


@bp.post("/alerts/<int:alert_id>/resolve")
def resolve_alert(alert_id):
    scope.require(audit.alert_location(get_db(), alert_id))
    if audit.resolve_alert(get_db(), alert_id):
        audit.record(get_db(), "alert_resolved", admin_id=g.admin.id, alert=alert_id)
    return redirect(_back_to(request.form.get("next")))


def _back_to(path):
    """A path inside the admin area to return to; anything else (another site) becomes the start page."""
    return local_path(path or "", within=url_for(".index")) or url_for(".index")


# Admins (issue 16): who manages the whole installation, and who one location


@bp.get("/admins")
def admins():
    scope.require_everywhere()
    return render_template("admin/admins.html", admins=accounts.list_admins(get_db()),
                           places=locations.list_locations(get_db()))


@bp.post("/admins/<int:admin_id>/location")
def admin_location(admin_id):
    """Make an admin one location's (or, with an empty choice, the whole installation's); their sessions end."""
    scope.require_everywhere()
    found = next((entry for entry in accounts.list_admins(get_db()) if entry.id == admin_id), None) or abort(404)
    choice = request.form.get("location_id", "")
    location = locations.get_location(get_db(), choice) if choice else None
    if choice and location is None:
        abort(400)
    location_id = location.id if location else None
    if admin_id == g.admin.id:
        flash(_a("You cannot change your own account. Ask another admin of the whole installation."), "error")
    elif location_id == found.location_id:
        flash(_a("Nothing was changed."), "success")
    else:
        accounts.set_location(get_db(), found.username, location_id)
        audit.record(get_db(), "admin_location_changed", admin_id=g.admin.id, location_id=location_id, admin=admin_id)
        flash(_a("%(name)s now manages %(where)s.", name=found.username,
                 where=location.name if location else _a("the whole installation")), "success")
    return redirect(url_for(".admins"))


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    scope.require_everywhere()  # a location's own settings are on its page (kiosk/locations)
    form = forms.SettingsForm(data={key: setting(key) for key in EDITABLE}).without_default_language(
        i18n.default_locale())
    if form.validate_on_submit():
        changed = {key: value for key, value in form.values().items() if value != setting(key)}
        if changed:
            save_settings(get_db(), changed)
            audit.record(get_db(), "settings_changed", admin_id=g.admin.id, keys=",".join(sorted(changed)))
        flash(_a("The settings are saved.") if changed else _a("Nothing was changed."), "success")
        return redirect(url_for(".settings"))
    defaults = {key: default(key) for key in EDITABLE}
    return render_template("admin/settings.html", form=form, defaults=defaults, default_language=i18n.default_locale(),
                           replies_off_by=inbound.why_replies_are_off(),
                           welcome_key=welcome_key), form_status(form)
