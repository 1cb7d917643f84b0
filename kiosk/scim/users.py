"""SCIM Users (RFC 7643 §4.1, RFC 7644 §3): the hosts an identity provider such as Entra ID or Okta provisions.

A User is a host of the directory. What the kiosk keeps of it is the host's name, mobile number, department, e-mail
address and SMS language, plus what the provider matches and compares it on (id, userName, externalId, the name's
parts, active). Everything else a provider sends (titles, addresses, managers, other numbers) is read, used to pick
what is kept, and dropped: a host's home number is never stored (R33). The work address's city (locality), else the
enterprise division, places the host at the location of that name (issue 16); one naming no location, or none,
leaves the host at every location. Only the location is kept, never the address.

Parsing, PATCH and attribute selection are scim2-models'; the rules for a host's fields are the import's
(kiosk/hosts/directory.py), so a number Entra sends is read exactly as the same number in a spreadsheet.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, cast

from pydantic import ValidationError
from scim2_models import (
    Address,
    Context,
    Email,
    Error,
    Extension,
    InvalidValueException,
    Meta,
    Name,
    NotFoundException,
    PatchOp,
    PhoneNumber,
    Required,
    Resource,
    ResponseParameters,
    SCIMException,
    ScimPolicy,
    Uniqueness,
    UniquenessException,
)
from scim2_models.urn import URN
from sqlite_utils import Database

from kiosk.db import parse_timestamp
from kiosk.hosts import directory
from kiosk.locations import locations
from kiosk.scim import filters, schemas
from kiosk.scim.errors import PREFIX
from kiosk.text import TextError


class Department(Extension):
    """The attributes of the enterprise extension (RFC 7643 §4.3) the kiosk reads: the department, kept, and the
    division, which may name the host's location."""

    __schema__ = URN(schemas.ENTERPRISE_USER_SCHEMA)
    department: str | None = None
    division: str | None = None


class HostUser(Resource[Department]):
    """The attributes of the core User (RFC 7643 §4.1) the kiosk keeps; what schemas.SCHEMAS describes. Any other
    attribute a provider sends (title, addresses, the enterprise manager…) is read past and dropped (POLICY)."""

    __schema__ = URN(schemas.USER_SCHEMA)
    user_name: Annotated[str | None, Uniqueness.server, Required.true] = None
    name: Name | None = None
    display_name: str | None = None
    preferred_language: str | None = None
    active: bool | None = None
    emails: list[Email] | None = None
    phone_numbers: list[PhoneNumber] | None = None
    addresses: list[Address] | None = None


UserResource = HostUser

# What the kiosk tolerates, as Entra ID sends it: attributes it does not keep are dropped, not refused; a PATCH
# remove with a value removes that value; a PATCH on phoneNumbers[type eq "mobile"].value of a user without a mobile
# number adds one.
POLICY = ScimPolicy(unknown=ScimPolicy.Unknown.ignore, remove_value_as_filter=ScimPolicy.RemoveValue.apply,
                    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create)


@dataclass(frozen=True)
class Page:
    total: int
    start_index: int
    users: list[UserResource]


def parse(model: Any, payload: object, context: Context) -> Any:
    """`payload` read as `model` (a User, a PatchOp…) the way scim2-models reads a request: attribute names and
    booleans in any case ("False" included), as Entra ID and Okta send them. Raises SCIMException."""
    try:
        return model.model_validate(payload, scim_ctx=context, scim_policy=POLICY)
    except ValidationError as e:
        errors = Error.from_validation_errors(e)
        first = errors[0] if errors else Error(status=400, detail="The request body is not a valid SCIM User.")
        raise SCIMException.from_error(first) from None


def get_user(db: Database, scim_id: str) -> UserResource:
    row = directory.get_managed_host(db, scim_id)
    if row is None:
        raise NotFoundException(detail=f"No user {scim_id}.")
    return to_resource(row)


def list_users(db: Database, filter_text: str | None, start_index: int, count: int) -> Page:
    """The users matching `filter_text` (RFC 7644 §3.4.2.2, as SQL: kiosk/scim/filters.py), page by page
    (startIndex is 1-based; below 1 counts as 1)."""
    where, params = filters.where(filter_text) if filter_text else ("1", [])
    start = max(start_index, 1)
    rows, total = directory.managed_hosts(db, where, params, offset=start - 1, limit=max(count, 0))
    return Page(total=total, start_index=start, users=[to_resource(row) for row in rows])


def create_user(db: Database, payload: object, *, region: str) -> UserResource:
    user = parse(UserResource, payload, Context.RESOURCE_CREATION_REQUEST)
    return _save(db, str(uuid.uuid4()), user, region=region)


def replace_user(db: Database, scim_id: str, payload: object, *, region: str) -> UserResource:
    get_user(db, scim_id)
    user = parse(UserResource, payload, Context.RESOURCE_REPLACEMENT_REQUEST)
    return _save(db, scim_id, user, region=region)


def patch_user(db: Database, scim_id: str, payload: object, *, region: str) -> UserResource:
    """Apply a PATCH (add, replace, remove; with or without a path; value paths such as
    phoneNumbers[type eq "mobile"].value; op in any case) to the user as the kiosk keeps it."""
    user = get_user(db, scim_id)
    patch = parse(PatchOp[UserResource], payload, Context.RESOURCE_PATCH_REQUEST)
    if patch.patch(user, scim_policy=POLICY):
        return _save(db, scim_id, user, region=region)
    return user


