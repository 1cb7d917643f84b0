"""The host directory: lookup by id and type-ahead search on folded names."""

import re
import unicodedata
from dataclasses import dataclass

from kiosk.db import timestamp

# Letters that Unicode does not decompose, folded so a visitor can type them on any keyboard.
_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "å": "a", "ß": "ss", "đ": "d", "ł": "l", "þ": "th", "ð": "d"})
_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class Host:
    id: int
    name: str
    phone: str
    department: str | None = None
    email: str | None = None
    language: str | None = None


def fold(text):
    """Lower-case ASCII-ish search key: Ødegård -> odegard, Ærø -> aero, Åse and Aase -> ase, José -> jose."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_LETTERS)
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return text.replace("aa", "a")


def search_key(name):
    return " ".join(_TOKEN.findall(fold(name)))


def fts_query(text):
    """Every word of the query as a quoted prefix term, so user text never reaches FTS syntax."""
    return " ".join(f'"{token}"*' for token in _TOKEN.findall(fold(text)))


def get_host(db, host_id):
    row = db.execute(
        "SELECT id, name, phone, department, email, language FROM hosts WHERE id = ?", [host_id]
    ).fetchone()
    return Host(*row) if row else None


def search_hosts(db, query, *, limit):
    """Up to `limit` hosts whose name has a word starting with each word of `query`; no phone, no e-mail."""
    match = fts_query(query)
    if not match:
        return []
    rows = db.execute(
        """
        SELECT hosts.id, hosts.name, hosts.department FROM hosts_fts
        JOIN hosts ON hosts.id = hosts_fts.rowid
        WHERE hosts_fts MATCH ? LIMIT ?
        """,
        [match, limit],
    ).fetchall()
    return sorted(({"id": r[0], "name": r[1], "department": r[2]} for r in rows), key=lambda h: fold(h["name"]))


@dataclass(frozen=True)
class SaveResult:
    added: int
    updated: int


def save_hosts(db, hosts):
    """Add or update hosts (dicts with name, phone in E.164, department, email, language) in one transaction.

    A host is matched on phone first, then on e-mail, so importing the same list twice changes nothing.
    """
    by_phone, by_email = {}, {}
    for host_id, phone, email in db.execute("SELECT id, phone, email FROM hosts"):
        by_phone[phone] = host_id
        if email:
            by_email[email.casefold()] = host_id
    now = timestamp()
    inserts, updates = [], []
    for host in hosts:
        row = {key: host.get(key) or None for key in ("name", "phone", "department", "email", "language")}
        row.update(search=search_key(row["name"]), updated_at=now)
        host_id = by_phone.get(row["phone"]) or by_email.get((row["email"] or "").casefold())
        if host_id is None:
            inserts.append({**row, "created_at": now})
        else:
            updates.append({**row, "id": host_id})
    with db.atomic():
        db["hosts"].insert_all(inserts, batch_size=1000)
        db.conn.executemany(
            "UPDATE hosts SET name = :name, phone = :phone, department = :department, email = :email, "
            "language = :language, search = :search, updated_at = :updated_at WHERE id = :id",
            updates,
        )
    return SaveResult(added=len(inserts), updated=len(updates))


def list_hosts(db):
    rows = db.execute("SELECT id, name, phone, department, email, language FROM hosts ORDER BY search").fetchall()
    return [Host(*row) for row in rows]
