"""Issue 12: SCIM Users are hosts (RFC 7643/7644), as Entra ID and Okta provision them."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.hosts import directory
from kiosk.scim import tokens
from tests.helpers import create_host

SCIM_JSON = "application/scim+json"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.fixture
def scim(app, db):
    _, token = tokens.create_token(db, "Entra ID")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def call(method, path, body=None, **kwargs):
        return client.open(f"/scim/v2{path}", method=method, json=body, headers=headers, **kwargs)
    return call


def entra_user(**changes):
    """A user as Entra ID's default attribute mappings send it."""
    return {
        "schemas": [USER, ENTERPRISE],
        "externalId": "0f3c2d1e-entra-object-id",
        "userName": "kari.nordmann@example.no",
        "active": True,
        "displayName": "Kari Nordmann",
        "name": {"givenName": "Kari", "familyName": "Nordmann", "formatted": "Kari Nordmann"},
        "emails": [{"primary": True, "type": "work", "value": "kari.nordmann@example.no"}],
        "phoneNumbers": [{"type": "work", "value": "+47 22 33 44 55"}, {"type": "mobile", "value": "+47 412 34 567"}],
        "preferredLanguage": "nb-NO",
        "title": "Engineer",
        ENTERPRISE: {"department": "Engineering", "manager": {"value": "boss"}},
        **changes,
    }


def create(scim, **changes):
    response = scim("POST", "/Users", entra_user(**changes))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def patch(scim, user_id, *operations):
    response = scim("PATCH", f"/Users/{user_id}", {"schemas": [PATCH], "Operations": list(operations)})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def stored(db, user_id):
    return directory.get_managed_host(db, user_id)


def kiosk_finds(db, text):
    return [host["name"] for host in directory.search_hosts(db, text, limit=10)]


def scim_error(response, status, scim_type=None):
    assert response.status_code == status
    assert response.content_type == SCIM_JSON
    body = response.get_json(force=True)
    assert body["schemas"] == [ERROR] and body["status"] == str(status) and body["detail"]
    assert body.get("scimType") == scim_type
    return body


# Creating: what Entra ID and Okta send becomes a host


def test_an_entra_user_becomes_a_host_the_kiosk_finds(scim, db):
    response = scim("POST", "/Users", entra_user())
    assert response.status_code == 201 and response.content_type == SCIM_JSON
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/scim/v2/Users/{body['id']}")
    host = stored(db, body["id"])
    # The mobile number (not the first, a landline), by the import's rules; nb-NO is bokmål.
    assert (host["name"], host["phone"], host["department"], host["email"], host["language"], host["active"]) == (
        "Kari Nordmann", "+4741234567", "Engineering", "kari.nordmann@example.no", "nb", 1)
    assert kiosk_finds(db, "kari") == ["Kari Nordmann"] and kiosk_finds(db, "engin") == ["Kari Nordmann"]
    # Only what the kiosk keeps comes back: no title, no manager, no landline.
    assert "title" not in body and body[ENTERPRISE] == {"department": "Engineering"}
    assert body["phoneNumbers"] == [{"value": "+4741234567", "type": "mobile", "primary": True}]
    assert body["userName"] == "kari.nordmann@example.no" and body["externalId"] == "0f3c2d1e-entra-object-id"
    assert body["meta"]["resourceType"] == "User"


def test_an_okta_user_is_named_from_its_given_and_family_name(scim, db):
    body = create(scim, displayName=None, name={"givenName": "Ola", "familyName": "Berg-Hansen"},
                  phoneNumbers=[{"value": "412 34 999"}], preferredLanguage="en-US")
    host = stored(db, body["id"])
    assert (host["name"], host["phone"], host["language"]) == ("Ola Berg-Hansen", "+4741234999", "en")
    assert kiosk_finds(db, "berghansen") == ["Ola Berg-Hansen"]


@pytest.mark.parametrize("numbers", [
    None,
    [{"type": "work", "value": "+47 22 33 44 55"}],  # a landline: no SMS
    [{"type": "mobile", "value": "not a number"}],
])
def test_a_user_without_a_usable_mobile_is_accepted_as_an_inactive_host(scim, db, numbers):
    body = create(scim, phoneNumbers=numbers)
    host = stored(db, body["id"])
    assert host["phone"] is None and host["active"] == 0 and host["scim_active"] == 1
    assert "phoneNumbers" not in body and body["active"] is True  # as the provider sent it
    assert kiosk_finds(db, "kari") == []


