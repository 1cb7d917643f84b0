"""The reception tablet: pairing, welcome, check-in form, live SMS status, host type-ahead.

Everything but pairing answers only a paired tablet (SECURITY.md R7).
"""

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from kiosk import i18n
from kiosk.config import LOGO_TYPES, is_colour
from kiosk.db import get_db
from kiosk.devices import pairing as devices
from kiosk.errors import form_status
from kiosk.guard import abuse
from kiosk.hosts.directory import search_hosts
from kiosk.locations import locations
from kiosk.messaging import sweeper
from kiosk.settings import setting
from kiosk.walkin import board, checkin, phone
from kiosk.walkin.forms import RECEPTION, CheckinForm, PairForm
from kiosk.web import local_path

bp = Blueprint("kiosk", __name__)
View = Callable[..., ResponseReturnValue]
OPEN_TO_UNPAIRED = "open_to_unpaired"  # the mark open_to_unpaired() sets on a view

JSON_ENDPOINTS = {"kiosk.hosts", "kiosk.visit_status", "kiosk.on_the_way", "kiosk.qr_version"}
TEN_YEARS = 10 * 365 * 24 * 3600
MISTAKES = "mistakes"  # session key: field name -> message of a form sent without JavaScript


def open_to_unpaired(view: View) -> View:
    """Mark a tablet page that answers any browser, paired or not (and the school pages under this blueprint)."""
    setattr(view, OPEN_TO_UNPAIRED, True)
    return view


@bp.before_request
def require_paired_device() -> ResponseReturnValue | None:
    if getattr(current_app.view_functions.get(request.endpoint or ""), OPEN_TO_UNPAIRED, False):
        return None
    token = request.cookies.get(current_app.config["DEVICE_COOKIE_NAME"])
    g.device = devices.device_for_token(get_db(), token)
    if g.device is not None:
        locations.enter(locations.get_location(get_db(), g.device.location_id))  # its screens and SMS follow it
        return None
    if request.endpoint in JSON_ENDPOINTS:
        return jsonify(error="This device is not registered."), 401
    return render_template("kiosk/unpaired.html"), 403


