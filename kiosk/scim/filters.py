"""SCIM filters (RFC 7644 §3.4.2.2) as SQL over the hosts table, so a filtered or paged list of 100,000 synced hosts
costs a query, not 100,000 resources built and tested one by one (27 s a request when it was done that way:
bench/README.md, "SCIM").

scim2-models parses a filter into a tree; this module writes each node as SQL over the column that keeps the
attribute. Comparisons ignore case (Unicode case folding, through the casefold() SQL function kiosk/db.py registers)
but for the case-exact attributes, id and externalId. An attribute the kiosk does not keep matches nothing, as
RFC 7644 §3.4.2.1 has it for an attribute a resource lacks. Every value reaches SQL as a parameter.
"""

from dataclasses import dataclass
from typing import Any

from scim2_models import InvalidFilterException, SCIMException, ScimFilter
from scim2_models.path import AttrPath, CompareOperator, Comparison, LogicalExpr, Not, Present, ValuePath

from kiosk.scim import schemas


@dataclass(frozen=True)
class Column:
    name: str
    case_exact: bool = False
    boolean: bool = False


_USER = schemas.USER_SCHEMA.casefold()
_ENTERPRISE = schemas.ENTERPRISE_USER_SCHEMA.casefold()
# (schema, attribute, sub-attribute), lower case -> the column that keeps it.
COLUMNS = {
    (_USER, "id", None): Column("scim_id", case_exact=True),
    (_USER, "externalid", None): Column("external_id", case_exact=True),
    (_USER, "username", None): Column("user_name"),
    (_USER, "displayname", None): Column("display_name"),
    (_USER, "name", "givenname"): Column("given_name"),
    (_USER, "name", "familyname"): Column("family_name"),
    (_USER, "name", "formatted"): Column("formatted_name"),
    (_USER, "preferredlanguage", None): Column("language"),
    (_USER, "active", None): Column("scim_active", boolean=True),
    (_USER, "emails", None): Column("email"),
    (_USER, "emails", "value"): Column("email"),
    (_USER, "phonenumbers", None): Column("phone"),
    (_USER, "phonenumbers", "value"): Column("phone"),
    (_ENTERPRISE, "department", None): Column("department"),
}
# The one e-mail address and mobile number a host has are answered as type work and mobile, primary
# (users.to_resource): the sub-attributes of a value path over them.
VALUE_PATHS = {"emails": ("email", "work"), "phonenumbers": ("phone", "mobile")}
NOTHING: tuple[str, list[Any]] = ("0", [])


def where(text: str) -> tuple[str, list[Any]]:
    """SQL (a boolean expression over hosts' columns) and its parameters for the filter `text`.
    Raises InvalidFilterException when the filter cannot be read."""
    try:
        tree = ScimFilter(text).ast
    except (ValueError, SCIMException) as e:
        raise InvalidFilterException(detail=f"The filter cannot be read: {e}") from None
    return _node(tree)


def _node(node: Any, within: str | None = None) -> tuple[str, list[Any]]:
    if isinstance(node, LogicalExpr):
        parts = [_node(term, within) for term in node.terms]
        joiner = f" {node.op.value.upper()} "
        return "(" + joiner.join(sql for sql, _ in parts) + ")", [value for _, values in parts for value in values]
    if isinstance(node, Not):
        sql, values = _node(node.expr, within)
        return f"NOT coalesce({sql}, 0)", values
    if isinstance(node, ValuePath):
        return _value_path(node)
    if isinstance(node, Present):
        column = _column(node.attr_path, within)
        if column is None:
            return NOTHING
        if not isinstance(column, Column):  # a constant sub-attribute of a value path: always present
            return "1", []
        return f"({column.name} IS NOT NULL AND {column.name} != '')", []
    if isinstance(node, Comparison):
        return _comparison(node, within)
    return NOTHING


def _column(path: AttrPath, within: str | None) -> Column | str | bool | None:
    """The column of an attribute; inside a value path over emails or phoneNumbers, `value` is its column and
    `type` and `primary` are the constants every host's one address and number have."""
    if within is not None and path.uri is None and path.sub_attr is None:
        column, kind = VALUE_PATHS[within]
        constants: dict[str, Column | str | bool] = {"value": Column(column), "type": kind, "primary": True}
        return constants.get(path.attr.casefold())
    uri = (path.uri or _USER).casefold()
    sub = path.sub_attr.casefold() if path.sub_attr else None
    return COLUMNS.get((uri, path.attr.casefold(), sub))


def _value_path(node: ValuePath) -> tuple[str, list[Any]]:
    attribute = node.attr_path.attr.casefold()
    if node.attr_path.uri not in (None, schemas.USER_SCHEMA) or attribute not in VALUE_PATHS:
        return NOTHING
    sql, values = _node(node.val_filter, within=attribute)
    return f"({VALUE_PATHS[attribute][0]} IS NOT NULL AND {sql})", values


_OPERATORS = {CompareOperator.gt: ">", CompareOperator.ge: ">=", CompareOperator.lt: "<", CompareOperator.le: "<="}


def _comparison(node: Comparison, within: str | None) -> tuple[str, list[Any]]:
    column = _column(node.attr_path, within)
    if column is None:
        return NOTHING
    if not isinstance(column, Column):  # type or primary inside a value path: compared with the constant here
        same = (str(column).casefold() == str(node.value).casefold() if isinstance(column, str)
                else column == node.value)
        if node.op not in (CompareOperator.eq, CompareOperator.ne):
            return NOTHING
        return ("1", []) if same == (node.op == CompareOperator.eq) else NOTHING
    if column.boolean:
        if not isinstance(node.value, bool) or node.op not in (CompareOperator.eq, CompareOperator.ne):
            return NOTHING
        sql = f"coalesce({column.name} = ?, 0)"
        return (sql if node.op == CompareOperator.eq else f"NOT {sql}"), [int(node.value)]
    if node.value is None:
        return (f"{column.name} IS NULL" if node.op == CompareOperator.eq else f"{column.name} IS NOT NULL"), []
    if column.name == "user_name" and node.op == CompareOperator.eq:  # the index identity providers look up by
        return "user_name = ? COLLATE NOCASE", [str(node.value)]
    return _compare(column.name, node.op, node.value, case_exact=column.case_exact)


def _compare(left: str, op: CompareOperator, value: Any, *, case_exact: bool) -> tuple[str, list[Any]]:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if not case_exact:
        left, text = f"casefold({left})", text.casefold()
    if op == CompareOperator.eq:
        return f"coalesce({left} = ?, 0)", [text]
    if op == CompareOperator.ne:
        return f"NOT coalesce({left} = ?, 0)", [text]
    if op == CompareOperator.co:
        return f"coalesce(instr({left}, ?) > 0, 0)", [text]
    if op == CompareOperator.sw:
        return f"coalesce(substr({left}, 1, length(?)) = ?, 0)", [text, text]
    if op == CompareOperator.ew:
        return f"coalesce(length({left}) >= length(?) AND substr({left}, -length(?)) = ?, 0)", [text, text, text]
    return f"coalesce({left} {_OPERATORS[op]} ?, 0)", [text]
