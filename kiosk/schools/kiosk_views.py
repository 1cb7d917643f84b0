"""The reception tablet's school visit pages: today's visits, the group check-in, the apprenticeship offer.

Paired tablets only (R34), except the withdrawal link of a consent, which a pupil opens from an e-mail.
"""

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for

from kiosk.db import get_db
from kiosk.errors import form_status
from kiosk.hosts.directory import get_host
from kiosk.locations import locations
from kiosk.schools import consent
from kiosk.schools import visits as schools
from kiosk.schools.forms import ConsentForm
from kiosk.settings import setting
from kiosk.walkin import checkin
from kiosk.walkin import views as kiosk_views

bp = Blueprint("schools", __name__)


@bp.app_template_global()
def school_visits_today():
    """Whether the welcome screen offers the School visit button."""
    return bool(schools.visits_today(get_db(), location_id=_here()))


@bp.get("/")
def visits():
    return render_template("kiosk/school_visits.html", visits=schools.visits_today(get_db(), location_id=_here()))


def _here():
    """The tablet's location: its school visits are the ones it shows (issue 16)."""
    location = locations.current()
    return location.id if location is not None else None


@bp.route("/<int:visit_id>", methods=["GET", "POST"])
def group(visit_id):
    visit = schools.get_visit(get_db(), visit_id, today_only=True, location_id=_here()) or abort(404)
    if request.method == "POST":
        if request.form.get("everyone"):  # the "Everyone is here" button: whoever has not arrived yet
            ids = [str(member.id) for member in schools.list_members(get_db(), visit_id) if not member.arrived]
        else:
            ids = [value for value in request.form.getlist("person") if value.isdigit()]
        record_id = schools.check_in_group(get_db(), visit, ids, kiosk_id=g.device.id)
        if record_id is not None:
            kiosk_views.next_turn()
            return redirect(url_for(".checked_in", visit_id=visit_id, record_id=record_id))
        if not kiosk_views.sent_by_script():  # the roster must not enter history behind a POST (issue 9, item 2)
            return redirect(url_for(".group", visit_id=visit_id, nobody=1), code=303)
    members = schools.list_members(get_db(), visit_id)
    nobody = request.method == "POST" or request.args.get("nobody") == "1"
    return render_template("kiosk/school_group.html", visit=visit, members=members, nobody=nobody,
                           badge_host=_badge_host(visit)), 422 if request.method == "POST" else 200


def _badge_host(visit):
    """Whom the pupils' badges say they visit, while the office prints badges: the host the group's SMS goes to."""
    host = get_host(get_db(), visit.host_id) if setting("BADGE") else None
    return host.name if host else None


@bp.get("/<int:visit_id>/checked-in/<record_id>")
def checked_in(visit_id, record_id):
    """The visit's SMS status, as after a walk-in, with who has arrived and who is still missing."""
    visit = schools.get_visit(get_db(), visit_id, today_only=True)
    if visit is None:  # deleted, or past midnight since the check-in: the status still says who was told
        return redirect(url_for("kiosk.visit", visit_id=record_id))
    status = checkin.get_visit_status(get_db(), record_id, kiosk_id=g.device.id) or abort(404)
    members = schools.list_members(get_db(), visit_id)
    return render_template("kiosk/school_checked_in.html", visit=visit, visit_id=record_id, status=status,
                           arrived=sum(member.arrived for member in members), total=len(members),
                           missing=[member for member in members if not member.arrived])


# Apprenticeships


@bp.route("/<int:visit_id>/apprenticeships", methods=["GET", "POST"])
def apprenticeships(visit_id):
    visit = schools.get_visit(get_db(), visit_id, today_only=True, location_id=_here()) or abort(404)
    form = ConsentForm()
    if form.validate_on_submit():
        consent.give(get_db(), name=form.name.data, email=form.email.data, school=visit.school,
                     policy_version=current_app.config["CONSENT_POLICY_VERSION"])
        kiosk_views.next_turn()
        return redirect(url_for(".apprenticeships", visit_id=visit_id, saved=1))
    if form.is_submitted() and not kiosk_views.sent_by_script():
        return kiosk_views.redirect_with_mistakes(form, url_for(".apprenticeships", visit_id=visit_id))
    kiosk_views.show_mistakes(form)
    text = consent.CONSENT_TEXT % {"company": setting("COMPANY_NAME")}
    return render_template("kiosk/school_consent.html", visit=visit, form=form, consent_text=text,
                           saved=request.args.get("saved") == "1" and not form.is_submitted(),
                           version=current_app.config["CONSENT_POLICY_VERSION"]), form_status(form)


# A pupil opens the withdrawal link from an e-mail, on any browser.
@bp.route("/consent/withdraw/<token>", methods=["GET", "POST"])
@kiosk_views.open_to_unpaired
def withdraw(token):
    # GET only asks: mail scanners open links, and must not withdraw a consent by doing so.
    found = consent.consent_for_token(get_db(), token)
    if request.method == "POST" and found is not None:
        consent.withdraw(get_db(), found.id)
        return redirect(url_for(".withdrawn"))
    return render_template("kiosk/school_withdraw.html", found=found), 200 if found else 404


@bp.get("/consent/withdrawn")
@kiosk_views.open_to_unpaired
def withdrawn():
    return render_template("kiosk/school_withdraw.html", found=None, done=True)