@bp.after_request
def no_store(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.app_template_global()
def accent_color() -> str:
    """The accent colour setting, checked again here: it is written into CSS and HTML."""
    value = setting("ACCENT_COLOR")
    return value if is_colour(value) else current_app.config["ACCENT_COLOR"]


# Browsers fetch a manifest without cookies; it holds nothing but the company's name and colour.
@bp.get("/manifest.webmanifest")
@open_to_unpaired
def manifest() -> Response:
    """The web app manifest: the tablet opens the kiosk full screen, under the company's name."""
    name = setting("COMPANY_NAME")
    body = {
        "name": name,
        "short_name": name,
        "start_url": url_for(".welcome"),
        "scope": url_for(".welcome"),
        "display": "fullscreen",
        "background_color": "#f3f5f7",
        "theme_color": accent_color(),
        "icons": [{"src": url_for("static", filename="icon.svg"), "sizes": "any", "type": "image/svg+xml"},
                  {"src": url_for("static", filename="icon-192.png"), "sizes": "192x192", "type": "image/png"},
                  {"src": url_for("static", filename="icon-512.png"), "sizes": "512x512", "type": "image/png"}],
    }
    response = current_app.response_class(json.dumps(body, ensure_ascii=False),
                                          mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response


# The service worker and its offline page are the same for everyone and carry no personal data.
@bp.get("/sw.js")
@open_to_unpaired
def service_worker() -> Response:
    """The service worker from under /kiosk/, so that its scope is the kiosk (static/js/sw.js)."""
    response = current_app.send_static_file("js/sw.js")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/offline")
@open_to_unpaired
def offline() -> Response:
    """What the service worker shows when the network is gone: no form, no personal data."""
    response = current_app.make_response(render_template("kiosk/offline.html"))
    response.headers["Cache-Control"] = "no-cache"
    return response


# The unpaired page wears the brand too: the installation's logo.
@bp.get("/logo")
@open_to_unpaired
def logo() -> Response:
    """The logo of the tablet's location (kiosk/locations), else the office's (KIOSK_LOGO_FILE), served from this
    server so the page loads nothing from elsewhere. An uploaded SVG was checked for scripts and references
    (locations/logos.py); its own CSP keeps anything in it from running or loading, should it be opened directly."""
    device = devices.device_for_token(get_db(), request.cookies.get(current_app.config["DEVICE_COOKIE_NAME"]))
    own = locations.logo(get_db(), device.location_id) if device is not None else None
    if own is not None:
        response = current_app.response_class(own.data, mimetype=own.mimetype)
        response.add_etag()
        response.make_conditional(request)
    else:
        path = current_app.config["LOGO_FILE"] or abort(404)
        response = send_file(Path(path).resolve(), mimetype=LOGO_TYPES[Path(path).suffix.lower()])
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.app_template_global()
def has_logo() -> bool:
    """Whether the kiosk's header shows a logo (logo()): the current location's own, or the office's file."""
    location = locations.current()
    return (location is not None and location.has_logo) or bool(current_app.config["LOGO_FILE"])


@bp.get("/brand.css")
@open_to_unpaired
def brand_css() -> Response:
    """The office's accent colour as a stylesheet: the CSP allows no inline style."""
    response = current_app.response_class(f":root {{ --accent: {accent_color()}; }}\n", mimetype="text/css")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/pair", methods=["GET", "POST"])
@open_to_unpaired
def pair() -> ResponseReturnValue:
    form = PairForm(code=request.args.get("code", ""))
    name = devices.pairing_code_name(get_db(), form.code.data)
    if form.validate_on_submit():
        device, token = devices.pair(get_db(), form.code.data)
        response = current_app.make_response(render_template("kiosk/paired.html", device=device))
        response.set_cookie(current_app.config["DEVICE_COOKIE_NAME"], token, max_age=TEN_YEARS, httponly=True,
                            secure=current_app.config["COOKIE_SECURE"], samesite="Lax")
        return response
    status = form_status(form)
    return render_template("kiosk/pair.html", form=form, name=name), status


@bp.get("/")
def welcome() -> ResponseReturnValue:
    if request.args.get("reset"):
        # The idle timer and the status screen come back here with ?reset=1: the next visitor starts afresh.
        i18n.reset()
        return redirect(url_for(".welcome"))
    qr_shown = phone.shown()
    return render_template("kiosk/welcome.html", board_shown=board.shown(), coming=board.on_the_way(get_db()),
                           qr_shown=qr_shown, qr_version=phone.generation(get_db(), g.device.id) if qr_shown else None,
                           qr_refresh_seconds=phone.QR_REFRESH_SECONDS)


@bp.get("/qr.svg")
def qr_code() -> ResponseReturnValue:
    """The welcome screen's QR code: a new code for this tablet each time (static/js/qr.js asks every minute)."""
    if not phone.shown():
        abort(404)
    svg = phone.qr_svg(phone.qr_url(get_db(), g.device), title=_("Check in on your phone"))
    return current_app.response_class(svg, mimetype="image/svg+xml")


@bp.get("/qr/version")
def qr_version() -> ResponseReturnValue:
    """Moves on when a phone checked in with this tablet's code: static/js/qr.js then shows a new one at once."""
    return jsonify(version=phone.generation(get_db(), g.device.id))


@bp.get("/on-the-way")
def on_the_way() -> ResponseReturnValue:
    """The welcome screen's "On the way" board, which static/js/board.js refreshes: hosts' short names only."""
    return jsonify([coming.as_json() for coming in board.on_the_way(get_db())])


# Choosing a language only changes what the screen shows, so an unpaired tablet may do it too.
@bp.get("/language/<code>")
@open_to_unpaired
def language(code: str) -> ResponseReturnValue:
    """The language picker's links: a display preference in the session, so no CSRF token is needed."""
    if not i18n.choose(code):
        abort(404)
    return redirect(local_path(request.args.get("next", "")) or url_for(".welcome"))


@bp.route("/checkin", methods=["GET", "POST"])
def checkin_form() -> ResponseReturnValue:
    return checkin_page(g.device, check_in=_check_in, page=CheckinPage(
        action=url_for(".checkin_form"), search_url=url_for(".hosts"), leave_url=url_for(".welcome", reset=1),
        idle_seconds=current_app.config["IDLE_SECONDS"]))


@dataclass(frozen=True)
class CheckinPage:
    """Where the check-in form sends and searches, and where it goes when left: the tablet's, or a phone's."""

    action: str
    search_url: str
    leave_url: str
    idle_seconds: int
    phone: bool = False  # on the visitor's own phone: their browser may fill in name and number


def checkin_page(device: devices.Device, *, check_in: Callable[[checkin.CheckIn], ResponseReturnValue],
                 page: CheckinPage) -> ResponseReturnValue:
    """The check-in form for `device` (the tablet, or the tablet whose code a phone scanned): the abuse guard, the
    form's checks, then `check_in` with the visit once the guard's limits allow it."""
    form = CheckinForm()
    if form.is_submitted():
        try:
            abuse.check_form(get_db(), device, form.form_token.data, form.website.data)
            if form.validate():
                visit = form.to_checkin()
                abuse.check_checkin(get_db(), device, visit)
                return check_in(visit)
        except abuse.Refused as refusal:
            next_turn()
            # The page holds nothing typed; sent by script, static/js/submit.js shows it without a history entry.
            desk_told = checkin.ask_for_help(get_db(), device, form.host_id.data)
            return render_template("kiosk/refused.html", desk_told=desk_told, page=page), refusal.status
        if not sent_by_script():
            return redirect_with_mistakes(form, page.action)
    show_mistakes(form)
    form.form_token.data = abuse.form_token()
    status = form_status(form)
    return render_template("kiosk/checkin.html", form=form, reception=RECEPTION, page=page), status


def sent_by_script() -> bool:
    """A form sent with fetch() by static/js/submit.js. Its answer is not a page in the tablet's history, so the
    browser's session files never keep the typed values with it (issue 9, item 2)."""
    return request.headers.get("X-Requested-With") == "fetch"


def redirect_with_mistakes(form: FlaskForm, url: str) -> ResponseReturnValue:
    """Without JavaScript, a form's answer would be a history entry with the typed values and the POST body, which
    Chromium keeps in its session files: send the browser to a plain GET of the form instead, which shows the
    mistakes (the messages only, in the session cookie) and nothing that was typed."""
    session[MISTAKES] = {field.name: str(field.errors[0]) for field in form if field.errors}
    return redirect(url, code=303)


def show_mistakes(form: FlaskForm) -> None:
    """Put the mistakes redirect_with_mistakes kept on the fields of a freshly shown form."""
    for name, message in session.pop(MISTAKES, {}).items():
        if name in form:
            form[name].errors = [message]


def _check_in(visit: checkin.CheckIn) -> ResponseReturnValue:
    visit_id = checkin.register(get_db(), visit, kiosk_id=g.device.id)
    next_turn()
    return redirect(url_for(".visit", visit_id=visit_id))


def next_turn() -> None:
    """End a visitor's turn at the tablet (also after a school group or a consent)."""
    # A new session cookie after every submission keeps Chromium from restoring the filled form from its
    # back/forward cache (SECURITY.md R25); a fresh CSRF token comes with the next form.
    session.pop("csrf_token", None)
    session["turn"] = secrets.token_hex(8)


@bp.get("/visits/<visit_id>")
def visit(visit_id: str) -> ResponseReturnValue:
    status = checkin.get_visit_status(get_db(), visit_id, kiosk_id=g.device.id) or abort(404)
    return render_template("kiosk/status.html", visit_id=visit_id, status=status)


@bp.get("/visits/<visit_id>/status")
def visit_status(visit_id: str) -> ResponseReturnValue:
    sweeper.sweep(get_db(), visit_id=visit_id)  # a host SMS whose worker died is settled while the visitor waits
    status = checkin.get_visit_status(get_db(), visit_id, kiosk_id=g.device.id) or abort(404)
    return jsonify(status.as_json())


@bp.get("/hosts")
def hosts() -> ResponseReturnValue:
    return host_suggestions()


def host_suggestions() -> ResponseReturnValue:
    """The type-ahead's hosts for ?q= (tablet and phone alike): the location's own first, or only them."""
    query = request.args.get("q", "")[:100]
    if len(query.strip()) < current_app.config["SEARCH_MIN_CHARS"]:
        return jsonify([])
    return jsonify(search_hosts(get_db(), query, limit=current_app.config["SEARCH_LIMIT"],
                                location=locations.current()))
