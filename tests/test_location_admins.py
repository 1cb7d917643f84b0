"""Location admins (issue 16): an admin of one location manages only its tablets, school visits and consents (hosts
in tests/test_hosts_locations.py, statistics in tests/test_stats_locations.py, locations in
tests/test_locations_admin.py); a crafted request for another location's object answers 404 and changes nothing.
The audit log records the location an action touched."""

import pytest

from kiosk.admin import audit
from kiosk.devices import pairing
from kiosk.locations import locations
from kiosk.schools import consent
from tests.helpers import admin_client, create_host, create_school_visit, csrf_token, drain, get_page, register_visit


@pytest.fixture
def bergen(db):
    return locations.save_location(db, None, {"name": "Bergen"})


@pytest.fixture
def bergen_admin(app, bergen):
    return admin_client(app, username="berit", location_id=bergen)


@pytest.fixture
def tablets(app, db, bergen):
    """{"Oslo": id, "Bergen": id}: a paired tablet at each location."""
    made = {}
    with app.app_context():
        for place, location_id in (("Oslo", 1), ("Bergen", bergen)):
            code = pairing.create_pairing_code(db, f"{place} tablet", location_id=location_id)
            made[place] = pairing.pair(db, code.code)[0].id
    return made


@pytest.fixture
def school_visits(db, bergen):
    host = create_host(db)
    oslo, at_bergen = create_school_visit(db, host, school="Oslo skole"), create_school_visit(db, host,
                                                                                           school="Bergen skole")
    db.execute("UPDATE school_visits SET location_id = ? WHERE id = ?", [bergen, at_bergen])
    return {"Oslo": oslo, "Bergen": at_bergen}


@pytest.fixture
def consents(app, db, bergen):
    with app.app_context():
        made = {place: consent.give(db, name=f"Elev {place}", email=f"elev@{place.lower()}.no",
                                    school=f"{place} skole", policy_version=1) for place in ("Oslo", "Bergen")}
    db.execute("UPDATE consents SET location_id = ? WHERE id = ?", [bergen, made["Bergen"]])
    return made


def post(client, url, **data):
    page = get_page(client, "/admin/kiosks")
    return client.post(url, data={"csrf_token": csrf_token(page), **data})


# Tablets


def test_a_location_admin_sees_their_location_s_tablets_only(bergen_admin, tablets):
    names = [cell.text.strip() for cell in get_page(bergen_admin, "/admin/kiosks").select("tbody th")]
    assert "Bergen tablet" in names and "Oslo tablet" not in names


@pytest.mark.parametrize("action", ["rename", "revoke"])
def test_a_location_admin_cannot_touch_another_location_s_tablet(bergen_admin, db, tablets, action):
    response = post(bergen_admin, f"/admin/kiosks/{tablets['Oslo']}/{action}", name="Mine now")
    assert response.status_code == 404
    device = pairing.get_device(db, tablets["Oslo"])
    assert (device.name, device.revoked_at) == ("Oslo tablet", None)
    assert post(bergen_admin, f"/admin/kiosks/{tablets['Bergen']}/{action}", name="Bryggen").status_code == 302


def test_a_location_admin_pairs_tablets_at_their_location_whatever_the_form_says(bergen_admin, db, bergen):
    page = get_page(bergen_admin, "/admin/kiosks")
    assert page.select("select[name=location_id]") == []
    response = post(bergen_admin, "/admin/kiosks/pair", name="Sneaky", location_id="1")
    assert response.status_code == 200
    assert db.execute("SELECT location_id FROM pairing_codes WHERE name = 'Sneaky'").fetchone() == (bergen,)


# School visits and consents


def test_a_location_admin_sees_and_deletes_their_school_visits_only(bergen_admin, db, school_visits):
    page = get_page(bergen_admin, "/admin/schools/")
    assert "Bergen skole" in page.text and "Oslo skole" not in page.text
    assert post(bergen_admin, f"/admin/schools/{school_visits['Oslo']}/delete").status_code == 404
    assert db.execute("SELECT count(*) FROM school_visits").fetchone() == (2,)
    assert post(bergen_admin, f"/admin/schools/{school_visits['Bergen']}/delete").status_code == 302
    assert db.execute("SELECT school FROM school_visits").fetchall() == [("Oslo skole",)]