def test_a_mobile_number_another_synced_host_has_is_not_taken(scim, db):
    create(scim, userName="per@example.no", displayName="Per Persen", externalId="per", emails=None)
    body = create(scim)
    assert stored(db, body["id"])["phone"] is None and stored(db, body["id"])["active"] == 0


def test_a_user_with_active_false_as_a_string_is_created_inactive(scim, db):
    body = create(scim, active="False")
    assert body["active"] is False and stored(db, body["id"])["active"] == 0
    assert kiosk_finds(db, "kari") == []


def test_attribute_names_in_any_case_are_read(scim, db):
    user = entra_user()
    user["DISPLAYNAME"] = user.pop("displayName")
    user["Active"] = user.pop("active")
    user["phonenumbers"] = user.pop("phoneNumbers")
    response = scim("POST", "/Users", user)
    assert response.status_code == 201, response.get_json()
    host = stored(db, response.get_json()["id"])
    assert (host["name"], host["phone"], host["active"]) == ("Kari Nordmann", "+4741234567", 1)


def test_a_spreadsheet_host_with_the_same_email_is_taken_over_not_doubled(scim, db):
    old = create_host(db, name="Kari Nordmann", phone="+4741234567", email="Kari.Nordmann@example.no")
    body = create(scim)
    assert stored(db, body["id"])["id"] == old.id
    assert db["hosts"].count == 1


def test_a_user_name_taken_is_a_uniqueness_error(scim, db):
    create(scim)
    response = scim("POST", "/Users", entra_user(userName="KARI.NORDMANN@example.no", externalId="other",
                                                 phoneNumbers=None, emails=None))
    scim_error(response, 409, "uniqueness")
    assert db["hosts"].count == 1


@pytest.mark.parametrize(("body", "scim_type"), [
    ({"schemas": [USER], "displayName": "No User Name"}, "invalidValue"),
    ({"schemas": [USER], "userName": "x", "displayName": "=HYPERLINK(1)"}, "invalidValue"),
])
def test_a_user_that_cannot_be_a_host_is_refused_with_a_scim_error(scim, db, body, scim_type):
    scim_error(scim("POST", "/Users", body), 400, scim_type)
    assert db["hosts"].count == 0


def test_a_body_that_is_not_json_is_an_invalid_syntax_error(scim, app, db):
    _, token = tokens.create_token(db, "raw")
    response = app.test_client().post("/scim/v2/Users", data=b"{not json", content_type=SCIM_JSON,
                                      headers={"Authorization": f"Bearer {token}"})
    scim_error(response, 400, "invalidSyntax")


# PATCH as Entra ID and Okta send it


def test_patch_replace_active_false_as_a_string_hides_the_host_at_once(scim, db):
    user_id = create(scim)["id"]
    assert kiosk_finds(db, "kari") == ["Kari Nordmann"]
    body = patch(scim, user_id, {"op": "Replace", "path": "active", "value": "False"})
    assert body["active"] is False and kiosk_finds(db, "kari") == []
    patch(scim, user_id, {"op": "replace", "path": "ACTIVE", "value": "True"})
    assert kiosk_finds(db, "kari") == ["Kari Nordmann"]


def test_patch_without_a_path_as_okta_deactivates(scim, db):
    user_id = create(scim)["id"]
    patch(scim, user_id, {"op": "replace", "value": {"active": False}})
    assert stored(db, user_id)["active"] == 0


def test_patch_a_value_path_changes_the_mobile_number(scim, db):
    user_id = create(scim)["id"]
    body = patch(scim, user_id, {"op": "Replace", "path": 'phoneNumbers[type eq "mobile"].value',
                                 "value": "+47 912 34 567"})
    assert body["phoneNumbers"][0]["value"] == "+4791234567" and stored(db, user_id)["phone"] == "+4791234567"


def test_patch_add_a_mobile_to_a_user_without_one_makes_the_host_active(scim, db):
    user_id = create(scim, phoneNumbers=None)["id"]
    assert stored(db, user_id)["active"] == 0
    patch(scim, user_id, {"op": "Add", "path": 'phoneNumbers[type eq "mobile"].value', "value": "41234567"})
    assert (stored(db, user_id)["phone"], stored(db, user_id)["active"]) == ("+4741234567", 1)
    assert kiosk_finds(db, "kari") == ["Kari Nordmann"]


