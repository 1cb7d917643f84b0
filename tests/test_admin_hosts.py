"""The host directory in the admin area: list, add, edit, deactivate, delete, import with a preview, export."""

import csv
import io
from datetime import timedelta

import pytest
from freezegun import freeze_time

from kiosk.hosts.directory import search_hosts, take_import_preview
from kiosk.spreadsheet import FORMULA_TRIGGERS
from tests.helpers import (
    CANARY_NAME,
    CANARY_PHONE,
    CANARY_PHONE_TYPED,
    admin_client,
    create_host,
    csrf_token,
    get_page,
    parse_page,
    sign_in,
    tablet_client,
)


@pytest.fixture
def admin(app):
    """A test client signed in as an admin."""
    return admin_client(app)


def host_data(page, **fields):
    data = {"name": "Per Hansen", "phone": "412 34 999", "department": "", "email": "", "language": "", **fields}
    return {"csrf_token": csrf_token(page), **data}


def post_host(admin, url, **fields):
    return admin.post(url, data=host_data(get_page(admin, url), **fields))


def field_error(response, field):
    return parse_page(response).select_one(f"#{field}-error").text


def audit_events(db):
    return [(row["action"], row["target"]) for row in db["audit_events"].rows_where("action != 'sign_in'",
                                                                                      order_by="id")]


# The list


def test_the_host_list_shows_masked_numbers_and_the_edit_page_the_full_number(admin, db):
    host = create_host(db, name="Kari Ødegård", phone="+4741234567")
    page = get_page(admin, "/admin/hosts")
    row = page.select_one("tbody tr")
    assert row.select_one("th a").text == "Kari Ødegård"
    assert row.select_one("td.number").text == "+47 4** ** *67"
    assert "41234567" not in page.text
    assert get_page(admin, f"/admin/hosts/{host.id}").select_one("#phone")["value"] == "+4741234567"


def test_the_host_list_searches_by_name_including_deactivated_hosts(admin, db):
    create_host(db, name="Kari Ødegård", phone="+4741234567")
    per = create_host(db, name="Per Hansen", phone="+4741234568")
    db["hosts"].update(per.id, {"active": 0})
    page = get_page(admin, "/admin/hosts?q=hans")
    assert [a.text for a in page.select("tbody th a")] == ["Per Hansen"]
    assert "Deactivated" in page.select_one("tbody tr").text
    assert get_page(admin, "/admin/hosts?q=!!").select_one("tbody") is None


# Add and edit


def test_adding_a_host_stores_the_number_in_e164_and_offers_them_on_the_kiosk(app, admin, db):
    response = post_host(admin, "/admin/hosts/new", name="Per Hansen", phone="412 34 999", language="en")
    assert response.headers["Location"] == "/admin/hosts"
    row = db["hosts"].get(1)
    assert (row["name"], row["phone"], row["language"], row["department"]) == ("Per Hansen", "+4741234999", "en", None)
    assert [h["name"] for h in search_hosts(db, "per", limit=5)] == ["Per Hansen"]
    assert audit_events(db) == [("host_added", "host:1")]


@pytest.mark.parametrize("fields, field, message", [
    ({"name": ""}, "name", "Enter the host’s name."),
    ({"name": "=HYPERLINK(\"http://x\")"}, "name",
     "The name starts with =, +, -, @ or a tab, which a spreadsheet would run as a formula."),  # R28
    ({"phone": "22 12 34 56"}, "phone", "Enter a mobile number. We can only send text messages to mobile phones."),
    ({"phone": "123"}, "phone", "This number is too short. Check that you typed all the digits."),
    ({"email": "not-an-address"}, "email", "The e-mail address not-an-address is not valid."),
    ({"language": "xx"}, "language", "Not a valid choice."),
])
def test_a_bad_host_field_is_explained_next_to_it_and_nothing_is_saved(admin, db, fields, field, message):
    response = post_host(admin, "/admin/hosts/new", **fields)
    assert response.status_code == 422
    assert field_error(response, field) == message
    assert db["hosts"].count == 0


def test_a_number_another_host_has_is_refused(admin, db):
    create_host(db, phone="+4741234999")
    response = post_host(admin, "/admin/hosts/new", phone="+47 412 34 999")
    assert response.status_code == 422
    assert field_error(response, "phone") == "Another host already has this mobile number."