def test_a_location_admin_plans_school_visits_for_their_location_s_hosts(bergen_admin, db, bergen):
    mine = create_host(db, name="Berit Bergen", phone="+4741000003")
    other = create_host(db, name="Olav Oslo", phone="+4741000004")
    db.execute("INSERT INTO host_locations (host_id, location_id) VALUES (?, ?), (?, 1)", [mine.id, bergen, other.id])
    page = get_page(bergen_admin, "/admin/schools/new")
    assert [option.text for option in page.select("select[name=host_id] option")][1:] == ["Berit Bergen"]
    assert page.select("select[name=location_id]") == []


def test_a_location_admin_sees_withdraws_and_exports_their_consents_only(bergen_admin, db, consents):
    page = get_page(bergen_admin, "/admin/schools/consents")
    assert "Elev Bergen" in page.text and "Elev Oslo" not in page.text
    exported = bergen_admin.get("/admin/schools/consents.csv").get_data(as_text=True)
    assert "Elev Bergen" in exported and "Elev Oslo" not in exported
    assert post(bergen_admin, f"/admin/schools/consents/{consents['Oslo']}/withdraw").status_code == 404
    assert db.execute("SELECT count(*) FROM consents").fetchone() == (2,)
    assert post(bergen_admin, f"/admin/schools/consents/{consents['Bergen']}/withdraw").status_code == 302
    assert db.execute("SELECT name FROM consents").fetchall() == [("Elev Oslo",)]


# What spans every location


@pytest.mark.parametrize("url", ["/admin/settings", "/admin/directory-sync"])
def test_installation_pages_are_not_a_location_admin_s(bergen_admin, url):
    assert bergen_admin.get(url).status_code == 404
    links = [link["href"] for link in get_page(bergen_admin, "/admin/hosts").select("nav a")]
    assert url not in links and "/admin/hosts" in links


@pytest.mark.parametrize("url", ["/admin/settings", "/admin/directory-sync/tokens"])
def test_a_location_admin_cannot_post_installation_settings_or_tokens(bergen_admin, db, url):
    assert post(bergen_admin, url, COMPANY_NAME="Taken over", name="Sneaky").status_code == 404
    assert db.execute("SELECT count(*) FROM settings").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM scim_tokens").fetchone() == (0,)


# The audit log


def test_the_audit_log_records_the_location_an_action_touched(app, db, bergen, tablets):
    admin = admin_client(app)
    post(admin, f"/admin/kiosks/{tablets['Bergen']}/revoke")
    rows = get_page(admin, "/admin/audit").select("#audit-events tbody tr")
    assert [cell.text.strip() for cell in rows[0].select("td")][-1] == "Bergen"
    assert db.execute("SELECT location_id FROM audit_events WHERE action = 'device_revoked'").fetchone() == (bergen,)


def test_a_location_admin_s_audit_log_holds_their_location_s_events_only(app, bergen_admin, tablets):
    admin = admin_client(app)
    post(admin, f"/admin/kiosks/{tablets['Oslo']}/rename", name="Oslo left")
    post(bergen_admin, f"/admin/kiosks/{tablets['Bergen']}/rename", name="Bryggen")
    actions = [[cell.text.strip() for cell in row.select("td")] for row in
               get_page(bergen_admin, "/admin/audit").select("#audit-events tbody tr")]
    assert actions and all(row[-1] == "Bergen" for row in actions)
    assert any(row[2] == "tablet renamed" for row in actions)


# Alerts


def raise_at(app, db, location_id, message):
    with app.test_request_context(), locations.at(locations.get_location(db, location_id)):
        audit.raise_alert(db, "sms_budget", message)
    return db.execute("SELECT max(id) FROM alerts").fetchone()[0]


