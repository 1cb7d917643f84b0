"""The reception tablet: pairing, welcome, check-in form, live SMS status, host type-ahead.

Everything but pairing answers only a paired tablet (SECURITY.md R7).
"""

import secrets
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, g, jsonify, redirect, render_template, request, session, url_for

from kiosk import abuse, checkin, devices, i18n
from kiosk.db import get_db
from kiosk.directory import search_hosts
from kiosk.forms import RECEPTION, CheckinForm, PairForm

bp = Blueprint("kiosk", __name__)

# Choosing a language only changes what the screen shows, so an unpaired tablet may do it too.
OPEN_ENDPOINTS = {"kiosk.pair", "kiosk.language"}
JSON_ENDPOINTS = {"kiosk.hosts", "kiosk.visit_status"}
TEN_YEARS = 10 * 365 * 24 * 3600


@bp.before_request
def require_paired_device():
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    token = request.cookies.get(current_app.config["DEVICE_COOKIE_NAME"])
    g.device = devices.device_for_token(get_db(), token)
    if g.device is not None:
        return None
    if request.endpoint in JSON_ENDPOINTS:
        return jsonify(error="This device is not registered."), 401
    return render_template("kiosk/unpaired.html"), 403


@bp.after_request
def no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/pair", methods=["GET", "POST"])
def pair():
    form = PairForm(code=request.args.get("code", ""))
    name = devices.pairing_code_name(get_db(), form.code.data)
    if form.validate_on_submit():
        device, token = devices.pair(get_db(), form.code.data)
        response = current_app.make_response(render_template("kiosk/paired.html", device=device))
        response.set_cookie(current_app.config["DEVICE_COOKIE_NAME"], token, max_age=TEN_YEARS, httponly=True,
                            secure=current_app.config["COOKIE_SECURE"], samesite="Lax")
        return response
    status = 422 if form.is_submitted() else 200
    return render_template("kiosk/pair.html", form=form, name=name), status


@bp.get("/")
def welcome():
    if request.args.get("reset"):
        # The idle timer and the status screen come back here with ?reset=1: the next visitor starts afresh.
        i18n.reset()
        return redirect(url_for(".welcome"))
    return render_template("kiosk/welcome.html")


@bp.get("/language/<code>")
def language(code):
    """The language picker's links: a display preference in the session, so no CSRF token is needed."""
    if not i18n.choose(code):
        abort(404)
    return redirect(_local_path(request.args.get("next", "")) or url_for(".welcome"))


def _local_path(target):
    """`target` if it is a path on this site, else None: the picker must not become an open redirect."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return None if any(ord(c) < 32 for c in target) else target


@bp.route("/checkin", methods=["GET", "POST"])
def checkin_form():
    form = CheckinForm()
    shown_at = None
    if form.is_submitted():
        try:
            shown_at = abuse.check_form(get_db(), g.device, form.form_token.data, form.website.data)
            if form.validate():
                return _check_in(form.to_checkin())
        except abuse.Refused as refusal:
            _next_turn()
            return render_template("kiosk/refused.html"), refusal.status
    form.form_token.data = abuse.form_token(shown_at)
    status = 422 if form.is_submitted() else 200
    return render_template("kiosk/checkin.html", form=form, reception=RECEPTION), status


def _check_in(visit):
    abuse.check_checkin(get_db(), g.device, visit)
    visit_id = checkin.register(get_db(), visit, kiosk_id=g.device.id)
    _next_turn()
    return redirect(url_for(".visit", visit_id=visit_id))


def _next_turn():
    # A new session cookie after every submission keeps Chromium from restoring the filled form from its
    # back/forward cache (SECURITY.md R25); a fresh CSRF token comes with the next form.
    session.pop("csrf_token", None)
    session["turn"] = secrets.token_hex(8)


@bp.get("/visits/<visit_id>")
def visit(visit_id):
    status = checkin.get_visit_status(get_db(), visit_id, kiosk_id=g.device.id) or abort(404)
    return render_template("kiosk/status.html", visit_id=visit_id, status=status)


@bp.get("/visits/<visit_id>/status")
def visit_status(visit_id):
    status = checkin.get_visit_status(get_db(), visit_id, kiosk_id=g.device.id) or abort(404)
    return jsonify(status.as_json())


@bp.get("/hosts")
def hosts():
    query = request.args.get("q", "")[:100]
    if len(query.strip()) < current_app.config["SEARCH_MIN_CHARS"]:
        return jsonify([])
    return jsonify(search_hosts(get_db(), query, limit=current_app.config["SEARCH_LIMIT"]))
