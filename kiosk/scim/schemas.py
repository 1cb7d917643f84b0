"""The static discovery documents of RFC 7643 §5–7: what this SCIM service supports, its resource types, schemas.

Only what the host directory keeps is described (kiosk/scim/users.py reads and writes it). Groups are not served:
they are not announced here, and /Groups answers 501.
"""

from typing import Any

PREFIX = "/scim/v2"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
CONFIG_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_USER_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
MAX_RESULTS = 200


def service_provider_config() -> dict[str, Any]:
    return {
        "schemas": [CONFIG_SCHEMA],
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "A bearer token made with `flask --app app scim token create --name NAME`.",
            "primary": True,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": f"{PREFIX}/ServiceProviderConfig"},
    }


def _resource_type(name: str, endpoint: str, schema: str, extensions: list[str]) -> dict[str, Any]:
    return {
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": name,
        "name": name,
        "endpoint": endpoint,
        "description": "A host of the kiosk's directory",
        "schema": schema,
        "schemaExtensions": [{"schema": extension, "required": False} for extension in extensions],
        "meta": {"resourceType": "ResourceType", "location": f"{PREFIX}/ResourceTypes/{name}"},
    }


RESOURCE_TYPES = {
    "User": _resource_type("User", "/Users", USER_SCHEMA, [ENTERPRISE_USER_SCHEMA]),
}


def _attribute(name: str, kind: str = "string", *, required: bool = False, multi: bool = False,
               mutability: str = "readWrite", returned: str = "default", uniqueness: str = "none",
               case_exact: bool = False, sub: list[dict[str, Any]] | None = None,
               canonical: list[str] | None = None, description: str = "") -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "name": name, "type": kind, "multiValued": multi, "description": description, "required": required,
        "mutability": mutability, "returned": returned,
    }
    if kind in ("string", "reference"):
        attribute |= {"caseExact": case_exact, "uniqueness": uniqueness}
    if sub is not None:
        attribute["subAttributes"] = sub
    if canonical is not None:
        attribute["canonicalValues"] = canonical
    return attribute


def _multi_valued(name: str, description: str, types: list[str]) -> dict[str, Any]:
    return _attribute(name, "complex", multi=True, description=description, sub=[
        _attribute("value", description=f"The {description.lower()}."),
        _attribute("type", canonical=types, description="A label for its function."),
        _attribute("primary", "boolean", description="The primary value."),
    ])


def _schema(schema_id: str, name: str, description: str, attributes: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schemas": [SCHEMA_SCHEMA],
        "id": schema_id,
        "name": name,
        "description": description,
        "attributes": attributes,
        "meta": {"resourceType": "Schema", "location": f"{PREFIX}/Schemas/{schema_id}"},
    }


SCHEMAS = {
    USER_SCHEMA: _schema(USER_SCHEMA, "User", "User Account (a host of the directory)", [
        _attribute("userName", required=True, uniqueness="server", description="Unique identifier for the User."),
        _attribute("name", "complex", description="The components of the user's name.", sub=[
            _attribute("formatted", description="The full name."),
            _attribute("familyName", description="The family name."),
            _attribute("givenName", description="The given name."),
        ]),
        _attribute("displayName", description="The name shown on the kiosk."),
        _attribute("preferredLanguage", description="The language of the host's SMS."),
        _attribute("active", "boolean", description="Whether the host is shown on the kiosk."),
        _multi_valued("emails", "E-mail addresses", ["work", "home", "other"]),
        _multi_valued("phoneNumbers", "Phone numbers", ["work", "mobile", "home", "other"]),
        _attribute("addresses", "complex", multi=True, description="Addresses: the work address's locality names "
                   "the host's location (an office of the installation).", sub=[
            _attribute("locality", description="The city: a location's name places the host there."),
            _attribute("type", canonical=["work", "home", "other"], description="A label for its function."),
        ]),
    ]),
    ENTERPRISE_USER_SCHEMA: _schema(ENTERPRISE_USER_SCHEMA, "EnterpriseUser", "Enterprise User", [
        _attribute("department", description="The host's department, shown and searched on the kiosk."),
        _attribute("division", description="A location's name places the host there, when the work address "
                   "names none."),
    ]),
}


def list_response(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"schemas": [LIST_RESPONSE], "totalResults": len(resources), "startIndex": 1,
            "itemsPerPage": len(resources), "Resources": resources}
