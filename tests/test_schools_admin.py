"""School visits in the admin area: the form, the roster preview, confirm, refusals that keep nothing (R34)."""

from datetime import timedelta
from io import BytesIO

import pytest

from kiosk.db import get_db
from kiosk.schools.visits import today
from tests.helpers import admin_client, create_host, csrf_token, files_under, get_page, parse_page, tablet_client

ROSTER = "navn;rolle;klasse\nOla Nordmann;elev;8B\nKari Kanarifugl;elev;8B\nOla Nordmann;elev;8B\nLiv Lærer;lærer;\n"
ROSTER_BYTES = ROSTER.encode()



@pytest.fixture
def host(db):
    return create_host(db)


@pytest.fixture
def admin(app):
    """A test client signed in as an admin."""
    return admin_client(app)


def visit_form(page, host, *, roster=ROSTER_BYTES, filename="roster.csv", **fields):
    data = {"csrf_token": csrf_token(page), "school": "Bjerke videregående skole", "visit_date": today().isoformat(),
            "host_id": str(host.id), "arrival_time": "09:30", "teacher_phone": "", "pasted": "", **fields}
    if roster is not None:
        data["roster"] = (BytesIO(roster), filename)
    return data


def upload(admin, host, **fields):
    page = get_page(admin, "/admin/schools/new")
    return admin.post("/admin/schools/new", data=visit_form(page, host, **fields), content_type="multipart/form-data")


def confirm(admin, response):
    page = parse_page(response)
    return admin.post("/admin/schools/confirm", data={"csrf_token": csrf_token(page),
                                                     "preview_id": page.select_one("input[name=preview_id]")["value"]})


def test_the_form_has_the_labels_of_the_issue(admin, host):
    page = get_page(admin, "/admin/schools/new")
    labels = [label.text.strip() for label in page.select("form label")]
    assert {"School", "Date", "Host", "Roster file"} <= set(labels)
    options = page.select("select[name=host_id] option")
    assert [(o.text, o.get("value"), o.has_attr("selected")) for o in options] == [
        ("Choose…", "", True), (host.name, str(host.id), False)]  # nobody is chosen for the admin (issue 11)
    assert page.select_one("main form button[type=submit]").text.strip() == "Upload"


def test_a_visit_without_a_chosen_host_is_refused_and_nothing_is_saved(admin, host, db):
    response = upload(admin, host, host_id="")
    assert response.status_code == 422
    assert parse_page(response).select_one("#host_id-error").text.strip() == "Choose the host the school is visiting."
    assert db["school_previews"].count == 0


def test_the_nav_links_to_school_visits(admin):
    page = get_page(admin, "/admin/schools/")
    assert page.select_one("nav a[aria-current=page]").text == "School visits"


def test_an_upload_shows_a_preview_and_saves_nothing(admin, host, db):
    response = upload(admin, host)
    assert response.status_code == 200
    page = parse_page(response)
    assert page.select_one("#count-people").text == "3"
    assert page.select_one("#count-duplicates").text == "1"
    assert [row.select("td")[0].text for row in page.select("#row-errors tbody tr")] == ["4"]
    assert [row.select("td")[1].text for row in page.select("#roster tbody tr")] == ["Ola", "Kari", "Liv"]
    assert db["school_visits"].count == 0


def test_confirm_saves_the_visit_and_its_roster(admin, host, db):
    response = confirm(admin, upload(admin, host, teacher_phone="412 34 888"))
    assert response.status_code == 302
    visit = next(db["school_visits"].rows)
    assert (visit["school"], visit["visit_date"], visit["host_id"], visit["arrival_time"], visit["teacher_phone"]) == (
        "Bjerke videregående skole", today().isoformat(), host.id, "09:30", "+4741234888")
    assert db["school_people"].count == 3
    assert db["school_previews"].count == 0
    page = get_page(admin, "/admin/schools/")
    assert "Bjerke videregående skole" in page.select_one("#school-visits").text
    event = db.execute("SELECT action, target FROM audit_events WHERE action LIKE 'school%'").fetchone()
    assert event == ("school_visit_added", f"school_visit:{visit['id']}")


def test_a_pasted_list_makes_pupils(admin, host, db):
    confirm(admin, upload(admin, host, roster=None, pasted="Ola Nordmann\nKari Berg"))
    assert [r["role"] for r in db["school_people"].rows] == ["pupil", "pupil"]


def test_a_roster_is_required(admin, host):
    response = upload(admin, host, roster=None)
    assert response.status_code == 422
    assert "Choose a roster file" in parse_page(response).select_one("#roster-error").text


@pytest.mark.parametrize("field, value, message", [
    ("teacher_phone", "22 22 22 22", "mobile"), ("school", "", "school"),
    ("visit_date", timedelta(days=-2), "passed"),  # days from today, read when the test runs, not at import
    ("visit_date", "9999-12-31", "within a year"),  # was a 500 (issue 9, item 6)
    ("visit_date", timedelta(days=400), "within a year"),
])
def test_bad_fields_are_explained(admin, host, field, value, message):
    if isinstance(value, timedelta):
        value = (today() + value).isoformat()
    response = upload(admin, host, **{field: value})
    assert response.status_code == 422
    assert message in parse_page(response).select_one(f"#{field}-error").text


def test_a_preview_cannot_be_confirmed_by_another_admin(app, admin, host, db):
    response = upload(admin, host)
    other = admin_client(app, username="bo")
    page = parse_page(response)
    other.post("/admin/schools/confirm", data={"csrf_token": csrf_token(get_page(other, "/admin/schools/new")),
                                               "preview_id": page.select_one("input[name=preview_id]")["value"]})
    assert db["school_visits"].count == 0


def test_school_pages_need_a_signed_in_admin(app, host):
    client = tablet_client(app)
    for url in ("/admin/schools/", "/admin/schools/new"):
        response = client.get(url)
        assert response.status_code == 302 and response.location.endswith("/admin/login")


def test_delete_removes_the_visit_and_roster(admin, host, db):
    confirm(admin, upload(admin, host))
    page = get_page(admin, "/admin/schools/")
    action = page.select_one("#school-visits form")["action"]
    admin.post(action, data={"csrf_token": csrf_token(page)})
    assert db["school_visits"].count == 0 and db["school_people"].count == 0


REFUSED = [
    ("navn;allergi\nKari Kanarifugl;nøtter\n", "may only have the columns"),
    ("navn;klasse\nKari Kanarifugl;8B\nPer Hansen;010203 12345\n", "national identity number"),
    ("navn;klasse\nKari Kanarifugl;8B\nPer Hansen;01.02.2010\n", "date of birth"),
]


@pytest.mark.parametrize("roster, message", REFUSED)
def test_a_refused_roster_leaves_no_byte_anywhere(instance_app, tmp_path, roster, message):
    app = instance_app
    with app.app_context():
        host = create_host(get_db())
    admin = admin_client(app)
    response = upload(admin, host, roster=roster.encode())
    assert response.status_code == 422
    assert message in parse_page(response).select_one("#roster-error").text
    assert b"Kanarifugl" not in response.data and b"12345" not in response.data
    written = files_under(tmp_path / "instance")
    assert any(path.name.endswith("-wal") for path in written)
    assert [path for path in written if b"Kanarifugl" in path.read_bytes()] == []
