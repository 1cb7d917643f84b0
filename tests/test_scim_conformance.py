"""Issue 12: scim2-tester (the conformance checks of the scim2 project) against the SCIM API under gunicorn with two
workers, over real HTTP with a bearer token. README.md ("Directory sync") lists what it checks."""

import httpx2
import pytest
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from kiosk import create_app
from kiosk.db import get_db
from kiosk.scim import tokens
from tests.deployment import Gunicorn, gunicorn_env, make_instance

# The kiosk keeps less than a User can hold, by design (R33), so three attributes do not come back as sent when
# scim2-tester writes random values into them: preferredLanguage is kept only as a language an SMS can be written in,
# one e-mail address is kept (answered as type work, primary), and one mobile number, only when it is a valid mobile
# number (scim2-tester's are ten random digits). Of the addresses and the enterprise division only a location's name
# is kept (issue 16), as the work address's locality; random ones name no location, so they do not come back at all.
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
BY_DESIGN = {
    (check, f"PATCH modify() returned unexpected value for '{attribute}'.")
    for check in ("check_add_attribute", "check_replace_attribute")
    for attribute in ("preferredLanguage", "emails", "phoneNumbers", "addresses", ENTERPRISE, f"{ENTERPRISE}:division")
}


@pytest.fixture
def scim_server(tmp_path, twilio_server):
    instance = make_instance(tmp_path / "instance")
    app = create_app({"SECRET_KEY": "x", "SMS_BACKEND": "fake", "DATABASE": str(instance.folder / "kiosk.db")})
    with app.app_context():
        _, token = tokens.create_token(get_db(), "scim2-tester")
    server = Gunicorn(gunicorn_env(instance, twilio_server.url), tmp_path / "gunicorn.log")
    yield server, token
    server.stop()


def test_scim2_tester_passes_every_check_but_the_attributes_the_kiosk_does_not_keep(scim_server):
    server, token = scim_server
    client = SyncSCIMClient(httpx2.Client(base_url=f"{server.url}/scim/v2",
                                          headers={"Authorization": f"Bearer {token}"}))
    results = check_server(client)
    failed = {(result.title, result.reason.splitlines()[0]) for result in results if result.status != Status.SUCCESS}
    # Random values may happen to come back as sent (a work e-mail marked primary), so a subset, not equality.
    assert failed <= BY_DESIGN, failed - BY_DESIGN
    passed = {result.title for result in results if result.status == Status.SUCCESS}
    assert {"service_provider_config_endpoint", "query_all_resource_types", "query_all_schemas", "object_creation",
            "object_query", "object_query_without_id", "object_query_with_attributes", "object_list_with_attributes",
            "search_with_attributes", "object_replacement", "object_deletion", "check_add_attribute",
            "check_remove_attribute", "check_replace_attribute", "random_url"} <= passed
    assert len(results) > 40