def test_editing_a_host_changes_what_the_kiosk_search_finds(admin, db):
    host = create_host(db, name="Kari Ødegård", phone="+4741234567", department="Sales")
    response = post_host(admin, f"/admin/hosts/{host.id}", name="Kari Nilsen", phone="+4741234567",
                         department="Finance")
    assert response.status_code == 302
    assert [h["name"] for h in search_hosts(db, "nilsen", limit=5)] == ["Kari Nilsen"]
    assert search_hosts(db, "odegard", limit=5) == []
    assert db["hosts"].get(host.id)["department"] == "Finance"
    assert audit_events(db) == [("host_edited", f"host:{host.id}")]


def test_a_host_may_keep_its_own_number_and_e_mail_when_edited(admin, db):
    host = create_host(db, phone="+4741234567", email="kari@example.no")
    response = post_host(admin, f"/admin/hosts/{host.id}", name="Kari Ø.", phone="41234567", email="KARI@example.no")
    assert response.status_code == 302


def test_an_unknown_host_is_a_404(admin):
    assert admin.get("/admin/hosts/999").status_code == 404


# Deactivate, reactivate, delete


def test_a_deactivated_host_is_not_offered_on_the_kiosk_until_reactivated(app, admin, db):
    host = create_host(db, name="Kari Ødegård")
    tablet = tablet_client(app)
    page = get_page(admin, f"/admin/hosts/{host.id}")
    form = page.select_one(f"form[action='/admin/hosts/{host.id}/deactivate']")
    admin.post(form["action"], data={"csrf_token": csrf_token(form)})
    assert tablet.get("/kiosk/hosts?q=kari").json == []
    page = get_page(admin, f"/admin/hosts/{host.id}")
    assert "deactivated" in page.select_one("main").text
    form = page.select_one(f"form[action='/admin/hosts/{host.id}/reactivate']")
    admin.post(form["action"], data={"csrf_token": csrf_token(form)})
    assert [h["name"] for h in tablet.get("/kiosk/hosts?q=kari").json] == ["Kari Ødegård"]
    assert audit_events(db) == [("host_deactivated", f"host:{host.id}"), ("host_reactivated", f"host:{host.id}")]


def test_deleting_a_host_asks_first_then_removes_them_and_their_search_entry(admin, db):
    host = create_host(db, name="Kari Ødegård")
    page = get_page(admin, f"/admin/hosts/{host.id}/delete")
    assert page.select_one("h1").text == "Delete Kari Ødegård?"
    assert db["hosts"].count == 1  # the question alone deletes nothing
    form = page.select_one("main form")
    response = admin.post(form["action"], data={"csrf_token": csrf_token(form)})
    assert response.headers["Location"] == "/admin/hosts"
    assert db["hosts"].count == 0
    assert db.execute("SELECT count(*) FROM hosts_fts WHERE hosts_fts MATCH 'odegard'").fetchone()[0] == 0
    assert audit_events(db) == [("host_deleted", f"host:{host.id}")]


# Several hosts at once (issue 11, item 5)


def post_selected(admin, page, **data):
    form = page.select_one("form#host-list")
    return admin.post(form["action"], data={"csrf_token": csrf_token(form), "q": form.select_one("[name=q]")["value"],
                                            **data})


def test_ticked_hosts_are_deactivated_together(admin, db):
    kari, _, per = (create_host(db, name=name, phone=f"+474123456{n}") for n, name in enumerate(["Kari", "Ola", "Per"]))
    page = get_page(admin, "/admin/hosts")
    assert page.select_one(f"input[name=host][value='{kari.id}']")["aria-label"] == "Select Kari"
    response = post_selected(admin, page, host=[str(kari.id), str(per.id)], action="deactivate")
    assert response.headers["Location"] == "/admin/hosts"
    assert {row["name"]: row["active"] for row in db["hosts"].rows} == {"Kari": 0, "Ola": 1, "Per": 0}
    assert "2 hosts deactivated." in get_page(admin, "/admin/hosts").text
    assert audit_events(db) == [("hosts_deactivated", "hosts:2")]


