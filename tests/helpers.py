"""Test builders: plain functions with keyword defaults."""

import io
from pathlib import Path

import openpyxl
from bs4 import BeautifulSoup

from kiosk.admin import accounts
from kiosk.db import get_db, write_transaction
from kiosk.devices import pairing as devices
from kiosk.hosts import memberships
from kiosk.hosts.directory import get_host, save_hosts
from kiosk.phone import PhoneNumber
from kiosk.schools import visits as schools
from kiosk.schools.visits import Person, Roster
from kiosk.walkin import checkin
from kiosk.walkin.checkin import CheckIn

CANARY_NAME = "Kari Kanarifugl Nordmann"
CANARY_PHONE = "+4799999999"
CANARY_PHONE_TYPED = "999 99 999"


def create_host(db, *, name="Kari Ødegård", phone="+4741234567", department="Sales", email=None, language="nb"):
    save_hosts(db, [{"name": name, "phone": phone, "department": department, "email": email, "language": language}])
    host_id = db.execute("SELECT id FROM hosts WHERE phone = ?", [phone]).fetchone()[0]
    return get_host(db, host_id)


def place_hosts(db, placements):
    """Place hosts at locations ({host id: [location ids]}; [] for every location), in one transaction."""
    with write_transaction(db):
        for host_id, location_ids in placements.items():
            memberships.set_locations(db, host_id, location_ids)


def xlsx(rows):
    """An Excel workbook whose sheet holds `rows`, as bytes."""
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def get_page(client, url, status=200):
    """GET a page and parse it; checks the status, a <title>, and a CSRF token in every POST form."""
    response = client.get(url)
    assert response.status_code == status, response.data[:500]
    return parse_page(response)


def parse_page(response):
    page = BeautifulSoup(response.data, "html.parser")
    assert page.title and page.title.text.strip()
    for form in page.select("form[method=post]"):
        assert form.select_one("input[name=csrf_token]"), "a POST form without a CSRF token"
    return page


def csrf_token(page):
    return page.select_one("input[name=csrf_token]")["value"]


def checkin_data(page, *, name="Ragnhild Berg", phone="412 34 999", host_id="", confirm=True, **extra):
    token = page.select_one("input[name=form_token]")  # the abuse guard's one-time token (R8)
    data = {"csrf_token": csrf_token(page), "form_token": token["value"] if token else "", "name": name,
            "phone": phone, "host_id": str(host_id), **extra}
    if confirm:
        data["confirm"] = "y"
    return data


def post_check_in(client, **fields):
    """Open the check-in form and send it, filled in by checkin_data(**fields); returns the response."""
    page = get_page(client, "/kiosk/checkin")
    return client.post("/kiosk/checkin", data=checkin_data(page, **fields))


def files_under(folder):
    """Every file below `folder`, as Paths."""
    return [path for path in Path(folder).rglob("*") if path.is_file()]


def pair_tablet(app, client=None, *, name="Reception tablet", script=True):
    """Pair a kiosk tablet; sets its credential on `client` if given. Returns (device, credential).

    The client then sends forms as static/js/submit.js does (fetch, X-Requested-With); script=False makes it a
    browser without JavaScript."""
    with app.app_context():
        code = devices.create_pairing_code(get_db(), name)
        device, token = devices.pair(get_db(), code.code)
    if client is not None:
        client.set_cookie(app.config["DEVICE_COOKIE_NAME"], token)
        if script:
            client.environ_base["HTTP_X_REQUESTED_WITH"] = "fetch"
    return device, token


def tablet_client(app):
    """The app's one paired kiosk test client, made on first use."""
    if "test_tablet" not in app.extensions:
        client = app.test_client()
        pair_tablet(app, client)
        app.extensions["test_tablet"] = client
    return app.extensions["test_tablet"]


ADMIN_PASSWORD = "correct horse battery staple"


def create_admin(db, *, username="ana", password=ADMIN_PASSWORD, location_id=None):
    return accounts.create_admin(db, username, password, location_id=location_id)


def sign_in(client, *, username="ana", password=ADMIN_PASSWORD):
    """Post the admin sign-in form; returns the response."""
    page = get_page(client, "/admin/login")
    return client.post("/admin/login", data={"csrf_token": csrf_token(page), "username": username,
                                             "password": password})


def admin_client(app, *, username="ana", location_id=None):
    """A test client signed in as a new admin (of one location with location_id)."""
    with app.app_context():
        create_admin(get_db(), username=username, location_id=location_id)
    client = app.test_client()
    assert sign_in(client, username=username).status_code == 302
    return client


# SMS of a visit


def register_visit(app, db, host, *, kiosk_id=None, confirm=True, phone="+4741234999", country_allowed=True):
    """Check Ragnhild Berg in for `host` (None: reception) without the web form; returns the visit id."""
    with app.test_request_context():
        return checkin.register(db, CheckIn("Ragnhild Berg", PhoneNumber(phone), host, confirm=confirm,
                                            country_allowed=country_allowed), kiosk_id=kiosk_id)


def sweep_now(app, *, visit_id=None):
    """Run the sweeper once and wait for the SMS it started; returns how many rows it settled."""
    from kiosk.messaging import sweeper
    with app.app_context():
        settled = sweeper.sweep(get_db(), visit_id=visit_id)
    drain(app)
    return settled


def drain(app):
    """Wait until every SMS the app started is settled."""
    assert app.extensions["dispatcher"].drain(timeout=10)


def messages(db, visit_id):
    return {row["recipient"]: row for row in db["messages"].rows_where("visit_id = ?", [visit_id])}


def in_flight(db):
    return db.execute("SELECT count(*) FROM messages WHERE status = 'sending'").fetchone()[0]


def alerts(db, kind="visitor_unannounced"):
    return [row[0] for row in db.execute("SELECT message FROM alerts WHERE kind = ?", [kind]).fetchall()]


# School visits

SCHOOL = "Bjerke videregående skole"


def create_school_visit(db, host, *, school=SCHOOL, visit_date=None, people=None, teacher_phone=None):
    """A confirmed school visit, made through the admin's preview path; returns its id."""
    people = people or [Person("Ola", "Nordmann"), Person("Kari", "Kanarifugl", class_name="8B"),
                        Person("Liv", "Lærer", "teacher")]
    visit = {"school": school, "visit_date": (visit_date or schools.today()).isoformat(), "host_id": host.id,
             "arrival_time": "09:30", "teacher_phone": teacher_phone}
    preview = schools.save_preview(db, visit, Roster(people=people), admin_id=1)
    return schools.confirm_preview(db, preview, admin_id=1)


def member_ids(page):
    """The ids of the people on a school group page who can still be ticked."""
    return [box["value"] for box in page.select("input[name=person]") if not box.has_attr("disabled")]


def school_check_in(client, visit_id, count=None):
    """Tick the first `count` people not yet arrived (all, by default) and check the group in."""
    page = get_page(client, f"/kiosk/school/{visit_id}")
    ids = member_ids(page)[:count]
    return client.post(f"/kiosk/school/{visit_id}", data={"csrf_token": csrf_token(page), "person": ids})
