"""Where a host's locations come from besides the admin form (issue 16): a spreadsheet's location (kontor) column,
the directory sync's work address or enterprise division, and the operator's commands (pair a tablet at a location,
make a location admin)."""

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.admin import accounts
from kiosk.hosts import directory, memberships
from kiosk.locations import locations
from kiosk.scim import tokens
from kiosk.spreadsheet import read_table
from kiosk.text import TextError
from tests.helpers import create_host, place_hosts

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.fixture
def places(db):
    """Oslo (location 1, renamed), Bergen and "Oslo, Aker Brygge" (a name with a comma)."""
    locations.save_location(db, 1, {"name": "Oslo"})
    bergen = locations.save_location(db, None, {"name": "Bergen"})
    brygge = locations.save_location(db, None, {"name": "Oslo, Aker Brygge"})
    return {"Oslo": 1, "Bergen": bergen, "Oslo, Aker Brygge": brygge}


def parsed(db, *lines, header="navn,mobil,kontor"):
    table = read_table("\n".join([header, *lines]).encode(), "hosts.csv")
    return directory.parse_hosts(table, region="NO", places=memberships.ids_by_name(db))


# A spreadsheet's location column


@pytest.mark.parametrize("cell, expected", [
    ("Bergen", ["Bergen"]), ("bergen", ["Bergen"]), ("Oslo; Bergen", ["Oslo", "Bergen"]),
    ("Oslo, Bergen", ["Oslo", "Bergen"]), ("Oslo, Aker Brygge", ["Oslo, Aker Brygge"]), ("", []), ("alle", []),
    ("All", []),
])
def test_the_location_column_names_one_location_several_or_all(db, places, cell, expected):
    result = parsed(db, f'Kari Nordmann,41234567,"{cell}"')
    assert result.errors == []
    assert result.hosts[0]["locations"] == sorted(places[name] for name in expected)


def test_an_unknown_location_is_a_line_error_that_names_it(db, places):
    result = parsed(db, "Kari Nordmann,41234567,Trondheim", "Ola Hansen,41234568,Bergen")
    assert [(problem.line, problem.message) for problem in result.errors] == [(2, "there is no location called "
                                                                                  "Trondheim")]
    assert [host["name"] for host in result.hosts] == ["Ola Hansen"]


def test_an_import_places_new_hosts_and_moves_existing_ones(db, places):
    kari = create_host(db, name="Kari Nordmann", phone="+4741234567").id
    plan = directory.plan_hosts(db, parsed(db, "Kari Nordmann,41234567,Bergen", "Ola Hansen,41234568,Oslo").hosts)
    assert [change.field for change in plan.updated[0].changes] == ["locations"]
    assert (plan.updated[0].changes[0].old, plan.updated[0].changes[0].new) == (None, "Bergen")
    directory.save_hosts(db, parsed(db, "Kari Nordmann,41234567,Bergen", "Ola Hansen,41234568,Oslo").hosts)
    ola = db.execute("SELECT id FROM hosts WHERE name = 'Ola Hansen'").fetchone()[0]
    assert memberships.locations_of(db, kari) == [places["Bergen"]]
    assert memberships.locations_of(db, ola) == [places["Oslo"]]
    assert directory.plan_hosts(db, parsed(db, "Kari Nordmann,41234567,Bergen").hosts).unchanged == 1


def test_a_file_without_a_location_column_keeps_everyone_s_locations(db, places):
    kari = create_host(db, name="Kari Nordmann", phone="+4741234567").id
    place_hosts(db, {kari: [places["Bergen"]]})
    directory.save_hosts(db, parsed(db, "Kari Nordmann,41234567", header="navn,mobil").hosts)
    assert memberships.locations_of(db, kari) == [places["Bergen"]]


def test_the_export_names_each_host_s_locations_and_imports_again(db, places):
    kari = create_host(db, name="Kari Nordmann", phone="+4741234567").id
    create_host(db, name="Ola Hansen", phone="+4741234568")
    place_hosts(db, {kari: [places["Bergen"], places["Oslo, Aker Brygge"]]})
    stream = io.StringIO()
    directory.export_hosts(db, stream)
    exported = stream.getvalue()
    assert exported.splitlines()[0].endswith(",location")
    assert '"Bergen; Oslo, Aker Brygge"' in exported
    result = directory.parse_hosts(read_table(exported.encode(), "hosts.csv"), region="NO",
                                   places=memberships.ids_by_name(db))
    assert result.errors == []
    assert directory.plan_hosts(db, result.hosts).unchanged == 2


def test_with_one_location_the_export_has_no_location_column(db):
    create_host(db)
    stream = io.StringIO()
    directory.export_hosts(db, stream)
    assert stream.getvalue().lstrip("\ufeff").splitlines()[0] == "name,phone,department,email,language"


