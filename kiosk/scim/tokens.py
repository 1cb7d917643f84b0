"""SCIM bearer tokens: random, shown once, stored as SHA-256 hashes as tablet credentials are, revocable.

A token is created by an operator (`flask --app app scim token create --name Entra`) and pasted into the identity
provider; this table keeps its hash, its name and when it was last used.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlite_utils import Database

from kiosk.admin import audit
from kiosk.db import now, query_one, timestamp, write_transaction

LAST_USED_EVERY = timedelta(minutes=1)
_COLUMNS = "id, name, created_at, last_used_at, revoked_at"


@dataclass(frozen=True)
class ScimToken:
    id: int
    name: str
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(db: Database, name: str, *, admin_id: int | None = None) -> tuple[ScimToken, str]:
    """A new token named `name`; returns its row and the token itself, which is stored nowhere."""
    name = name.strip()
    if not name:
        raise ValueError("a SCIM token needs a name")
    token = secrets.token_urlsafe(32)
    with write_transaction(db):
        token_id = db.table("scim_tokens").insert({"name": name, "token_hash": _hash(token),
                                                   "created_at": timestamp()}).last_pk
        assert isinstance(token_id, int)
        audit.record(db, "scim_token_created", admin_id=admin_id, scim_token=token_id)
    created = get_token(db, token_id)
    assert created is not None
    return created, token


def get_token(db: Database, token_id: int) -> ScimToken | None:
    row = query_one(db, f"SELECT {_COLUMNS} FROM scim_tokens WHERE id = ?", [token_id])  # noqa: S608
    return ScimToken(**row) if row else None


def list_tokens(db: Database) -> list[ScimToken]:
    """Every token, live ones first; never the token or its hash."""
    rows = db.query(f"SELECT {_COLUMNS} FROM scim_tokens ORDER BY revoked_at IS NOT NULL, id")  # noqa: S608
    return [ScimToken(**row) for row in rows]


def revoke_token(db: Database, token_id: int, *, admin_id: int | None = None) -> bool:
    """Revoke a live token at once; False when there is no such live token (nothing is recorded then)."""
    with write_transaction(db):
        cursor = db.execute("UPDATE scim_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                            [timestamp(), token_id])
        if cursor.rowcount != 1:
            return False
        audit.record(db, "scim_token_revoked", admin_id=admin_id, scim_token=token_id)
    return True


def token_for_bearer(db: Database, token: str | None) -> ScimToken | None:
    """The live token a bearer presents, or None; notes when it was last used (at most once a minute)."""
    if not token:
        return None
    row = query_one(db, f"SELECT {_COLUMNS} FROM scim_tokens WHERE token_hash = ? "  # noqa: S608
                        "AND revoked_at IS NULL", [_hash(token)])
    if row is None:
        return None
    found = ScimToken(**row)
    if found.last_used_at is None or found.last_used_at < timestamp(now() - LAST_USED_EVERY):
        db.execute("UPDATE scim_tokens SET last_used_at = ? WHERE id = ?", [timestamp(), found.id])
    return found