def test_deleting_all_hosts_matching_a_search_asks_first_then_deletes_them_and_their_search_entries(admin, db):
    for n, name in enumerate(["Demo Kari", "Demo Ola", "Real Per"]):
        create_host(db, name=name, phone=f"+474123456{n}")
    page = get_page(admin, "/admin/hosts?q=demo")
    question = post_selected(admin, page, all_matching="1", action="delete")
    assert question.status_code == 200 and db["hosts"].count == 3  # the question alone deletes nothing
    confirm = parse_page(question)
    assert confirm.select_one("h1").text == "Delete 2 hosts?"
    form = confirm.select_one("main form")
    data = {field["name"]: field.get("value", "") for field in form.select("input[type=hidden]")}
    response = admin.post(form["action"], data={**data, "action": "delete"})
    assert response.status_code == 302
    assert [row["name"] for row in db["hosts"].rows] == ["Real Per"]
    assert db.execute("SELECT count(*) FROM hosts_fts WHERE hosts_fts MATCH 'demo'").fetchone()[0] == 0
    assert audit_events(db) == [("hosts_deleted", "hosts:2")]


def test_nothing_ticked_changes_nothing_and_says_so(admin, db):
    create_host(db, name="Kari")
    response = post_selected(admin, get_page(admin, "/admin/hosts"), action="delete")
    assert response.status_code == 302 and db["hosts"].count == 1
    assert "Tick the hosts to change first." in get_page(admin, "/admin/hosts").text


# Import with a preview


CSV = (
    "name,phone,department\n"
    "Kari Ødegård,412 34 567,Sales\n"
    "Per Hansen,22 12 34 56,Finance\n"
    "Ola Nordmann,+47 412 34 568,\n"
    "=cmd,412 34 569,\n"
)


def upload(admin, data=CSV, filename="hosts.csv"):
    page = get_page(admin, "/admin/hosts/import")
    body = data.encode("utf-8") if isinstance(data, str) else data
    data = {"csrf_token": csrf_token(page), "file": (io.BytesIO(body), filename)}
    return admin.post("/admin/hosts/import", data=data, content_type="multipart/form-data")


def test_an_import_preview_lists_each_bad_row_with_its_line_and_saves_nothing(admin, db):
    response = upload(admin)
    assert response.status_code == 200
    page = parse_page(response)
    errors = [[td.text for td in tr.select("td")] for tr in page.select("#row-errors tbody tr")]
    assert [line for line, _ in errors] == ["3", "5"]
    assert "Enter a mobile number" in errors[0][1] and "formula" in errors[1][1]
    assert page.select_one("#count-added").text == "2"
    assert page.select_one("#count-errors").text == "2"
    assert db["hosts"].count == 0
    assert page.select_one("form[action='/admin/hosts/import/confirm'] button").text.strip() == (
        "Confirm: import 2 rows and skip 2")


def test_r27_the_import_preview_shows_the_first_names_as_they_will_be_saved_so_garbled_letters_show(admin, db):
    page = parse_page(upload(admin, "navn;mobil\nKari Ødegård;412 34 567\nOla Ås;412 34 568\n".encode("cp1252")))
    rows = [[td.text for td in tr.select("td")] for tr in page.select("#added tbody tr")]
    assert rows == [["Kari Ødegård", "", "+47 4** ** *67"], ["Ola Ås", "", "+47 4** ** *68"]]


def test_confirming_an_import_saves_the_good_rows_and_forgets_the_preview(admin, db):
    create_host(db, name="Kari Ø.", phone="+4741234567")
    page = parse_page(upload(admin))
    assert (page.select_one("#count-added").text, page.select_one("#count-updated").text) == ("1", "1")
    form = page.select_one("form[action='/admin/hosts/import/confirm']")
    response = admin.post(form["action"], data={"csrf_token": csrf_token(form),
                                                "preview_id": form.select_one("[name=preview_id]")["value"]})
    assert response.headers["Location"] == "/admin/hosts"
    assert sorted(row["name"] for row in db["hosts"].rows) == ["Kari Ødegård", "Ola Nordmann"]
    assert db["import_previews"].count == 0
    assert "1 added, 1 updated, 0 unchanged" in get_page(admin, "/admin/hosts").text
    assert audit_events(db) == [("hosts_imported", "added:1 updated:1 unchanged:0 deactivated:0")]


