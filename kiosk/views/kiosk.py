"""The reception tablet: welcome, check-in form, live SMS status, host type-ahead."""

import secrets

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, session, url_for

from kiosk import checkin
from kiosk.db import get_db
from kiosk.directory import search_hosts
from kiosk.forms import RECEPTION, CheckinForm

bp = Blueprint("kiosk", __name__)


@bp.after_request
def no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
def welcome():
    return render_template("kiosk/welcome.html")


@bp.route("/checkin", methods=["GET", "POST"])
def checkin_form():
    form = CheckinForm()
    if form.validate_on_submit():
        visit_id = checkin.register(get_db(), form.to_checkin())
        # A new session cookie on every check-in keeps Chromium from restoring the filled form from its
        # back/forward cache (SECURITY.md R25); a fresh CSRF token comes with the next form.
        session.pop("csrf_token", None)
        session["turn"] = secrets.token_hex(8)
        return redirect(url_for(".visit", visit_id=visit_id))
    status = 422 if form.is_submitted() else 200
    return render_template("kiosk/checkin.html", form=form, reception=RECEPTION), status


@bp.get("/visits/<visit_id>")
def visit(visit_id):
    status = checkin.get_visit_status(get_db(), visit_id) or abort(404)
    return render_template("kiosk/status.html", visit_id=visit_id, status=status)


@bp.get("/visits/<visit_id>/status")
def visit_status(visit_id):
    status = checkin.get_visit_status(get_db(), visit_id) or abort(404)
    return jsonify(status.as_json())


@bp.get("/hosts")
def hosts():
    query = request.args.get("q", "")[:100]
    if len(query.strip()) < current_app.config["SEARCH_MIN_CHARS"]:
        return jsonify([])
    return jsonify(search_hosts(get_db(), query, limit=current_app.config["SEARCH_LIMIT"]))
