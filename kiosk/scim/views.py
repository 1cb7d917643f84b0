"""The SCIM 2.0 API at /scim/v2 (RFC 7644): discovery documents and Users (kiosk/scim/users.py); Groups answers 501.

Every request needs `Authorization: Bearer <token>` of an unrevoked SCIM token (kiosk/scim/tokens.py). The blueprint
is CSRF-exempt (an identity provider sends no CSRF token; the bearer token is the check); every answer, an error
included, is application/scim+json and no-store.
"""

import logging
from collections.abc import Mapping

from flask import Blueprint, Flask, Response, current_app, g, request
from scim2_models import InvalidSyntaxException, InvalidValueException, SCIMException

from kiosk import errors
from kiosk.admin import audit
from kiosk.db import get_db
from kiosk.hosts import directory
from kiosk.scim import schemas, tokens, users
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
    g.scim_token = token
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


@bp.errorhandler(SCIMException)
def refused(error: SCIMException) -> Response:
    return scim_error(error.status, error.detail, error.scim_type or None)


def _region() -> str:
    return str(current_app.config["DEFAULT_REGION"])


def _body() -> object:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise InvalidSyntaxException(detail="The request body must be a JSON object.")
    return body


def _user_response(user: users.UserResource, status: int = 200) -> Response:
    parameters = users.response_parameters(request.args.get("attributes"), request.args.get("excludedAttributes"))
    response = scim_response(users.dump(user, parameters), status)
    response.headers["Location"] = request.host_url.rstrip("/") + str(user.meta.location if user.meta else "")
    return response


def _count(query: Mapping[str, str], name: str, default: int) -> int:
    text = query.get(name, "")
    try:
        return int(text) if text else default
    except ValueError:
        raise InvalidValueException(detail=f"{name} must be a whole number.") from None


@bp.get("/Users")
def list_users() -> Response:
    return _list(request.args)


@bp.post("/Users/.search")
@bp.post("/.search")
def search_users() -> Response:
    """The same query as GET /Users, its parameters in a SearchRequest body (RFC 7644 §3.4.3); at the root too,
    since users are the only resources."""
    body = _body()
    assert isinstance(body, dict)
    return _list({key: str(value) if not isinstance(value, list) else ",".join(map(str, value))
                  for key, value in body.items() if key != "schemas" and value is not None})


def _list(query: Mapping[str, str]) -> Response:
    parameters = users.response_parameters(query.get("attributes"), query.get("excludedAttributes"))
    page = users.list_users(get_db(), query.get("filter"), _count(query, "startIndex", 1),
                            min(_count(query, "count", schemas.MAX_RESULTS), schemas.MAX_RESULTS))
    return scim_response({"schemas": [schemas.LIST_RESPONSE], "totalResults": page.total,
                          "startIndex": page.start_index, "itemsPerPage": len(page.users),
                          "Resources": [users.dump(user, parameters) for user in page.users]})


@bp.post("/Users")
def create_user() -> Response:
    user = users.create_user(get_db(), _body(), region=_region())
    _audit("scim_user_created", user)
    return _user_response(user, 201)


@bp.get("/Users/<user_id>")
def get_user(user_id: str) -> Response:
    return _user_response(users.get_user(get_db(), user_id))


@bp.put("/Users/<user_id>")
def replace_user(user_id: str) -> Response:
    user = users.replace_user(get_db(), user_id, _body(), region=_region())
    _audit("scim_user_replaced", user)
    return _user_response(user)


@bp.patch("/Users/<user_id>")
def patch_user(user_id: str) -> Response:
    user = users.patch_user(get_db(), user_id, _body(), region=_region())
    _audit("scim_user_patched", user)
    return _user_response(user)


@bp.delete("/Users/<user_id>")
def delete_user(user_id: str) -> Response:
    host_id = users.delete_user(get_db(), user_id)
    audit.record(get_db(), "scim_user_deleted", scim_token=g.scim_token.id, host=host_id)
    return Response(status=204)


def _audit(action: str, user: users.UserResource) -> None:
    """Ids only: which token changed which host."""
    host = directory.get_managed_host(get_db(), str(user.id))
    audit.record(get_db(), action, scim_token=g.scim_token.id, host=host["id"] if host else None)


@bp.route("/Groups", methods=["GET", "POST"])
@bp.route("/Groups/<group_id>", methods=["GET", "PUT", "PATCH", "DELETE"])
def groups(group_id: str | None = None) -> Response:
    return scim_error(501, "Groups are not built: provision users only (docs/scim.md).")
