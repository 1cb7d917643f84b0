"""The apprenticeship consent ledger: an opt-in on the kiosk, 12 months, withdrawal at once, a safe export."""

import csv
import io
from datetime import datetime

import pytest
from freezegun import freeze_time

from kiosk.db import get_db, now
from kiosk.retention import purge
from kiosk.schools import consent
from kiosk.spreadsheet import FORMULA_TRIGGERS
from tests.helpers import SCHOOL, admin_client, create_host, create_school_visit, csrf_token, get_page, parse_page
from tests.helpers import school_check_in as check_in


@pytest.fixture
def visit_id(db):
    return create_school_visit(db, create_host(db))


def offer_url(visit_id):
    return f"/kiosk/school/{visit_id}/apprenticeships"


def give(client, visit_id, *, name="Kari Kanarifugl", email="kari@example.com", agree=True):
    page = get_page(client, offer_url(visit_id))
    data = {"csrf_token": csrf_token(page), "name": name, "email": email}
    if agree:
        data["agree"] = "y"
    return client.post(offer_url(visit_id), data=data)


def test_the_group_page_offers_apprenticeships_after_the_check_in(client, visit_id):
    assert not get_page(client, f"/kiosk/school/{visit_id}").find("a", string="Apprenticeships")
    check_in(client, visit_id)
    link = get_page(client, f"/kiosk/school/{visit_id}").find("a", string="Apprenticeships")
    assert link["href"] == offer_url(visit_id)


def test_the_offer_page_has_labels_an_unticked_yes_and_the_consent_text(client, visit_id):
    page = get_page(client, offer_url(visit_id))
    labels = [label.text.strip() for label in page.select("form label")]
    assert labels[:2] == ["Name", "E-mail"] and labels[2].startswith("Yes")
    assert not page.select_one("input[name=agree]").has_attr("checked")
    assert "12 months" in page.select_one("#consent-text").text
    assert page.select_one("#policy-version").text.endswith("1")
    assert page.select_one("form button[type=submit]").text == "Save"


def test_saving_keeps_name_email_school_purpose_version_and_time(client, db, visit_id):
    response = give(client, visit_id)
    assert response.status_code == 302
    page = get_page(client, response.location)
    assert "Thank you" in page.text and "Kanarifugl" not in str(page)
    row = next(db["consents"].rows)
    assert (row["name"], row["email"], row["school"], row["purpose"], row["policy_version"]) == (
        "Kari Kanarifugl", "kari@example.com", SCHOOL, consent.PURPOSE, "1")
    given = datetime.fromisoformat(row["given_at"])
    assert abs((given - now()).total_seconds()) < 60
    assert row["expires_at"] == consent.expiry(given).isoformat()


def test_nothing_is_kept_without_the_ticked_box(client, db, visit_id):
    response = give(client, visit_id, agree=False)
    assert response.status_code == 422
    assert parse_page(response).select_one("#agree-error")
    assert db["consents"].count == 0


@pytest.mark.parametrize("field, value", [("email", "not-an-address"), ("name", ""), ("email", "=1+1@x.no")])
def test_bad_fields_are_explained(client, db, visit_id, field, value):
    response = give(client, visit_id, **{field: value})
    assert response.status_code == 422 and parse_page(response).select_one(f"#{field}-error")
    assert db["consents"].count == 0


def test_an_unpaired_device_cannot_reach_the_offer(unpaired_client, visit_id):
    assert unpaired_client.get(offer_url(visit_id)).status_code == 403


def test_a_consent_expires_after_12_months(app, db):
    with app.app_context(), freeze_time("2024-02-29 12:00:00"):
        consent.give(get_db(), name="Ola N", email="ola@example.com", school=SCHOOL, policy_version="1")
    with app.app_context():
        with freeze_time("2025-02-28 11:59:00"):
            assert len(consent.list_consents(get_db())) == 1
            assert purge(get_db())["apprenticeship consents"] == 0
        with freeze_time("2025-02-28 12:00:01"):
            assert consent.list_consents(get_db()) == []
            assert purge(get_db())["apprenticeship consents"] == 1


def withdraw_link(app, db):
    with app.test_request_context():
        return consent.withdraw_token(consent.list_consents(db)[0])


def test_a_signed_link_withdraws_at_once_without_a_paired_device(app, client, db, visit_id, unpaired_client):
    give(client, visit_id)
    url = f"/kiosk/school/consent/withdraw/{withdraw_link(app, db)}"
    page = get_page(unpaired_client, url)
    assert db["consents"].count == 1  # opening the link only asks
    response = unpaired_client.post(url, data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert db["consents"].count == 0
    assert "withdrawn" in get_page(unpaired_client, response.location).text
    get_page(unpaired_client, url, status=404)


@pytest.mark.parametrize("token", ["nonsense", "WzEsICJ4Il0.forged"])
def test_a_forged_link_withdraws_nothing(app, client, db, visit_id, unpaired_client, token):
    give(client, visit_id)
    get_page(unpaired_client, f"/kiosk/school/consent/withdraw/{token}", status=404)
    assert db["consents"].count == 1


def test_an_admin_sees_consents_per_school_and_can_withdraw(app, client, db, visit_id):
    give(client, visit_id)
    admin = admin_client(app)
    page = get_page(admin, "/admin/schools/consents")
    assert page.select_one("table.consents caption").text.startswith(SCHOOL)
    form = page.select_one("table.consents form")
    admin.post(form["action"], data={"csrf_token": csrf_token(page)})
    assert db["consents"].count == 0
    event = db.execute("SELECT target FROM audit_events WHERE action = 'consent_withdrawn'").fetchone()
    assert event[0].startswith("consent:")


def test_the_export_is_safe_csv_with_withdrawal_links(app, client, db, visit_id):
    give(client, visit_id, name="=HYPERLINK(\"http://evil\")", email="kari@example.com")
    give(client, visit_id, name="Ola Nordmann", email="ola@example.com")
    response = admin_client(app).get("/admin/schools/consents.csv")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == list(consent.EXPORT_COLUMNS)
    assert all(not cell.startswith(FORMULA_TRIGGERS) for row in rows for cell in row)
    names = sorted(row[1] for row in rows[1:])
    assert names == ["'=HYPERLINK(\"http://evil\")", "Ola Nordmann"]
    assert all("/kiosk/school/consent/withdraw/" in row[-1] for row in rows[1:])


def test_a_withdrawn_consent_leaves_no_byte_in_the_database_or_wal(make_app, tmp_path):
    import sqlite3
    from pathlib import Path

    app = make_app(DATABASE=str(tmp_path / "instance" / "kiosk.db"))
    reader = sqlite3.connect(app.config["DATABASE"])
    reader.execute("SELECT count(*) FROM sqlite_master").fetchone()
    with app.app_context():
        db = get_db()
        consent_id = consent.give(db, name="Kari Kanarifugl", email="kanari@example.com", school=SCHOOL,
                                  policy_version="1")
        files = [path for path in Path(tmp_path / "instance").rglob("*") if path.is_file()]
        assert any(b"Kanarifugl" in path.read_bytes() for path in files), "the scan must see it before"
        consent.withdraw(db, consent_id)
    files = [path for path in Path(tmp_path / "instance").rglob("*") if path.is_file()]
    assert any(path.name.endswith("-wal") for path in files)
    assert [str(path) for path in files if b"Kanarifugl" in path.read_bytes() or b"kanari@" in path.read_bytes()] == []
    reader.close()