def test_patch_the_enterprise_department_and_the_name(scim, db):
    user_id = create(scim)["id"]
    patch(scim, user_id,
          {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Sales"},
          {"op": "Replace", "path": "displayName", "value": "Kari Nordmann-Berg"},
          {"op": "Add", "path": "title", "value": "Boss"},  # not kept: read past
          {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": "boss-id"})
    host = stored(db, user_id)
    assert (host["name"], host["department"]) == ("Kari Nordmann-Berg", "Sales")
    assert kiosk_finds(db, "sales") == ["Kari Nordmann-Berg"] and kiosk_finds(db, "engineering") == []


def test_patch_remove_the_mobile_number_deactivates_the_host(scim, db):
    user_id = create(scim)["id"]
    patch(scim, user_id, {"op": "Remove", "path": 'phoneNumbers[type eq "mobile"]'})
    assert (stored(db, user_id)["phone"], stored(db, user_id)["active"]) == (None, 0)


def test_patch_preferred_language_sets_the_hosts_sms_language(scim, db):
    user_id = create(scim)["id"]
    patch(scim, user_id, {"op": "replace", "path": "preferredLanguage", "value": "sv-SE"})
    assert stored(db, user_id)["language"] == "sv"


def test_a_patch_that_cannot_be_read_is_a_scim_error_and_changes_nothing(scim, db):
    user_id = create(scim)["id"]
    response = scim("PATCH", f"/Users/{user_id}", {"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": "displayName", "value": "Ann"}, {"op": "explode", "path": "active"}]})
    assert response.status_code == 400 and response.get_json()["schemas"] == [ERROR]
    assert stored(db, user_id)["name"] == "Kari Nordmann"


# PUT, GET, DELETE


def test_put_replaces_the_user(scim, db):
    user_id = create(scim)["id"]
    replacement = entra_user(displayName="Kari Berg", phoneNumbers=[{"type": "mobile", "value": "+46 70 123 45 67"}])
    del replacement[ENTERPRISE]
    response = scim("PUT", f"/Users/{user_id}", replacement)
    assert response.status_code == 200, response.get_json()
    host = stored(db, user_id)
    assert (host["name"], host["phone"], host["department"]) == ("Kari Berg", "+46701234567", None)


def test_unknown_users_are_scim_404s(scim):
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        body = entra_user() if method == "PUT" else {"schemas": [PATCH], "Operations": []}
        scim_error(scim(method, "/Users/no-such-user", body if method in ("PUT", "PATCH") else None), 404)


def test_r33_delete_removes_the_host_and_every_byte_of_its_name_and_number(scim, app, db):
    user_id = create(scim, displayName="Kari Kanarifugl", phoneNumbers=[{"type": "mobile", "value": "+4798765432"}],
                     userName="kanarifugl@example.no", emails=None, externalId="kanarifugl-object-id",
                     name={"givenName": "Kari", "familyName": "Kanarifugl"})["id"]
    for i in range(30):  # neighbours in the same pages and index segments
        create_host(db, name=f"Ola Nordmann {i}", phone=f"+47412{i:05d}")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    assert scim("DELETE", f"/Users/{user_id}").status_code == 204
    scim_error(scim("GET", f"/Users/{user_id}"), 404)
    scim_error(scim("DELETE", f"/Users/{user_id}"), 404)
    files = [Path(app.config["DATABASE"]), Path(app.config["DATABASE"] + "-wal")]
    found = [(path.name, canary) for path in files if path.exists()
             for canary in (b"Kanarifugl", b"kanarifugl", b"98765432") if canary in path.read_bytes()]
    assert found == []


def test_changes_are_audited_by_token_and_host_id_only(scim, db):
    user_id = create(scim, displayName="Kari Kanarifugl")["id"]
    patch(scim, user_id, {"op": "replace", "path": "active", "value": False})
    scim("DELETE", f"/Users/{user_id}")
    events = list(db.query("SELECT action, admin_id, target FROM audit_events WHERE action LIKE 'scim_user%'"))
    assert [event["action"] for event in events] == ["scim_user_created", "scim_user_patched", "scim_user_deleted"]
    for event in events:
        assert event["admin_id"] is None and event["target"].startswith("scim_token:")
        assert "anarifugl" not in event["target"] and "example" not in event["target"]


# Listing: filters, pages, attributes


@pytest.fixture
def three_users(scim):
    return [create(scim, userName=f"user{i}@example.no", externalId=f"Ext-{i}", displayName=f"User {i}",
                   emails=[{"type": "work", "value": f"User{i}@Example.no"}],
                   phoneNumbers=[{"type": "mobile", "value": f"+47412345{i:02d}"}])["id"] for i in range(3)]


def listing(scim, query):
    response = scim("GET", f"/Users?{query}")
    assert response.status_code == 200 and response.content_type == SCIM_JSON, response.get_json()
    body = response.get_json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
    return body


@pytest.mark.parametrize(("query", "expected"), [
    ('filter=userName eq "USER1@example.no"', ["user1@example.no"]),  # userName ignores case
    ('filter=externalId eq "Ext-2"', ["user2@example.no"]),
    ('filter=externalId eq "ext-2"', []),  # externalId is case-exact
    ('filter=emails.value eq "user0@example.no"', ["user0@example.no"]),
    ('filter=emails[type eq "work" and value eq "user0@example.no"]', ["user0@example.no"]),
    ('filter=displayName sw "User" and not (userName eq "user1@example.no")', ["user0@example.no", "user2@example.no"]),
    ('filter=userName eq "nobody@example.no"', []),
    ('filter=displayName co "SER 1"', ["user1@example.no"]),  # any case
    ('filter=name.givenName pr', ["user0@example.no", "user1@example.no", "user2@example.no"]),
    ('filter=displayName ew "2" or externalId sw "Ext-0"', ["user0@example.no", "user2@example.no"]),
    ('filter=phoneNumbers[type eq "mobile" and value eq "%2B4741234501"]', ["user1@example.no"]),
    ('filter=emails[type eq "home"]', []),  # the one address kept is answered as work
    ('filter=active eq true and not (displayName gt "User 0")', ["user0@example.no"]),
    ('filter=title eq "Boss"', []),  # an attribute the kiosk does not keep matches nothing
    ('filter=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "engineering"',
     ["user0@example.no", "user1@example.no", "user2@example.no"]),
    ("", ["user0@example.no", "user1@example.no", "user2@example.no"]),
])
def test_filters(scim, three_users, query, expected):
    body = listing(scim, query)
    assert sorted(user["userName"] for user in body["Resources"]) == expected
    assert body["totalResults"] == len(expected)


def test_filters_fold_case_beyond_ascii(scim):
    create(scim, displayName="Åse Ødegård", userName="ase@example.no", emails=None, externalId="ase",
           phoneNumbers=None)
    assert listing(scim, 'filter=displayName sw "ÅSE ØDE"')["totalResults"] == 1


def test_pages(scim, three_users):
    body = listing(scim, "startIndex=2&count=1")
    assert (body["totalResults"], body["startIndex"], body["itemsPerPage"]) == (3, 2, 1)
    assert [user["userName"] for user in body["Resources"]] == ["user1@example.no"]
    assert listing(scim, "count=0")["Resources"] == [] and listing(scim, "count=0")["totalResults"] == 3
    assert listing(scim, "startIndex=0")["startIndex"] == 1  # below 1 counts as 1 (RFC 7644 §3.4.2.4)
    past = listing(scim, "startIndex=9")
    assert (past["totalResults"], past["Resources"]) == (3, [])
    scim_error(scim("GET", "/Users?count=many"), 400, "invalidValue")


def test_hosts_not_managed_by_the_sync_are_not_listed(scim, db, three_users):
    create_host(db, name="Spreadsheet Host", phone="+4741299999")
    assert listing(scim, "")["totalResults"] == 3


def test_attributes_and_excluded_attributes(scim, three_users):
    [user] = listing(scim, 'filter=externalId eq "Ext-1"&attributes=userName')["Resources"]
    assert set(user) == {"schemas", "id", "userName"}
    [user] = listing(scim, 'filter=externalId eq "Ext-1"&excludedAttributes=emails,phoneNumbers')["Resources"]
    assert "emails" not in user and "phoneNumbers" not in user and user["displayName"] == "User 1"
    one = scim("GET", f"/Users/{three_users[0]}?attributes=displayName").get_json()
    assert set(one) == {"schemas", "id", "displayName"}


def test_search_by_post(scim, three_users):
    response = scim("POST", "/Users/.search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                                               "filter": 'userName eq "user2@example.no"',
                                               "attributes": ["userName"]})
    assert response.status_code == 200
    assert response.get_json()["Resources"][0] == {"schemas": [USER], "id": three_users[2],
                                                   "userName": "user2@example.no"}