# The directory sync


@pytest.fixture
def scim(app, db):
    _, token = tokens.create_token(db, "Entra ID")
    client = app.test_client()

    def call(method, path, body=None):
        return client.open(f"/scim/v2{path}", method=method, json=body, headers={"Authorization": f"Bearer {token}"})
    return call


def user(**changes):
    return {"schemas": [USER, ENTERPRISE], "userName": "kari@example.no", "displayName": "Kari Nordmann",
            "phoneNumbers": [{"type": "mobile", "value": "+47 412 34 567"}], **changes}


def synced_locations(db, body):
    return memberships.locations_of(db, directory.get_managed_host(db, body["id"])["id"])


def test_the_work_address_s_city_places_a_synced_host(scim, db, places):
    response = scim("POST", "/Users", user(addresses=[{"type": "home", "locality": "Oslo"},
                                                      {"type": "work", "locality": "bergen"}]))
    assert response.status_code == 201
    body = response.get_json()
    assert synced_locations(db, body) == [places["Bergen"]]
    assert body["addresses"] == [{"locality": "Bergen", "type": "work"}]


def test_the_enterprise_division_places_a_host_without_a_work_city(scim, db, places):
    body = scim("POST", "/Users", user(**{ENTERPRISE: {"division": "Oslo"}})).get_json()
    assert synced_locations(db, body) == [places["Oslo"]]


def test_a_city_that_names_no_location_leaves_the_host_at_every_location(scim, db, places):
    body = scim("POST", "/Users", user(addresses=[{"type": "work", "locality": "Trondheim"}])).get_json()
    assert synced_locations(db, body) == []
    assert "addresses" not in body  # the street address, or a city that is no location, is never kept


def test_a_patch_of_the_work_city_moves_the_host_and_other_patches_keep_it(scim, db, places):
    body = scim("POST", "/Users", user(addresses=[{"type": "work", "locality": "Bergen"}])).get_json()
    scim("PATCH", f"/Users/{body['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "displayName", "value": "Kari N. Nordmann"}]})
    assert synced_locations(db, body) == [places["Bergen"]]
    scim("PATCH", f"/Users/{body['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": 'addresses[type eq "work"].locality', "value": "Oslo"}]})
    assert synced_locations(db, body) == [places["Oslo"]]


# Commands


def test_pairing_a_tablet_at_a_location(runner, db, places):
    result = runner.invoke(args=["kiosk", "pair", "--name", "Bryggen", "--location", "bergen"])
    assert result.exit_code == 0, result.output
    assert db.execute("SELECT location_id FROM pairing_codes WHERE name = 'Bryggen'").fetchone() == (places["Bergen"],)


def test_with_several_locations_pairing_asks_where(runner, db, places):
    result = runner.invoke(args=["kiosk", "pair", "--name", "Bryggen"])
    assert result.exit_code == 1
    assert "--location" in result.output and "Bergen" in result.output
    assert db.execute("SELECT count(*) FROM pairing_codes").fetchone() == (0,)


def test_an_unknown_location_is_named_in_plain_words(runner, db, places):
    result = runner.invoke(args=["kiosk", "pair", "--name", "Bryggen", "--location", "Trondheim"])
    assert result.exit_code == 1
    assert "There is no location called Trondheim. The locations are: Bergen, Oslo, Oslo, Aker Brygge." in result.output


def test_making_a_location_admin(runner, db, ctx, places):
    result = runner.invoke(args=["admin", "create", "berit", "--password-stdin", "--location", "Bergen"],
                           input="a long enough password\n")
    assert result.exit_code == 0, result.output
    assert "admin of Bergen only" in result.output
    assert accounts.authenticate(db, "berit", "a long enough password").location_id == places["Bergen"]


def test_an_admin_moves_to_a_location_and_back_to_the_whole_installation(runner, db, ctx, places):
    accounts.create_admin(db, "ana", "a long enough password")
    result = runner.invoke(args=["admin", "set-location", "ana", "--location", "Bergen"])
    assert result.exit_code == 0 and "ana is now an admin of Bergen only." in result.output
    assert accounts.authenticate(db, "ana", "a long enough password").location_id == places["Bergen"]
    assert runner.invoke(args=["admin", "set-location", "ana"]).exit_code == 0
    assert accounts.authenticate(db, "ana", "a long enough password").location_id is None
    assert "There is no admin called bob" in runner.invoke(args=["admin", "set-location", "bob"]).output


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_r38_any_location_cell_is_locations_or_a_plain_error(text):
    places = {"oslo": 1, "bergen": 2, "oslo, aker brygge": 3}
    try:
        found = memberships.from_cell(text, places)
    except TextError as e:
        assert str(e).startswith("there is no location called ")
    else:
        assert set(found) <= {1, 2, 3} and found == sorted(set(found))
