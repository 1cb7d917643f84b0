"""Hosts per location (issue 16): a host belongs to some locations or to all; a tablet suggests its location's hosts
first, or only them (hosts_only); a location admin sees the hosts at their location and changes only those of it
alone, including when the request is crafted for another location's host."""

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.hosts import directory, memberships
from kiosk.locations import locations
from tests.helpers import admin_client, create_host, csrf_token, get_page, pair_tablet, place_hosts, post_check_in


@pytest.fixture
def places(db):
    """Oslo (location 1, renamed) and Bergen."""
    locations.save_location(db, 1, {"name": "Oslo"})
    bergen = locations.save_location(db, None, {"name": "Bergen"})
    return locations.get_location(db, 1), locations.get_location(db, bergen)


@pytest.fixture
def hosts(db, places):
    """Kari and Karl in Oslo, Karin in Bergen, Karoline everywhere."""
    oslo, bergen = places
    made = {name: create_host(db, name=name, phone=phone).id for name, phone in (
        ("Kari Oslo", "+4741000001"), ("Karl Oslo", "+4741000002"), ("Karin Bergen", "+4741000003"),
        ("Karoline Overalt", "+4741000004"))}
    place_hosts(db, {made["Kari Oslo"]: [oslo.id], made["Karl Oslo"]: [oslo.id],
                                 made["Karin Bergen"]: [bergen.id]})
    return made


def host_form(page, **fields):
    """The admin host form's fields as posted, with its CSRF token."""
    return {"csrf_token": csrf_token(page), "language": "", **fields}


def names(found):
    return [host["name"] for host in found]


# The tablet's search


def test_a_location_s_own_hosts_and_those_of_every_location_come_first(db, places, hosts):
    oslo, bergen = places
    assert names(directory.search_hosts(db, "kar", limit=10, location=bergen)) == [
        "Karin Bergen", "Karoline Overalt", "Kari Oslo", "Karl Oslo"]
    assert names(directory.search_hosts(db, "kar", limit=10, location=oslo)) == [
        "Kari Oslo", "Karl Oslo", "Karoline Overalt", "Karin Bergen"]


def test_a_host_of_another_location_says_where(db, places, hosts):
    _, bergen = places
    found = {host["name"]: host for host in directory.search_hosts(db, "kar", limit=10, location=bergen)}
    assert found["Kari Oslo"]["location"] == "Oslo"
    assert "location" not in found["Karin Bergen"] and "location" not in found["Karoline Overalt"]
    assert all("location" not in host for host in directory.search_hosts(db, "kar", limit=10))


def test_without_a_location_the_search_is_by_name_alone(db, hosts):
    assert names(directory.search_hosts(db, "kar", limit=10)) == [
        "Kari Oslo", "Karin Bergen", "Karl Oslo", "Karoline Overalt"]


def test_the_limit_is_filled_with_the_location_s_hosts_before_any_other(db, places, hosts):
    _, bergen = places
    assert names(directory.search_hosts(db, "kar", limit=2, location=bergen)) == ["Karin Bergen", "Karoline Overalt"]
    assert names(directory.search_hosts(db, "kar", limit=3, location=bergen))[:2] == ["Karin Bergen",
                                                                                      "Karoline Overalt"]


def test_a_location_that_offers_only_its_own_hosts_hides_the_others(db, places, hosts):
    _, bergen = places
    only = replace(bergen, hosts_only=True)
    assert names(directory.search_hosts(db, "kar", limit=10, location=only)) == ["Karin Bergen", "Karoline Overalt"]
    assert names(directory.search_hosts(db, "karri", limit=10, location=only)) == ["Karin Bergen"]  # typo search too


def test_another_location_s_host_brings_no_typo_guesses_where_only_its_own_are_offered(db, places, hosts):
    # "karl" is Karl Oslo, not a typo: Bergen's tablet shows nothing rather than guess Karin (one letter off).
    only = replace(places[1], hosts_only=True)
    assert names(directory.search_hosts(db, "karl", limit=10, location=only)) == []
    guesses = names(directory.search_hosts(db, "karli", limit=10, location=only))  # a typo: guesses, its own only
    assert "Karin Bergen" in guesses and set(guesses) <= {"Karin Bergen", "Karoline Overalt"}


def test_a_name_typed_in_full_finds_the_location_s_namesake(db, places):
    oslo, bergen = places
    in_oslo = create_host(db, name="Ola Hansen", phone="+4741000011").id
    in_bergen = create_host(db, name="Ola Hansen", phone="+4741000012").id
    place_hosts(db, {in_oslo: [oslo.id], in_bergen: [bergen.id]})
    assert directory.host_named(db, "Ola Hansen") is None  # two of that name: the visitor must choose
    assert directory.host_named(db, "ola hansen", location=bergen).id == in_bergen


