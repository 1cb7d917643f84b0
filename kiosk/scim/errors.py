"""SCIM error bodies (RFC 7644 §3.12): every answer under /scim/v2, a refusal or a 404 included, is SCIM JSON."""

import json

from flask import Response

PREFIX = "/scim/v2"
CONTENT_TYPE = "application/scim+json"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


def scim_response(body: object, status: int = 200) -> Response:
    """`body` as application/scim+json, never cached."""
    response = Response(json.dumps(body), status=status, content_type=CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response

def scim_error(status: int, detail: str, scim_type: str | None = None) -> Response:
    body: dict[str, object] = {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return scim_response(body, status)
