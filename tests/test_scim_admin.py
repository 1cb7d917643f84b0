"""Issue 12: the directory sync in the admin area: synced hosts marked and read-only, "needs a mobile number",
imports leaving them alone, and the SCIM tokens page (made there, shown once, revocable, audited)."""

import hashlib
import io

import pytest

from kiosk.hosts import directory
from kiosk.scim import tokens
from tests.helpers import admin_client, create_host, csrf_token, get_page, parse_page


def synced(db, name="Kari Nordmann", phone="+4741234567", **fields):
    host_id = directory.save_managed_host(db, {
        "scim_id": f"scim-{name}", "user_name": f"{name.split()[0].lower()}@example.no", "name": name,
        "phone": phone, "scim_active": True, **fields})
    return directory.get_host_entry(db, host_id)


@pytest.fixture
def admin(app):
    return admin_client(app)


def post(admin, url, page_url, **data):
    return admin.post(url, data={"csrf_token": csrf_token(get_page(admin, page_url)), **data})


def test_synced_hosts_are_marked_and_one_without_a_mobile_needs_one(admin, db):
    synced(db)
    synced(db, name="Per Persen", phone=None)
    create_host(db, name="Ola Nordmann", phone="+4741234999")
    page = get_page(admin, "/admin/hosts")
    rows = {row.select_one("th").text: row for row in page.select("tbody tr")}
    assert rows["Per Persen"].select_one(".needs-mobile").text == "needs a mobile number"
    assert rows["Per Persen"].select_one(".managed") and rows["Kari Nordmann"].select_one(".managed")
    assert not rows["Ola Nordmann"].select_one(".managed")
    # No checkbox for a synced host: the bulk actions cannot reach it from the page.
    assert not rows["Kari Nordmann"].select("input[name=host]") and rows["Ola Nordmann"].select("input[name=host]")


def test_a_synced_host_is_shown_read_only(admin, db):
    host = synced(db, phone=None)
    page = get_page(admin, f"/admin/hosts/{host.id}")
    assert "directory sync" in page.select_one("#managed-note").text
    assert "Needs a mobile number" in page.select_one("#needs-mobile").text
    assert not page.select("form[method=post]:not(.sign-out)") and not page.select("input[name=name]")


@pytest.mark.parametrize("action", ["", "/deactivate", "/reactivate", "/delete"])
def test_no_crafted_request_changes_a_synced_host(admin, db, action):
    host = synced(db)
    token = csrf_token(get_page(admin, "/admin/hosts"))
    response = admin.post(f"/admin/hosts/{host.id}{action}",
                          data={"csrf_token": token, "name": "Changed", "phone": "412 34 999"})
    assert response.status_code in (302, 303)
    assert directory.get_host_entry(db, host.id) == host
    assert "identity provider" in get_page(admin, f"/admin/hosts/{host.id}").text


@pytest.mark.parametrize("action", ["deactivate", "delete"])
def test_bulk_actions_leave_synced_hosts_alone_and_say_so(admin, db, action):
    kept = synced(db)
    other = create_host(db, name="Ola Nordmann", phone="+4741234999")
    response = post(admin, "/admin/hosts/selected", "/admin/hosts", action=action, confirm="1",
                    host=[str(kept.id), str(other.id)])
    assert response.status_code == 302
    assert directory.get_host_entry(db, kept.id) == kept
    assert directory.get_host_entry(db, other.id) is None or not directory.get_host_entry(db, other.id).active
    assert "1 host comes from your directory sync and was left as it is." in get_page(admin, "/admin/hosts").text


def test_a_host_without_a_mobile_cannot_be_reactivated(db):
    host_id = directory.save_managed_host(db, {"scim_id": "x", "user_name": "x", "name": "X", "phone": None,
                                               "scim_active": True})
    assert directory.set_hosts_active(db, [host_id], True) == 0
    assert directory.get_host_entry(db, host_id).active is False or directory.get_host_entry(db, host_id).active == 0