def test_the_preview_shows_each_change_and_who_is_not_in_the_file_and_can_deactivate_them(admin, db):
    create_host(db, name="Kari Ø.", phone="+4741234567", department="Sales", language="en")
    create_host(db, name="Siri Slutter", phone="+4741234599", department="Finance")
    page = parse_page(upload(admin, "navn;mobil;avdeling\nKari Ødegård;412 34 567;Salg\nOla Ny;412 34 568;\n"))
    changes = [[cell.text.strip() for cell in tr.select("th, td")] for tr in page.select("#changed tbody tr")]
    assert changes == [["Kari Ø.", "Name", "Kari Ø.", "Kari Ødegård"], ["Department", "Sales", "Salg"]]
    assert [td.text for td in page.select("#missing tbody td")] == ["Siri Slutter", "Finance"]
    assert "e-mail or sms language" in page.select_one("#kept-fields").text  # absent columns are kept
    form = page.select_one("form[action='/admin/hosts/import/confirm']")
    checkbox = form.select_one("input[name=deactivate_missing]")
    assert form.select_one(f"label[for={checkbox['id']}]").text == "Also deactivate the 1 host who is not in this file"
    response = admin.post(form["action"], data={"csrf_token": csrf_token(form), "deactivate_missing": "y",
                                                "preview_id": form.select_one("[name=preview_id]")["value"]})
    assert response.status_code == 302
    active = {row["name"]: (row["active"], row["language"]) for row in db["hosts"].rows}
    assert active == {"Kari Ødegård": (1, "en"), "Ola Ny": (1, None), "Siri Slutter": (0, "nb")}
    assert "1 added, 1 updated, 0 unchanged, 1 deactivated" in get_page(admin, "/admin/hosts").text
    assert audit_events(db) == [("hosts_imported", "added:1 updated:1 unchanged:0 deactivated:1")]


def test_a_preview_expires_after_15_minutes(app, admin, db):
    with freeze_time("2025-03-03 09:00:00") as clock:
        admin = admin_client(app, username="bo")
        form = parse_page(upload(admin)).select_one("form[action='/admin/hosts/import/confirm']")
        clock.tick(timedelta(minutes=14))
        admin.get("/admin/hosts")  # stay signed in
        clock.tick(timedelta(minutes=2))
        response = admin.post(form["action"], data={"csrf_token": csrf_token(form),
                                                    "preview_id": form.select_one("[name=preview_id]")["value"]})
        assert response.headers["Location"] == "/admin/hosts/import"
        assert "expired" in get_page(admin, "/admin/hosts/import").text
    assert db["hosts"].count == 0


def test_a_preview_is_only_for_the_admin_who_uploaded_it(app, admin, db):
    form = parse_page(upload(admin)).select_one("form[action='/admin/hosts/import/confirm']")
    with app.app_context():
        assert take_import_preview(db, form.select_one("[name=preview_id]")["value"], admin_id=999) is None
    assert db["hosts"].count == 0


@pytest.mark.parametrize("data, filename, message", [
    (b"PK\x03\x04not really a zip", "hosts.xlsx", "damaged"),
    (b"\x00\x01\x02binary", "hosts.csv", "binary data"),
    ("navn,avdeling\nKari,Sales\n", "hosts.csv", "one for the mobile number (phone or mobil)"),
])
def test_a_file_that_is_not_a_host_list_is_explained_next_to_the_file_field(admin, db, data, filename, message):
    response = upload(admin, data, filename)
    assert response.status_code == 422
    assert message in field_error(response, "file")
    assert db["import_previews"].count == 0


def test_r27_an_upload_over_the_size_limit_gets_the_413_page(make_app):
    app = make_app(MAX_CONTENT_LENGTH=2000)
    response = upload(admin_client(app), CSV * 100)
    assert response.status_code == 413


# Export