def test_the_tablet_s_type_ahead_follows_its_location(app, db, places, hosts):
    _, bergen = places
    client = app.test_client()
    device, _ = pair_tablet(app, client, name="Bergen tablet")
    db.execute("UPDATE devices SET location_id = ? WHERE id = ?", [bergen.id, device.id])
    assert names(client.get("/kiosk/hosts?q=kar").json)[:2] == ["Karin Bergen", "Karoline Overalt"]


def test_a_crafted_check_in_for_another_location_s_host_is_refused_where_only_its_own_are_offered(
        app, db, places, hosts, sms_outbox):
    _, bergen = places
    db.execute("UPDATE locations SET hosts_only = 1 WHERE id = ?", [bergen.id])
    client = app.test_client()
    device, _ = pair_tablet(app, client, name="Bergen tablet")
    db.execute("UPDATE devices SET location_id = ? WHERE id = ?", [bergen.id, device.id])
    response = post_check_in(client, host_id=str(hosts["Kari Oslo"]))
    assert response.status_code == 422
    assert "Choose the person you are visiting from the list." in response.get_data(as_text=True)
    assert sms_outbox == []
    assert post_check_in(client, host_id=str(hosts["Karin Bergen"])).status_code == 302


def test_a_host_s_memberships_go_with_the_host(db, places, hosts):
    directory.delete_host(db, hosts["Kari Oslo"])
    assert db.execute("SELECT count(*) FROM host_locations WHERE host_id = ?", [hosts["Kari Oslo"]]).fetchone()[0] == 0


# The admin's host form


def test_an_installation_admin_places_a_host_at_locations(app, db, places):
    oslo, bergen = places
    client = admin_client(app)
    page = get_page(client, "/admin/hosts/new")
    assert [box["value"] for box in page.select("#host-locations input[type=checkbox]")] == [str(bergen.id),
                                                                                          str(oslo.id)]
    response = client.post("/admin/hosts/new", data=host_form(
        page, name="Nora Bergen", phone="412 00 020", locations=[str(bergen.id)]))
    assert response.status_code == 302, response.get_data(as_text=True)
    host_id = db.execute("SELECT id FROM hosts WHERE name = 'Nora Bergen'").fetchone()[0]
    assert memberships.locations_of(db, host_id) == [bergen.id]
    page = get_page(client, f"/admin/hosts/{host_id}")
    assert [box["value"] for box in page.select("#host-locations input[checked]")] == [str(bergen.id)]
    client.post(f"/admin/hosts/{host_id}", data=host_form(page, name="Nora Bergen", phone="412 00 020"))
    assert memberships.locations_of(db, host_id) == []  # none ticked: every location


def test_with_one_location_the_host_form_has_no_locations(app):
    assert get_page(admin_client(app), "/admin/hosts/new").select("#host-locations") == []


def test_a_location_that_does_not_exist_is_refused_in_the_host_form(app, db, places):
    client = admin_client(app)
    page = get_page(client, "/admin/hosts/new")
    response = client.post("/admin/hosts/new", data=host_form(
        page, name="Nora", phone="412 00 020", locations=["99"]))
    assert response.status_code == 422
    assert db.execute("SELECT count(*) FROM hosts").fetchone()[0] == 0


def test_the_host_list_names_each_host_s_locations(app, db, places, hosts):
    page = get_page(admin_client(app), "/admin/hosts")
    rows = {row.th.text.strip(): [cell.text.strip() for cell in row.select("td")] for row in page.select("tbody tr")}
    assert "Bergen" in rows["Karin Bergen"]
    assert "All locations" in rows["Karoline Overalt"]


# A location admin


@pytest.fixture
def bergen_admin(app, places):
    return admin_client(app, username="berit", location_id=places[1].id)


def test_a_location_admin_sees_the_hosts_at_their_location_only(bergen_admin, hosts):
    page = get_page(bergen_admin, "/admin/hosts")
    assert sorted(row.th.text.strip() for row in page.select("tbody tr")) == ["Karin Bergen", "Karoline Overalt"]
    assert page.select("a[href$='/admin/hosts/import']") == []


@pytest.mark.parametrize("path", ["", "/deactivate", "/delete"])
def test_a_location_admin_gets_404_for_another_location_s_host(bergen_admin, db, hosts, path):
    kari = hosts["Kari Oslo"]
    assert bergen_admin.get(f"/admin/hosts/{kari}{path}").status_code in (404, 405)
    page = get_page(bergen_admin, "/admin/hosts")
    response = bergen_admin.post(f"/admin/hosts/{kari}{path}", data=host_form(page, name="X", phone="412 00 099"))
    assert response.status_code == 404
    assert db.execute("SELECT name, active FROM hosts WHERE id = ?", [kari]).fetchone() == ("Kari Oslo", 1)