def test_an_import_leaves_synced_hosts_as_the_provider_has_them_and_lists_them(admin, db):
    kept = synced(db, department="Engineering")
    page = get_page(admin, "/admin/hosts/import")
    data = "name,phone,department\nKari Spreadsheet,412 34 567,Sales\nOla Nordmann,412 34 999,Sales\n"
    response = admin.post("/admin/hosts/import", content_type="multipart/form-data",
                          data={"csrf_token": csrf_token(page), "file": (io.BytesIO(data.encode()), "hosts.csv")})
    preview = parse_page(response)
    assert preview.select_one("#count-managed").text == "1" and "Kari Nordmann" in preview.select_one("#managed").text
    assert preview.select_one("#count-added").text == "1" and preview.select_one("#count-missing").text == "0"
    form = preview.select_one("form[action='/admin/hosts/import/confirm']")
    admin.post("/admin/hosts/import/confirm", data={
        "csrf_token": csrf_token(preview), "preview_id": form.select_one("input[name=preview_id]")["value"],
        "deactivate_missing": "y"})
    assert directory.get_host_entry(db, kept.id) == kept
    assert db["hosts"].count == 2


def test_an_import_that_deactivates_the_missing_spares_synced_hosts(db):
    kept = synced(db)
    saved = directory.save_hosts(db, [{"name": "Ola", "phone": "+4741234999"}], deactivate_missing=True)
    assert saved.deactivated == 0 and directory.get_host_entry(db, kept.id).active


# The tokens page


def test_a_token_made_in_the_admin_area_is_shown_once_and_works(admin, app, db):
    page = get_page(admin, "/admin/directory-sync")
    assert page.select_one("#scim-url").text == "http://localhost/scim/v2"
    response = admin.post("/admin/directory-sync/tokens", data={"csrf_token": csrf_token(page), "name": "Entra ID"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    token = parse_page(response).select_one("#token-value")["value"]
    [row] = db.query("SELECT * FROM scim_tokens")
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest() and token not in str(row)
    # Not in the session cookie, not on the next page.
    assert token not in response.headers.get("Set-Cookie", "")
    again = get_page(admin, "/admin/directory-sync")
    assert token not in str(again) and again.select_one("#tokens tbody th").text == "Entra ID"
    assert app.test_client().get("/scim/v2/Users", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_a_token_needs_a_name(admin, db):
    page = get_page(admin, "/admin/directory-sync")
    response = admin.post("/admin/directory-sync/tokens", data={"csrf_token": csrf_token(page), "name": "  "})
    assert response.status_code == 422 and db["scim_tokens"].count == 0
    assert "Name the token" in parse_page(response).text


def test_revoking_in_the_admin_area_refuses_the_token_and_is_audited(admin, app, db):
    _, token = tokens.create_token(db, "Okta")
    response = post(admin, "/admin/directory-sync/tokens/1/revoke", "/admin/directory-sync")
    assert response.status_code == 302
    assert app.test_client().get("/scim/v2/Users", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    page = get_page(admin, "/admin/directory-sync")
    assert "Revoked" in page.select_one("#tokens tbody tr").text and not page.select("#tokens form")
    actions = [row["action"] for row in db.query("SELECT action FROM audit_events WHERE action LIKE 'scim%'")]
    assert actions == ["scim_token_created", "scim_token_revoked"]
    assert post(admin, "/admin/directory-sync/tokens/9/revoke", "/admin/directory-sync").status_code == 404


def test_the_page_counts_synced_hosts_and_those_needing_a_mobile(admin, db):
    synced(db)
    synced(db, name="Per Persen", phone=None)
    page = get_page(admin, "/admin/directory-sync")
    assert (page.select_one("#synced-count").text, page.select_one("#no-mobile-count").text) == ("2", "1")


def test_a_host_the_provider_deactivated_may_be_deleted_here(admin, db):
    """Okta deactivates users and never deletes them: without this their names and numbers would stay for ever."""
    active = synced(db)
    off = synced(db, name="Per Persen", phone="+4741234999", scim_active=False)
    assert not get_page(admin, f"/admin/hosts/{active.id}").select("a[href$='/delete']")
    assert get_page(admin, f"/admin/hosts/{off.id}").select_one(f"a[href='/admin/hosts/{off.id}/delete']")
    response = post(admin, f"/admin/hosts/{off.id}/delete", f"/admin/hosts/{off.id}/delete")
    assert response.status_code == 302 and directory.get_host_entry(db, off.id) is None
    post(admin, f"/admin/hosts/{active.id}/delete", "/admin/hosts")
    assert directory.get_host_entry(db, active.id) == active
