"""Issue 12: SCIM bearer tokens (CLI, hashed, revocable, audited) and the /scim/v2 discovery endpoints."""

import hashlib
import re

import pytest
from freezegun import freeze_time

from kiosk.admin import audit
from kiosk.scim import tokens

SCIM_JSON = "application/scim+json"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
TOKEN_LINE = re.compile(r"^[A-Za-z0-9_-]{43}$", re.MULTILINE)


def create_via_cli(runner, name="Entra ID"):
    result = runner.invoke(args=["scim", "token", "create", "--name", name])
    assert result.exit_code == 0, result.output
    [token] = TOKEN_LINE.findall(result.output)
    return token, result.output


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def assert_scim_error(response, status):
    assert response.status_code == status
    assert response.content_type == SCIM_JSON
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json(force=True)
    assert body["schemas"] == [ERROR_SCHEMA]
    assert body["status"] == str(status)
    assert body["detail"]
    return body


@pytest.fixture
def scim_token(runner):
    token, _ = create_via_cli(runner)
    return token


@pytest.fixture
def scim(app):
    return app.test_client()


# Tokens through the CLI


def test_create_prints_the_token_once_and_stores_only_its_hash(runner, db):
    token, output = create_via_cli(runner)
    assert "shown only now" in output
    [row] = db.query("SELECT * FROM scim_tokens")
    assert row["name"] == "Entra ID"
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(row)
    assert row["last_used_at"] is None and row["revoked_at"] is None


def test_each_token_is_new(runner):
    assert create_via_cli(runner)[0] != create_via_cli(runner, "Okta")[0]


def test_create_needs_a_name(runner, db):
    assert runner.invoke(args=["scim", "token", "create"]).exit_code != 0
    result = runner.invoke(args=["scim", "token", "create", "--name", "  "])
    assert result.exit_code != 0
    assert db["scim_tokens"].count == 0


def test_list_shows_tokens_without_the_token(runner, db):
    token, _ = create_via_cli(runner)
    result = runner.invoke(args=["scim", "token", "list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["ID", "Name", "Created", "Last", "used", "Revoked"]
    assert lines[1].startswith("1") and "Entra ID" in lines[1] and "never" in lines[1]
    assert token not in result.output
    assert db["scim_tokens"].get(1)["token_hash"] not in result.output


def test_list_when_there_are_none(runner):
    result = runner.invoke(args=["scim", "token", "list"])
    assert result.exit_code == 0
    assert "no SCIM tokens" in result.output


def test_revoke(runner, db):
    create_via_cli(runner)
    result = runner.invoke(args=["scim", "token", "revoke", "1"])
    assert result.exit_code == 0, result.output
    assert db["scim_tokens"].get(1)["revoked_at"]
    listed = runner.invoke(args=["scim", "token", "list"]).output.splitlines()[1]
    assert listed.count("2") >= 2  # created and revoked dates
    again = runner.invoke(args=["scim", "token", "revoke", "1"])
    assert again.exit_code != 0 and "no live SCIM token 1" in again.output
    assert runner.invoke(args=["scim", "token", "revoke", "99"]).exit_code != 0


def test_create_and_revoke_are_audited_by_id_only(app, runner, db):
    token, _ = create_via_cli(runner, "Entra ID")
    runner.invoke(args=["scim", "token", "revoke", "1"])
    runner.invoke(args=["scim", "token", "revoke", "1"])  # nothing to revoke: nothing recorded
    with app.app_context():
        events = [(e.action, e.target) for e in reversed(audit.latest(db))]
    assert events == [("scim_token_created", "scim_token:1"), ("scim_token_revoked", "scim_token:1")]
    stored = str(list(db.query("SELECT * FROM audit_events")))
    assert "Entra" not in stored and token not in stored


def test_the_token_is_in_no_log(runner, scim, log_records):
    token, _ = create_via_cli(runner)
    scim.get("/scim/v2/ServiceProviderConfig", headers=bearer(token))
    scim.get("/scim/v2/ServiceProviderConfig", headers=bearer(token + "x"))
    assert log_records
    assert not [r for r in log_records if token in r.getMessage()]


# Bearer authentication


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer"},
    {"Authorization": "Bearer not-a-token"},
    {"Authorization": "Basic dXNlcjpwYXNz"},
], ids=["missing", "empty", "wrong", "basic"])
@pytest.mark.parametrize("path", ["/scim/v2/ServiceProviderConfig", "/scim/v2/Users", "/scim/v2/Schemas"])
def test_without_a_valid_token_401(scim, scim_token, headers, path):
    response = scim.get(path, headers=headers)
    assert_scim_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_refused_at_once(runner, scim, scim_token):
    assert scim.get("/scim/v2/ServiceProviderConfig", headers=bearer(scim_token)).status_code == 200
    runner.invoke(args=["scim", "token", "revoke", "1"])
    assert_scim_error(scim.get("/scim/v2/ServiceProviderConfig", headers=bearer(scim_token)), 401)


def test_the_scheme_is_case_insensitive(scim, scim_token):
    assert scim.get("/scim/v2/ServiceProviderConfig", headers={"Authorization": f"bearer {scim_token}"}).status_code \
        == 200