def test_a_location_admin_cannot_change_a_host_shared_with_other_locations(bergen_admin, db, hosts):
    shared = hosts["Karoline Overalt"]
    page = get_page(bergen_admin, f"/admin/hosts/{shared}")
    assert page.select_one("#shared-note")
    response = bergen_admin.post(f"/admin/hosts/{shared}", data=host_form(page, name="Changed", phone="412 00 099"))
    assert response.status_code == 303
    response = bergen_admin.post(f"/admin/hosts/{shared}/delete", data={"csrf_token": csrf_token(page)})
    assert db.execute("SELECT name FROM hosts WHERE id = ?", [shared]).fetchone() == ("Karoline Overalt",)


def test_a_location_admin_changes_their_own_host_and_adds_hosts_to_their_location(bergen_admin, db, places, hosts):
    _, bergen = places
    karin = hosts["Karin Bergen"]
    page = get_page(bergen_admin, f"/admin/hosts/{karin}")
    assert page.select("#host-locations") == []
    response = bergen_admin.post(f"/admin/hosts/{karin}", data=host_form(
        page, name="Karin Bryggen", phone="+4741000003", locations=["1"]))
    assert response.status_code == 302
    assert db.execute("SELECT name FROM hosts WHERE id = ?", [karin]).fetchone() == ("Karin Bryggen",)
    assert memberships.locations_of(db, karin) == [bergen.id]  # a crafted "locations" field changes nothing
    page = get_page(bergen_admin, "/admin/hosts/new")
    bergen_admin.post("/admin/hosts/new", data=host_form(page, name="Nils Ny", phone="412 00 030"))
    new_id = db.execute("SELECT id FROM hosts WHERE name = 'Nils Ny'").fetchone()[0]
    assert memberships.locations_of(db, new_id) == [bergen.id]


def test_a_location_admin_s_bulk_action_leaves_other_locations_hosts_alone(bergen_admin, db, hosts):
    page = get_page(bergen_admin, "/admin/hosts")
    bergen_admin.post("/admin/hosts/selected", data={
        "csrf_token": csrf_token(page), "action": "deactivate",
        "host": [str(hosts["Kari Oslo"]), str(hosts["Karoline Overalt"]), str(hosts["Karin Bergen"])]})
    active = dict(db.execute("SELECT name, active FROM hosts").fetchall())
    assert active == {"Kari Oslo": 1, "Karl Oslo": 1, "Karin Bergen": 0, "Karoline Overalt": 1}
    bergen_admin.post("/admin/hosts/selected", data={"csrf_token": csrf_token(page), "action": "delete",
                                                     "confirm": "1", "all_matching": "1"})
    assert {name for (name,) in db.execute("SELECT name FROM hosts")} == {"Kari Oslo", "Karl Oslo", "Karoline Overalt"}


@pytest.mark.parametrize("path", ["/admin/hosts/import", "/admin/hosts/export"])
def test_imports_and_exports_are_for_installation_admins(bergen_admin, path):
    assert bergen_admin.get(path).status_code == 404



# Whatever the memberships, what a tablet offers


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sets(st.sampled_from([1, 2, 3]), max_size=3), min_size=1, max_size=12), st.booleans(),
       st.integers(min_value=1, max_value=6))
def test_a_tablet_offers_its_own_hosts_first_and_with_hosts_only_no_other(db, placements, hosts_only, limit):
    db.execute("DELETE FROM hosts")
    for i in range(2, 4):
        db.execute("INSERT OR IGNORE INTO locations (id, name, created_at) VALUES (?, ?, '2026')", [i, f"Office {i}"])
    ids = [create_host(db, name=f"Kari Nummer{i}", phone=f"+47412000{i:02d}").id for i in range(len(placements))]
    place_hosts(db, dict(zip(ids, [sorted(places) for places in placements], strict=True)))
    at = {host_id for host_id, places in zip(ids, placements, strict=True) if not places or 2 in places}
    location = replace(locations.get_location(db, 2), hosts_only=hosts_only)
    found = [host["id"] for host in directory.search_hosts(db, "kari", limit=limit, location=location)]
    flags = [host_id in at for host_id in found]
    assert flags == sorted(flags, reverse=True)  # the location's own first
    assert len(found) == min(limit, len(at) if hosts_only else len(ids))
    assert not hosts_only or all(flags)
    assert sum(flags) == min(limit, len(at))  # as many of its own as there are, up to the limit
