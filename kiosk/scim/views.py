"""The SCIM 2.0 API at /scim/v2 (RFC 7644): discovery documents now; Users is the next slice, Groups answers 501.

Every request needs `Authorization: Bearer <token>` of an unrevoked SCIM token (kiosk/scim/tokens.py). The blueprint
is CSRF-exempt (an identity provider sends no CSRF token; the bearer token is the check); every answer, an error
included, is application/scim+json and no-store.
"""

import logging

from flask import Blueprint, Flask, Response, request

from kiosk import errors
from kiosk.db import get_db
from kiosk.scim import schemas, tokens
from kiosk.scim.errors import PREFIX, scim_error, scim_response

bp = Blueprint("scim", __name__)

logger = logging.getLogger("kiosk.scim")

BEARER = "bearer "


def init_app(app: Flask) -> None:
    """Register the blueprint at /scim/v2 and answer its errors (a path no route has, too) as SCIM errors."""
    app.register_blueprint(bp, url_prefix=PREFIX)
    errors.register_api_errors(app, PREFIX, scim_error)
    app.before_request(_unrouted_needs_token_too)


def _unrouted_needs_token_too() -> Response | None:
    """A path under /scim/v2 that no route has belongs to no blueprint, so the check below would not run for it:
    without a token it is a 401 too, so a caller without a token learns nothing about the API's paths."""
    if request.routing_exception is not None and (request.path == PREFIX or request.path.startswith(f"{PREFIX}/")):
        return require_token()
    return None


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:len(BEARER)].lower() != BEARER:
        return None
    return header[len(BEARER):].strip() or None


@bp.before_request
def require_token() -> Response | None:
    token = tokens.token_for_bearer(get_db(), _bearer_token())
    if token is None:
        # Path and address only: never the header, which may hold a real token with a typo.
        logger.warning("SCIM request %s %s refused from %s: missing, unknown or revoked bearer token",
                       request.method, request.path, request.remote_addr)
        response = scim_error(401, "A valid bearer token is required.")
        response.headers["WWW-Authenticate"] = 'Bearer realm="scim"'
        return response
    return None


@bp.after_request
def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/ServiceProviderConfig")
def service_provider_config() -> Response:
    return scim_response(schemas.service_provider_config())


@bp.get("/ResourceTypes")
def resource_types() -> Response:
    return scim_response(schemas.list_response(list(schemas.RESOURCE_TYPES.values())))


@bp.get("/ResourceTypes/<name>")
def resource_type(name: str) -> Response:
    found = schemas.RESOURCE_TYPES.get(name)
    return scim_response(found) if found else scim_error(404, f"No resource type {name}.")


@bp.get("/Schemas")
def schema_list() -> Response:
    return scim_response(schemas.list_response(list(schemas.SCHEMAS.values())))


@bp.get("/Schemas/<schema_id>")
def schema(schema_id: str) -> Response:
    found = schemas.SCHEMAS.get(schema_id)
    return scim_response(found) if found else scim_error(404, f"No schema {schema_id}.")


@bp.route("/Users", methods=["GET", "POST"])
@bp.route("/Users/<user_id>", methods=["GET", "PUT", "PATCH", "DELETE"])
def users(user_id: str | None = None) -> Response:
    return scim_error(501, "Users are not built yet.")


@bp.route("/Groups", methods=["GET", "POST"])
@bp.route("/Groups/<group_id>", methods=["GET", "PUT", "PATCH", "DELETE"])
def groups(group_id: str | None = None) -> Response:
    return scim_error(501, "Groups are not built yet.")