def test_r28_an_export_is_a_csv_download_whose_cells_a_spreadsheet_will_not_run(admin, db):
    create_host(db, name="=HYPERLINK(\"http://evil.example\")", phone="+4741234567", department="@SUM(A1)")
    create_host(db, name="Per Hansen", phone="+4741234568", department="-1+1")
    response = admin.get("/admin/hosts/export")
    assert response.headers["Content-Disposition"] == "attachment; filename=hosts.csv"
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["name", "phone", "department", "email", "language"]
    assert all(not cell.startswith(FORMULA_TRIGGERS) for row in rows for cell in row)
    assert ["'=HYPERLINK(\"http://evil.example\")", "'+4741234567", "'@SUM(A1)", "", "nb"] in rows
    assert audit_events(db) == [("hosts_exported", "hosts:2")]


# Audit events hold ids only


def confirm_upload(admin, response):
    form = parse_page(response).select_one("form[action='/admin/hosts/import/confirm']")
    return admin.post(form["action"], data={"csrf_token": csrf_token(form),
                                            "preview_id": form.select_one("[name=preview_id]")["value"]})


def post_button(admin, url, page_url):
    return admin.post(url, data={"csrf_token": csrf_token(get_page(admin, page_url))})


def test_r31_audit_events_and_logs_hold_no_names_or_numbers(app, admin, db, log_records):
    post_host(admin, "/admin/hosts/new", name=CANARY_NAME, phone=CANARY_PHONE_TYPED)
    host_id = db.execute("SELECT id FROM hosts WHERE phone = ?", [CANARY_PHONE]).fetchone()[0]
    post_host(admin, f"/admin/hosts/{host_id}", name=CANARY_NAME + " Jr", phone=CANARY_PHONE)
    post_button(admin, f"/admin/hosts/{host_id}/deactivate", "/admin/hosts")
    post_button(admin, f"/admin/hosts/{host_id}/reactivate", "/admin/hosts")
    confirm_upload(admin, upload(admin, f"name,phone\n{CANARY_NAME} II,{CANARY_PHONE_TYPED}\n"))
    admin.get("/admin/hosts/export")
    post_button(admin, f"/admin/hosts/{host_id}/delete", "/admin/hosts")
    page = get_page(admin, "/admin/kiosks")
    admin.post("/admin/kiosks/pair", data={"csrf_token": csrf_token(page), "name": CANARY_NAME})
    page = get_page(admin, "/admin/settings")
    data = {field["name"]: field.get("value", "") for field in page.select("form[action='/admin/settings'] input")}
    admin.post("/admin/settings", data={**data, "COMPANY_NAME": CANARY_NAME, "RECEPTION_PHONE": CANARY_PHONE})
    sign_in(app.test_client(), username="kari.kanarifugl")  # an unknown username
    sign_in(app.test_client(), password=CANARY_NAME)  # a wrong password
    actions = {row["action"] for row in db["audit_events"].rows}
    assert actions == {"sign_in", "host_added", "host_edited", "host_deactivated", "host_reactivated",
                       "hosts_imported", "hosts_exported", "host_deleted", "pairing_code_created", "settings_changed",
                       "sign_in_failed"}
    for row in db["audit_events"].rows:
        text = " ".join(str(value) for value in row.values()).casefold()
        assert "kanarifugl" not in text and "99999999" not in text and "999 99" not in text, text
    assert any(record.name == "kiosk.admin.audit" for record in log_records)
    for record in log_records:
        assert "Kanarifugl" not in record.getMessage() and "99999999" not in record.getMessage()


def test_r33_a_deleted_hosts_name_number_and_search_tokens_leave_the_database_file(app, db):
    from pathlib import Path

    from kiosk.hosts.directory import delete_host
    host = create_host(db, name="Kari Kanarifugl Ødegård", phone="+4798765432")
    for i in range(50):  # neighbours in the same pages and index segments
        create_host(db, name=f"Ola Nordmann {i}", phone=f"+47412{i:05d}")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    delete_host(db, host.id)
    files = [Path(app.config["DATABASE"]), Path(app.config["DATABASE"] + "-wal")]
    found = [(path.name, canary) for path in files if path.exists()
             for canary in (b"Kanarifugl", b"kanarifugl", b"odegard", b"98765432")
             if canary in path.read_bytes()]
    assert found == []
    assert db.execute("SELECT count(*) FROM hosts_fts WHERE hosts_fts MATCH 'kanarifugl'").fetchone()[0] == 0