def test_a_location_admin_sees_and_resolves_their_location_s_alerts_only(app, db, bergen, bergen_admin):
    mine = raise_at(app, db, bergen, "Bergen's budget is used up.")
    oslo = raise_at(app, db, 1, "Oslo's budget is used up.")
    with app.test_request_context():
        audit.raise_alert(db, "sms_provider", "The SMS provider refused a message.")  # the installation's
    page = get_page(bergen_admin, "/admin/hosts").text
    assert "Bergen's budget" in page and "Oslo's budget" not in page and "SMS provider" not in page
    everything = get_page(admin_client(app), "/admin/hosts").text
    assert all(text in everything for text in ("Bergen's budget", "Oslo's budget", "SMS provider"))
    assert post(bergen_admin, f"/admin/alerts/{oslo}/resolve").status_code == 404
    assert post(bergen_admin, f"/admin/alerts/{mine}/resolve").status_code == 302
    assert [row[0] for row in db.execute("SELECT id FROM alerts WHERE resolved_at IS NULL ORDER BY id")] == [oslo,
                                                                                                            oslo + 1]


def test_an_alert_from_a_sms_thread_names_the_visit_s_location(app, db, bergen, host, sms):
    sms.fail(to=host.phone, code=21211)
    sms.fail(to="+4741000000", code=21610)  # reception (TEST_CONFIG): nobody can be told
    with app.app_context():
        code = pairing.create_pairing_code(db, "Bryggen", location_id=bergen)
        device = pairing.pair(db, code.code)[0]
    register_visit(app, db, host, kiosk_id=device.id)
    drain(app)
    assert db.execute("SELECT kind, location_id FROM alerts").fetchall() == [("visitor_unannounced", bergen)]


# The Admins page


def test_an_installation_admin_makes_another_admin_one_location_s(app, db, bergen, bergen_admin):
    admin = admin_client(app)
    page = get_page(admin, "/admin/admins")
    rows = {row.th.text: row for row in page.select("#admins tbody tr")}
    assert rows["berit"].select_one("option[selected]").text == "Bergen"
    assert rows["ana"].select("select") == []  # one's own account
    assert "/admin/admins" in [link["href"] for link in page.select("nav a")]  # in the menu once there are several
    berit = db.execute("SELECT id FROM admins WHERE username = 'berit'").fetchone()[0]
    response = admin.post(f"/admin/admins/{berit}/location", data={"csrf_token": csrf_token(page), "location_id": "1"})
    assert response.status_code == 302
    assert db.execute("SELECT location_id FROM admins WHERE username = 'berit'").fetchone() == (1,)
    assert bergen_admin.get("/admin/hosts").status_code == 302  # signed out: the change holds at once
    assert db.execute("SELECT target, location_id FROM audit_events WHERE action = 'admin_location_changed'"
                      ).fetchall() == [(f"admin:{berit}", 1)]
    admin.post(f"/admin/admins/{berit}/location", data={"csrf_token": csrf_token(page), "location_id": ""})
    assert db.execute("SELECT location_id FROM admins WHERE username = 'berit'").fetchone() == (None,)


def test_an_admin_cannot_change_their_own_account_or_choose_a_location_that_does_not_exist(app, db, bergen):
    admin = admin_client(app)
    page = get_page(admin, "/admin/admins")
    response = admin.post("/admin/admins/1/location", data={"csrf_token": csrf_token(page), "location_id": str(bergen)},
                          follow_redirects=True)
    assert "You cannot change your own account." in response.get_data(as_text=True)
    assert db.execute("SELECT location_id FROM admins WHERE id = 1").fetchone() == (None,)
    assert admin.post("/admin/admins/1/location", data={"csrf_token": csrf_token(page), "location_id": "99"}
                      ).status_code == 400
    assert admin.post("/admin/admins/77/location", data={"csrf_token": csrf_token(page)}).status_code == 404


def test_the_admins_page_is_not_a_location_admin_s(bergen_admin, db):
    assert bergen_admin.get("/admin/admins").status_code == 404
    assert post(bergen_admin, "/admin/admins/1/location", location_id="").status_code == 404
    assert db.execute("SELECT location_id FROM admins WHERE username = 'berit'").fetchone() != (None,)
