"""Parsed uploads held for the admin's confirmation (never the file itself), each in its own preview table.

A preview belongs to one admin, lives a few minutes, and is deleted when it is taken or has expired.
"""

import json
import secrets
from datetime import timedelta
from typing import Any

from sqlite_utils import Database

from kiosk.db import now, query_value, timestamp, write_transaction


def keep(db: Database, table: str, column: str, data: object, *, admin_id: int, minutes: int) -> str:
    """Store `data` (JSON-able) in `table`.`column` for `minutes`; returns the preview's id."""
    preview_id = secrets.token_urlsafe(16)
    moment = now()
    with write_transaction(db):
        db.execute(f"DELETE FROM {table} WHERE expires_at <= ?", [timestamp(moment)])  # noqa: S608 (our names)
        db.table(table).insert({
            "id": preview_id, "admin_id": admin_id, column: json.dumps(data), "created_at": timestamp(moment),
            "expires_at": timestamp(moment + timedelta(minutes=minutes)),
        })
    return preview_id


def take(db: Database, table: str, column: str, preview_id: str, *, admin_id: int) -> Any:
    """The data of this admin's unexpired preview, deleting it (and any expired ones); None if there is none.

    Runs inside the caller's write transaction, so what the caller saves from it is atomic with the delete.
    """
    data = query_value(db, f"SELECT {column} FROM {table} WHERE id = ? AND admin_id = ? AND expires_at > ?",  # noqa: S608
                       [preview_id, admin_id, timestamp()])
    db.execute(f"DELETE FROM {table} WHERE id = ? OR expires_at <= ?", [preview_id, timestamp()])  # noqa: S608
    return json.loads(data) if data is not None else None