@pytest.mark.parametrize("bad", ['userName eq', 'userName zz "x"', '"x"', 'emails[type eq "work"'])
def test_a_filter_that_cannot_be_read_is_an_invalid_filter_error(scim, three_users, bad):
    scim_error(scim("GET", f"/Users?filter={bad}"), 400, "invalidFilter")


def test_the_upgrade_to_synced_hosts_keeps_every_host_visit_and_search_word(tmp_path):
    """m009 rebuilds the hosts table (the phone becomes optional): a database of the release before it loses
    nothing, and the search index and its triggers still follow every change."""
    from kiosk.db import connect, init_db, migrations

    path = str(tmp_path / "old.db")
    old = connect(path)
    migrations.apply(old, stop_before="m009_scim_users")
    old["hosts"].insert_all({"name": f"Ola Nordmann {i}", "phone": f"+47412{i:05d}", "department": "Sales",
                             "search": directory.search_key(f"Ola Nordmann {i}", "Sales"), "created_at": "then",
                             "updated_at": "then"} for i in range(20))
    old["visits"].insert({"id": "v1", "host_id": 3, "kiosk_id": "k", "created_at": "x", "expires_at": "y"})
    before = list(old.query("SELECT * FROM hosts ORDER BY id"))
    old.close()

    init_db(path)
    db = connect(path)
    after = list(db.query("SELECT id, name, phone, department, email, language, search, created_at, updated_at, "
                          "active FROM hosts ORDER BY id"))
    assert after == before
    assert db["visits"].get("v1")["host_id"] == 3
    assert [host["name"] for host in directory.search_hosts(db, "ola nordmann 7", limit=5)] == ["Ola Nordmann 7"]
    directory.update_host(db, 8, {"name": "Kari Berg", "phone": "+4741200007"})
    assert [host["name"] for host in directory.search_hosts(db, "kari", limit=5)] == ["Kari Berg"]
    assert directory.search_hosts(db, "ola nordmann 7", limit=5) == []


