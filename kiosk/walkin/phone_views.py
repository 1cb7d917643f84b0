"""The visitor's own phone (issue 15): /p/<token> from the tablet's QR code, then the same check-in form, host
search and live status as on the tablet, laid out for a phone and in the phone's language (kiosk/i18n.py).

A phone without a valid pass (kiosk/walkin/phone.py) sees one page: "Scan the code on the tablet again".
"""

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from kiosk.db import get_db
from kiosk.locations import locations
from kiosk.messaging import sweeper
from kiosk.walkin import checkin, phone
from kiosk.walkin.views import CheckinPage, checkin_page, host_suggestions, next_turn

bp = Blueprint("phone", __name__)


@bp.after_request
def no_store(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.errorhandler(phone.NoPass)
def scan_again(_error: phone.NoPass) -> ResponseReturnValue:
    return render_template("kiosk/phone_again.html"), 410


@bp.get("/<token>")
def scanned(token: str) -> ResponseReturnValue:
    """The QR code's link: a pass for this phone, then the form at an address without the code in it."""
    phone.open_code(get_db(), token)
    return redirect(url_for(".checkin_form"), code=303)


@bp.route("/checkin", methods=["GET", "POST"])
def checkin_form() -> ResponseReturnValue:
    phone_pass = phone.current_pass(get_db())

    def check_in(visit: checkin.CheckIn) -> ResponseReturnValue:
        if not phone.use_up(get_db(), phone_pass):  # another phone checked in with the same code just now
            raise phone.NoPass
        visit_id = checkin.register(get_db(), visit, kiosk_id=phone_pass.device.id)
        next_turn()
        phone.end_pass(visit_id, phone_pass.device.id)
        return redirect(url_for(".visit", visit_id=visit_id))

    return checkin_page(phone_pass.device, check_in=check_in, page=CheckinPage(
        action=url_for(".checkin_form"), search_url=url_for(".hosts"), leave_url=url_for(".done"),
        idle_seconds=current_app.config["FORM_MAX_SECONDS"], phone=True))


@bp.get("/hosts")
def hosts() -> ResponseReturnValue:
    phone.current_pass(get_db())
    return host_suggestions()


@bp.get("/visits/<visit_id>")
def visit(visit_id: str) -> ResponseReturnValue:
    status = _status(visit_id)
    return render_template("kiosk/status.html", visit_id=visit_id, status=status, home_url=url_for(".done"),
                           status_url=url_for(".visit_status", visit_id=visit_id))


@bp.get("/visits/<visit_id>/status")
def visit_status(visit_id: str) -> ResponseReturnValue:
    sweeper.sweep(get_db(), visit_id=visit_id)
    return jsonify(_status(visit_id).as_json())


def _status(visit_id: str) -> checkin.VisitStatus:
    device_id = phone.visit_device(visit_id)
    locations.enter(locations.of_device(get_db(), device_id))
    status = checkin.get_visit_status(get_db(), visit_id, kiosk_id=device_id) if device_id is not None else None
    if status is None:
        raise phone.NoPass
    return status


@bp.get("/done")
def done() -> ResponseReturnValue:
    """Where the phone's status screen ends, and Cancel leads: nothing to do but close the page."""
    return render_template("kiosk/phone_done.html")