def delete_user(db: Database, scim_id: str) -> int:
    """Delete the host and every copy of its name and number in the database file (directory.delete_hosts);
    returns the host's id."""
    row = directory.get_managed_host(db, scim_id)
    if row is None:
        raise NotFoundException(detail=f"No user {scim_id}.")
    directory.delete_hosts(db, [row["id"]])
    return int(row["id"])


def _save(db: Database, scim_id: str, user: UserResource, *, region: str) -> UserResource:
    fields = host_fields(user, region=region)
    place = locations.id_named(db, fields.pop("location_name"))
    try:
        directory.save_managed_host(db, {"scim_id": scim_id, **fields, "locations": [place] if place else []})
    except directory.HostConflictError:
        raise UniquenessException(detail="Another user has this userName.") from None
    return get_user(db, scim_id)


# A User and a host


def host_fields(user: UserResource, *, region: str) -> dict[str, Any]:
    """The host a User describes, by the import's rules. A user without a mobile number the kiosk can use is still
    a host, without one (and so inactive: the admin area shows "needs a mobile number"), since an identity provider
    would otherwise retry the user for ever. The host's name is the displayName, else the name's parts, else the
    formatted name, else the userName."""
    name = user.name or Name()
    parts = " ".join(filter(None, (name.given_name, name.family_name)))
    full_name = next(text for text in (user.display_name, parts, name.formatted, user.user_name, "?")
                     if text and text.strip())
    department = cast(Department | None, user[Department])
    return {
        "name": _field("name", full_name, region),
        "phone": _optional("phone", _mobile(user.phone_numbers or []), region),
        "department": _field("department", department.department if department else None, region),
        "email": _optional("email", _work_email(user.emails or []), region),
        "language": _optional("language", user.preferred_language, region),
        "user_name": user.user_name,
        "external_id": user.external_id,
        "display_name": user.display_name,
        "given_name": name.given_name,
        "family_name": name.family_name,
        "formatted_name": name.formatted,
        "scim_active": user.active,
        "location_name": _work_locality(user.addresses or []) or (department.division if department else None),
    }


def _field(field: str, text: str | None, region: str) -> Any:
    try:
        return directory.check_host_field(field, text, region=region)
    except TextError as e:
        raise InvalidValueException(detail=f"The {field} cannot be used: {e}") from None


def _optional(field: str, text: str | None, region: str) -> Any:
    """A field the host can do without: a value the import's rules refuse is left out rather than refused."""
    try:
        return directory.check_host_field(field, text, region=region)
    except TextError:
        return None


def _mobile(numbers: Iterable[PhoneNumber]) -> str | None:
    """The mobile number, else the primary number, else the first."""
    numbers = [number for number in numbers if number.value]
    chosen = (next((n for n in numbers if str(n.type or "").casefold() == "mobile"), None)
              or next((n for n in numbers if n.primary), None) or next(iter(numbers), None))
    return chosen.value if chosen else None


def _work_locality(addresses: Iterable[Address]) -> str | None:
    """The city of the work address, else of the primary address (a home address never places a host)."""
    addresses = [address for address in addresses if address.locality]
    chosen = (next((a for a in addresses if str(a.type or "").casefold() == "work"), None)
              or next((a for a in addresses if a.primary and str(a.type or "").casefold() != "home"), None))
    return chosen.locality if chosen else None


def _work_email(emails: Iterable[Email]) -> str | None:
    """The primary address, else the work address, else the first."""
    emails = [email for email in emails if email.value]
    chosen = (next((e for e in emails if e.primary), None)
              or next((e for e in emails if str(e.type or "").casefold() == "work"), None) or next(iter(emails), None))
    return chosen.value if chosen else None


def to_resource(row: dict[str, Any]) -> UserResource:
    """The User a managed host is: what the kiosk keeps of it, nothing more."""
    user = UserResource(
        id=row["scim_id"],
        external_id=row["external_id"],
        user_name=row["user_name"],
        name=(Name(given_name=row["given_name"], family_name=row["family_name"], formatted=row["formatted_name"])
              if row["given_name"] or row["family_name"] or row["formatted_name"] else None),
        display_name=row["display_name"],
        preferred_language=row["language"],
        active=None if row["scim_active"] is None else bool(row["scim_active"]),
        emails=[Email(value=row["email"], type=Email.Type.work, primary=True)] if row["email"] else None,
        phone_numbers=([PhoneNumber(value=row["phone"], type=PhoneNumber.Type.mobile, primary=True)]
                       if row["phone"] else None),
        addresses=[Address(locality=row["location_name"], type=Address.Type.work)] if row["location_name"] else None,
        meta=Meta(resource_type="User", created=parse_timestamp(row["created_at"]),
                  last_modified=parse_timestamp(row["updated_at"]), location=f"{PREFIX}/Users/{row['scim_id']}"),
    )
    if row["department"]:
        user[Department] = Department(department=row["department"])
    return user


def dump(user: UserResource, parameters: ResponseParameters[Any] | None = None) -> dict[str, Any]:
    return cast(dict[str, Any], user.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE,
                                                response_parameters=parameters))


def response_parameters(attributes: str | None, excluded: str | None) -> ResponseParameters[Any] | None:
    """The `attributes` and `excludedAttributes` of a request, or None when it has neither."""
    if not attributes and not excluded:
        return None
    return cast(ResponseParameters[Any], parse(ResponseParameters[UserResource],
                                               {"attributes": attributes, "excludedAttributes": excluded},
                                               Context.RESOURCE_QUERY_REQUEST))