# R38: no input yields a 500


def _scim_values():
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30),
                        st.sampled_from(["False", "TRUE", "+47 412 34 567", "mobile", "work", "=1+1", "nb-NO"]))
    return st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["value", "type", "primary", "givenName", "familyName", "department",
                                         "display", "op", "path", "x"]), inner, max_size=4)), max_leaves=12)


USER_KEYS = st.sampled_from(["schemas", "userName", "USERNAME", "displayName", "name", "active", "emails",
                             "phoneNumbers", "preferredLanguage", "externalId", "id", "meta", "title", ENTERPRISE])
PATHS = st.sampled_from(["active", "displayName", 'phoneNumbers[type eq "mobile"].value', "emails", "name.givenName",
                         f"{ENTERPRISE}:department", "phoneNumbers[", "userName", "", "x.y.z", "meta.created"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(user=st.dictionaries(USER_KEYS, _scim_values(), max_size=4),
       operations=st.lists(st.fixed_dictionaries({"op": st.sampled_from(["add", "Replace", "REMOVE", "move", 1]),
                                                  "path": PATHS, "value": _scim_values()}), max_size=3),
       user_name=st.text(min_size=1, max_size=20), query=st.text(max_size=40))
def test_r38_no_user_patch_or_filter_yields_a_500(scim, user, operations, user_name, query):
    created = scim("POST", "/Users", {"schemas": [USER, ENTERPRISE], "userName": user_name, **user})
    assert created.status_code in (201, 400, 409), created.get_json()
    assert created.get_json()["schemas"]
    if created.status_code == 201:
        user_id = created.get_json()["id"]
        patched = scim("PATCH", f"/Users/{user_id}", {"schemas": [PATCH], "Operations": operations})
        assert patched.status_code in (200, 400, 409), patched.get_json()
        assert scim("DELETE", f"/Users/{user_id}").status_code == 204
    for params in ({"filter": query}, {"attributes": query}, {"startIndex": query}):
        listed = scim("GET", "/Users", query_string=params)
        assert listed.status_code in (200, 400), (params, listed.get_json())