def test_no_csrf_token_is_needed(scim, scim_token):
    # CSRF protection is on in the app; a SCIM POST without a CSRF token reaches the view (not a CSRF 400).
    response = scim.post("/scim/v2/Users", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                                 "userName": "x"}, headers=bearer(scim_token))
    assert response.status_code == 201, response.get_json(force=True)


def test_last_used_is_noted_at_most_once_a_minute(app, scim, db, scim_token):
    with freeze_time("2026-03-02 10:00:00"):
        scim.get("/scim/v2/ServiceProviderConfig", headers=bearer(scim_token))
    assert db["scim_tokens"].get(1)["last_used_at"] == "2026-03-02T10:00:00+00:00"
    with freeze_time("2026-03-02 10:00:50"):
        scim.get("/scim/v2/ServiceProviderConfig", headers=bearer(scim_token))
    assert db["scim_tokens"].get(1)["last_used_at"] == "2026-03-02T10:00:00+00:00"
    with freeze_time("2026-03-02 10:01:01"):
        scim.get("/scim/v2/ServiceProviderConfig", headers=bearer(scim_token))
    assert db["scim_tokens"].get(1)["last_used_at"] == "2026-03-02T10:01:01+00:00"


def test_token_for_bearer(ctx, db):
    token, secret = tokens.create_token(db, "Okta")
    found = tokens.token_for_bearer(db, secret)
    assert found is not None and found.id == token.id and found.name == "Okta"
    assert tokens.token_for_bearer(db, None) is None
    assert tokens.token_for_bearer(db, "") is None
    assert tokens.revoke_token(db, token.id)
    assert tokens.token_for_bearer(db, secret) is None


# Endpoints


def test_service_provider_config(scim, scim_token):
    response = scim.get("/scim/v2/ServiceProviderConfig", headers=bearer(scim_token))
    assert response.status_code == 200
    assert response.content_type == SCIM_JSON
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json(force=True)
    assert body["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]
    assert body["patch"] == {"supported": True}
    assert body["filter"] == {"supported": True, "maxResults": 200}
    assert body["bulk"]["supported"] is False
    assert body["sort"] == {"supported": False}
    assert body["changePassword"] == {"supported": False}
    assert body["etag"] == {"supported": False}
    assert [scheme["type"] for scheme in body["authenticationSchemes"]] == ["oauthbearertoken"]


def test_resource_types(scim, scim_token):
    response = scim.get("/scim/v2/ResourceTypes", headers=bearer(scim_token))
    assert response.status_code == 200 and response.content_type == SCIM_JSON
    body = response.get_json(force=True)
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
    assert body["totalResults"] == len(body["Resources"]) == 1  # no Groups
    user = next(r for r in body["Resources"] if r["id"] == "User")
    assert user["endpoint"] == "/Users"
    assert user["schema"] == "urn:ietf:params:scim:schemas:core:2.0:User"
    assert user["schemaExtensions"] == [
        {"schema": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "required": False}]
    assert scim.get("/scim/v2/ResourceTypes/User", headers=bearer(scim_token)).get_json(force=True) == user
    assert_scim_error(scim.get("/scim/v2/ResourceTypes/Printer", headers=bearer(scim_token)), 404)


def test_schemas(scim, scim_token):
    body = scim.get("/scim/v2/Schemas", headers=bearer(scim_token)).get_json(force=True)
    ids = {schema["id"] for schema in body["Resources"]}
    assert ids == {"urn:ietf:params:scim:schemas:core:2.0:User",
                   "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}
    for schema in body["Resources"]:
        assert schema["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:Schema"]
        for attribute in schema["attributes"]:
            assert {"name", "type", "multiValued", "required", "mutability", "returned"} <= set(attribute)
    user = scim.get("/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", headers=bearer(scim_token))
    assert user.status_code == 200
    names = {a["name"] for a in user.get_json(force=True)["attributes"]}
    assert {"userName", "name", "displayName", "active", "emails", "phoneNumbers", "preferredLanguage"} <= names


@pytest.mark.parametrize("method, path", [
    ("GET", "/scim/v2/Groups"), ("POST", "/scim/v2/Groups"), ("PATCH", "/scim/v2/Groups/1"),
])
def test_groups_are_not_built(scim, scim_token, method, path):
    body = assert_scim_error(scim.open(path, method=method, headers=bearer(scim_token)), 501)
    assert "not built" in body["detail"]


@pytest.mark.parametrize("path", ["/scim/v2/Printers", "/scim/v2", "/scim/v2/Users/1/x"])
def test_an_unknown_path_is_a_scim_404(scim, scim_token, path):
    assert_scim_error(scim.get(path, headers=bearer(scim_token)), 404)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unknown_path_without_a_token_is_a_401(scim, scim_token, method):
    assert_scim_error(scim.open("/scim/v2/Printers", method=method), 401)


def test_a_post_to_an_unknown_path_is_a_scim_404_not_a_csrf_page(scim, scim_token):
    assert_scim_error(scim.post("/scim/v2/Printers", json={}, headers=bearer(scim_token)), 404)


def test_a_wrong_method_is_a_scim_405(scim, scim_token):
    assert_scim_error(scim.delete("/scim/v2/ServiceProviderConfig", headers=bearer(scim_token)), 405)


def test_other_pages_keep_their_error_pages(scim):
    response = scim.get("/admin/no-such-page")
    assert response.status_code in (302, 404)
    assert response.content_type != SCIM_JSON
