"""The host directory: lookup by id, type-ahead search on folded names, import from and export to spreadsheets."""

import json
import re
import unicodedata
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial

from rapidfuzz import process
from rapidfuzz.distance import OSA

from kiosk import i18n, previews
from kiosk.db import FTS5_SECURE_DELETE, timestamp, wipe_wal, write_transaction
from kiosk.hosts import memberships
from kiosk.phone import InvalidPhoneError, PhoneNumber
from kiosk.spreadsheet import LineProblem, SpreadsheetError, write_csv
from kiosk.text import TextError, cell_text, is_email

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

    @property
    def first_name(self) -> str:
        return (self.name.split() or [self.name])[0]

    @property
    def short_name(self) -> str:
        """First name and last initial, for a public screen: Kari Nordmann -> Kari N."""
        words = self.name.split()
        return f"{words[0]} {words[-1][0]}." if len(words) > 1 else self.name


def fold(text):
    """Lower-case ASCII-ish search key: Ødegård -> odegard, Ærø -> aero, Åse and Aase -> ase, José -> jose."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_LETTERS)
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return text.replace("aa", "a")


def search_key(name, department=None):
    """The words a kiosk search matches: the name's words, each hyphenated or apostrophed word also written
    together (O'Brien is found as "obrien", Berg-Hansen as "berghansen"), then the department's words."""
    words = _TOKEN.findall(fold(name))
    joined = ["".join(_TOKEN.findall(word)) for word in fold(name).split() if len(_TOKEN.findall(word)) > 1]
    return " ".join([*words, *joined, *_TOKEN.findall(fold(department or ""))])


def fts_query(text):
    """Every word of the query as a quoted prefix term, so user text never reaches FTS syntax."""
    return " ".join(f'"{token}"*' for token in _TOKEN.findall(fold(text)))


def get_host(db, host_id, *, active_only=True):
    """The host with this id who can be texted; a deactivated host only when active_only is False (its old visits).
    A host without a mobile number (one the directory sync sent without) is never returned: an SMS for them goes to
    reception, as for a host who was deleted."""
    rows = db.query(
        "SELECT id, name, phone, department, email, language FROM hosts "
        "WHERE id = ? AND phone IS NOT NULL AND (active OR NOT ?)",
        [host_id, active_only],
    )
    return next((Host(**row) for row in rows), None)


def search_hosts(db, query, *, limit, location=None):
    """Up to `limit` active hosts with a word (of the name or the department) starting with each word of `query`;
    no phone, no e-mail. When nothing matches, words one or two letters off are tried (typos: karri -> Kari).
    At a `location` (a tablet's), its hosts come first, each group by name; only them if it says so (hosts_only)."""
    words = _TOKEN.findall(fold(query))
    if not words:
        return []
    typed = [[word] for word in words]
    found = _matching(db, typed, limit, location)
    # A typo is looked for only when no host at all has these words: not for another location's host at a tablet
    # that offers only its own (the typo search would then read every match at every location, for nothing).
    if not found and not (location is not None and location.hosts_only and _matching(db, typed, 1)):
        found = _matching(db, [[word, *_near_words(db, word)] for word in words], limit, location)
    return _with_places(db, sorted(found, key=lambda pair: (not pair[0], fold(pair[1]["name"]))))


def _with_places(db, found):
    """The hosts of (at the location, host) pairs; one of another location says where, so a visitor who sees two
    Kari Nordmanns can tell the one in this office from the one in Bergen."""
    elsewhere = memberships.names_by_host(db, [host["id"] for here, host in found if not here])
    return [host if here else {**host, "location": ", ".join(elsewhere.get(host["id"], []))} for here, host in found]


def host_named(db, text, *, location=None):
    """The one active host whose whole name is `text` (ignoring case, accents and punctuation), or None when no
    host or several have that name: a visitor who typed "Ingvild Haaland" in full need not also pick it. At a
    `location`, that location's host of the name wins over another's; with hosts_only, only its hosts count."""
    words = _TOKEN.findall(fold(text))
    if not words:
        return None
    named = [(here, host) for here, host in _matching(db, [[word] for word in words], 50, location)
             if _TOKEN.findall(fold(host["name"])) == words]
    if any(here for here, _ in named):
        named = [(here, host) for here, host in named if here]
    return get_host(db, named[0][1]["id"]) if len(named) == 1 else None


def offered_at(db, host_id, location):
    """Whether a tablet at `location` may check a visitor in for this host: any host, unless it offers only its own."""
    return location is None or not location.hosts_only or memberships.is_at(db, host_id, location.id)


_MATCHING = """
    SELECT hosts.id, hosts.name, hosts.department{here} FROM hosts_fts JOIN hosts ON hosts.id = hosts_fts.rowid
    WHERE hosts_fts MATCH :match AND hosts.active {place} LIMIT :limit
"""


def _matching(db, alternatives, limit, location=None):
    """(at the location, host) pairs of hosts with, for each list of alternatives, a word starting with one of them:
    any `limit` of them; at a location its own first, or only them (hosts_only). No ORDER BY, which would sort every
    match of a two-letter prefix among 100,000 hosts: the matches are read until `limit` of the location's own are
    found, in one pass that also keeps the first others, for when there are fewer."""
    match = " AND ".join("(" + " OR ".join(f'"{word}"*' for word in words) + ")" for words in alternatives)
    params = {"match": match, "limit": limit, "location": location.id if location else None}
    if location is None:
        return [(True, host) for host in db.query(_MATCHING.format(here="", place=""), params)]
    if location.hosts_only:
        sql = _MATCHING.format(here="", place=f"AND {memberships.AT_LOCATION}")
        return [(True, host) for host in db.query(sql, params)]
    own, others = [], []
    cursor = db.execute(_MATCHING.format(here=f", {memberships.AT_LOCATION}", place=""), {**params, "limit": -1})
    for host_id, name, department, here in cursor:  # sqlite3 steps lazily: stopping early reads no more
        if here or len(others) < limit:
            (own if here else others).append({"id": host_id, "name": name, "department": department})
        if len(own) == limit:
            break
    cursor.close()
    return [(True, host) for host in own] + [(False, host) for host in others[:limit - len(own)]]


TYPO_MIN_LENGTH = 3  # shorter words are still being typed: a typo cannot be told from a prefix
NEAR_WORDS_LIMIT = 20


def _near_words(db, word):
    """Indexed words that start with `word` give or take one typo (two for words of six letters or more): a letter
    too many, too few, wrong, or two swapped. Only words sharing the first letter are compared: people rarely
    mistype the first letter, and it keeps the comparison to one slice of the index's vocabulary."""
    if len(word) < TYPO_MIN_LENGTH:
        return []
    allowed = 1 if len(word) < 6 else 2
    vocabulary = _vocabulary(db, word[0])
    near = set()
    # The distance from `word` to the nearest start of a term: compared with each term cut to every length
    # `word` could be a typo of (rapidfuzz's optimal string alignment runs in C++: 2,000 words in well under 1 ms).
    for length in range(len(word) - allowed, len(word) + allowed + 1):
        terms, cut = vocabulary.cut(length)
        for _, _, index in process.extract_iter(word, cut, scorer=OSA.distance, score_cutoff=allowed):
            near.add(terms[index])
    return sorted(near)[:NEAR_WORDS_LIMIT]


class _Vocabulary:
    """The search index's words that start with one letter, and those words cut to a length (cached: the cuts are
    most of the work)."""

    def __init__(self, terms):
        self.terms = terms
        self._cuts = {}

    def cut(self, length):
        """The words no more than two letters shorter than `length` (the most typos allowed), and each cut to
        `length`."""
        if length not in self._cuts:
            terms = [term for term in self.terms if len(term) >= length - 2]
            self._cuts[length] = (terms, [term[:length] for term in terms])
        return self._cuts[length]


_VOCABULARIES = {}  # database file -> {"stamp": search_version, letter: _Vocabulary}, shared by a worker's threads


def _vocabulary(db, letter):
    """The search index's words that start with `letter`, kept in the worker until a host is added, changed or
    deleted (search_version, counted by triggers: migration m007). Shared by the worker's threads, so each slice is
    read once per worker rather than once per thread."""
    stamp = db.execute("SELECT n FROM search_version").fetchone()[0]
    cache = _VOCABULARIES.setdefault(db.conn.execute("PRAGMA database_list").fetchone()[2], {})
    if cache.get("stamp") != stamp:
        cache.clear()
        cache["stamp"] = stamp
    vocabulary = cache.get(letter)
    if vocabulary is None:
        vocabulary = cache[letter] = _Vocabulary([term for (term,) in db.execute(
            "SELECT term FROM hosts_fts_vocab WHERE term >= ? AND term < ?", [letter, chr(ord(letter) + 1)])])
    return vocabulary


HOST_FIELDS = ("name", "phone", "department", "email", "language")


@dataclass(frozen=True)
class Change:
    """One field of a host that an import changes; phone numbers are shown masked."""

    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class HostUpdate:
    id: int
    name: str
    changes: list[Change]


@dataclass
class ImportPlan:
    """What saving a list of hosts does: who is added, what changes for whom, who is not in the list."""

    added: list[dict] = field(default_factory=list)
    updated: list[HostUpdate] = field(default_factory=list)
    unchanged: int = 0
    missing: list[Host] = field(default_factory=list)  # active hosts the list does not name
    managed: list[str] = field(default_factory=list)  # names of hosts the directory sync manages: left alone
    rows: list[dict] = field(default_factory=list, repr=False)  # the updated hosts as they will be stored


@dataclass(frozen=True)
class SaveResult:
    added: int
    updated: int
    unchanged: int
    deactivated: int = 0


def save_hosts(db, hosts, *, deactivate_missing=False):
    """Add or update hosts (dicts with name and phone in E.164; department, email and language when the list has
    them) in one transaction. A field a host's dict does not hold is left as it is: a file without a language
    column keeps everyone's language. A host is matched on phone first, then on e-mail, so importing the same list
    twice changes nothing. With deactivate_missing, active hosts the list does not name are deactivated (an office
    offboarding people by spreadsheet); they stay in the directory and can be reactivated.
    """
    with write_transaction(db):
        plan = plan_hosts(db, hosts)
        now = timestamp()
        db["hosts"].insert_all(({**_fields(row), "search": search_key(row["name"], row["department"]),
                                 "created_at": now, "updated_at": now} for row in plan.added), batch_size=1000)
        db.conn.executemany(
            "UPDATE hosts SET name = :name, phone = :phone, department = :department, email = :email, "
            "language = :language, search = :search, updated_at = :updated_at WHERE id = :id",
            [{**row, "search": search_key(row["name"], row["department"]), "updated_at": now} for row in plan.rows],
        )
        deactivated = [host.id for host in plan.missing] if deactivate_missing else []
        db.conn.executemany("UPDATE hosts SET active = 0, updated_at = ? WHERE id = ?",
                            [(now, host_id) for host_id in deactivated])
        _place_imported(db, plan)
    return SaveResult(added=len(plan.added), updated=len(plan.updated), unchanged=plan.unchanged,
                      deactivated=len(deactivated))


def _fields(row):
    return {key: row[key] for key in HOST_FIELDS}


def _place_imported(db, plan):
    """Set the locations of the imported hosts whose rows name them (a file with a location column)."""
    ids = {row["phone"]: row["id"] for row in db.query(
        "SELECT id, phone FROM hosts WHERE phone IN (SELECT value FROM json_each(?))",
        [json.dumps([row["phone"] for row in plan.added if "locations" in row])])}
    for row in plan.added:
        if "locations" in row:
            memberships.set_locations(db, ids[row["phone"]], row["locations"])
    for row in plan.rows:
        if "locations" in row:
            memberships.set_locations(db, row["id"], row["locations"])


def plan_hosts(db, hosts):
    """What save_hosts(db, hosts) would do now, without writing anything (an import preview). Hosts the directory
    sync manages (kiosk/scim) are left as the identity provider has them: a row naming one is listed as skipped."""
    existing, by_phone, by_email = {}, {}, {}
    for stored in db.query("SELECT id, name, phone, department, email, language, active, "
                           "scim_id IS NOT NULL AS managed FROM hosts"):
        existing[stored["id"]] = stored
        if stored["phone"]:
            by_phone[stored["phone"]] = stored["id"]
        if stored["email"]:
            by_email[stored["email"].casefold()] = stored["id"]
    plan, named = ImportPlan(), set()
    placed, names = memberships.all_memberships(db), memberships.names_by_id(db)
    for host in hosts:
        given = {key: host[key] or None for key in HOST_FIELDS if key in host}
        host_id = by_phone.get(given["phone"]) or by_email.get((given.get("email") or "").casefold())
        if host_id is None:
            plan.added.append({**dict.fromkeys(HOST_FIELDS), **given, **_placement(host)})
            continue
        named.add(host_id)
        stored = existing[host_id]
        if stored["managed"]:
            plan.managed.append(stored["name"])
            continue
        changes = [Change(key, stored[key], value) for key, value in given.items() if stored[key] != value]
        if "locations" in host and host["locations"] != placed.get(host_id, []):
            changes.append(Change("locations", memberships.to_cell(placed.get(host_id, []), names) or None,
                                  memberships.to_cell(host["locations"], names) or None))
        if changes:
            plan.updated.append(HostUpdate(host_id, stored["name"], changes))
            plan.rows.append({**{key: stored[key] for key in HOST_FIELDS}, **given, **_placement(host),
                              "id": host_id})
        else:
            plan.unchanged += 1
    plan.missing = [Host(**{key: row[key] for key in ("id", *HOST_FIELDS)}) for host_id, row in existing.items()
                    if row["active"] and not row["managed"] and host_id not in named]
    plan.missing.sort(key=lambda host: fold(host.name))
    plan.managed.sort(key=fold)
    return plan


def _placement(host):
    """The locations a parsed host names, as a row's "locations", or nothing when its file has no such column."""
    return {"locations": host["locations"]} if "locations" in host else {}


def list_hosts(db):
    rows = db.query("SELECT id, name, phone, department, email, language FROM hosts ORDER BY search")
    return [Host(**row) for row in rows]


# Import and export

EXPORT_COLUMNS = ("name", "phone", "department", "email", "language")
HEADER_ALIASES = {
    "name": ("name", "full name", "navn", "fullt navn"),
    "phone": (
        "phone", "phone number", "mobile", "mobile number", "mobil", "mobilnummer", "telefon", "telefonnummer",
    ),
    "department": ("department", "avdeling"),
    "email": ("email", "e-mail", "email address", "e-mail address", "e-post", "epost", "e-postadresse"),
    "language": ("language", "språk", "sprak"),
    "locations": ("location", "locations", "kontor", "lokasjon", "lokasjoner", "office"),  # issue 16
}
LANGUAGES = tuple(i18n.LANGUAGES)  # the languages an SMS can be written in
LANGUAGE_ALIASES = {"no": "nb"}
NAME_MAX_LENGTH = 100
TEXT_MAX_LENGTH = 200


@dataclass(frozen=True)
class HostImport:
    hosts: list[dict] = field(default_factory=list)
    errors: list[LineProblem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    columns_absent: list[str] = field(default_factory=list)  # fields the file has no column for: kept as stored


def parse_hosts(table, *, region, places=None):
    """Hosts from a table (see kiosk.spreadsheet.read_table), with every unusable row as a LineProblem.

    Raises SpreadsheetError when the table has no name or no phone column. Phone numbers without a country
    code are read in `region`; they must be mobile numbers but may be from any country. A location column is read
    with `places` (memberships.ids_by_name) into each host's "locations", and ignored without it.
    """
    columns = _host_columns(table.header)
    if places is None:
        columns.pop("locations", None)
    checks = _checks(region, places)
    result = HostImport(ignored_columns=[name for name in table.header if name and name not in columns.values()],
                        columns_absent=[name for name in HOST_FIELDS if name not in columns])
    first_line = {}
    for row in table.rows:
        try:
            host = _parse_row(row, columns, checks)
            _claim(host, row.line, first_line)
        except TextError as e:
            result.errors.append(LineProblem(row.line, str(e)))
        else:
            result.hosts.append(host)
    return result


def export_hosts(db, stream):
    """Write every host as CSV that imports again and opens safely in a spreadsheet (R28); returns the count. With
    several locations, a last column names each host's (empty: every location)."""
    hosts, names = list_hosts(db), memberships.names_by_id(db)
    if len(names) < 2:
        write_csv(([getattr(host, column) for column in EXPORT_COLUMNS] for host in hosts), EXPORT_COLUMNS, stream)
        return len(hosts)
    placed = memberships.all_memberships(db)
    write_csv(([*(getattr(host, column) for column in EXPORT_COLUMNS),
                memberships.to_cell(placed.get(host.id, []), names)] for host in hosts),
              (*EXPORT_COLUMNS, "location"), stream)
    return len(hosts)


def _host_columns(header):
    """Which header name holds each field: {"name": "navn", "phone": "mobil", ...}."""
    columns = {}
    for name, aliases in HEADER_ALIASES.items():
        found = [column for column in header if column.replace("_", " ") in aliases]
        if len(found) > 1:
            raise SpreadsheetError(f"The columns “{found[0]}” and “{found[1]}” both mean {name}. Keep one of them.")
        if found:
            columns[name] = found[0]
    if "name" not in columns or "phone" not in columns:
        raise SpreadsheetError(
            "The header row needs a column for the name (name or navn) and one for the mobile number "
            f"(phone or mobil). This file has: {', '.join(filter(None, header))}."
        )
    return columns


def _parse_row(row, columns, checks):
    """The fields the file has columns for: a column the file lacks is left out, so an import keeps that field."""
    host, problems = {}, []
    for name, check in checks.items():
        if name not in columns:
            continue
        try:
            host[name] = check(row.values.get(columns[name], ""))
        except TextError as e:
            problems.append(str(e))
    if problems:
        raise TextError("; ".join(problems))
    return host


def _claim(host, line, first_line):
    """Refuse a phone number or e-mail address that an earlier row of the file already has."""
    keys = [("phone number", host["phone"]), ("e-mail address", (host.get("email") or "").casefold())]
    for label, value in keys:
        if value and (label, value) in first_line:
            raise TextError(f"the {label} is also on line {first_line[label, value]}")
    for label, value in keys:
        if value:
            first_line[label, value] = line


def _name(text):
    if not text:
        raise TextError("the name is missing")
    return cell_text(text, "name", NAME_MAX_LENGTH)


def _department(text):
    return cell_text(text, "department", TEXT_MAX_LENGTH, may_be_formula=True) or None


def _phone(text, *, region):
    text = text.removeprefix("'").strip()  # Excel's mark for "keep this number as text"
    if not text:
        raise TextError("the phone number is missing")
    try:
        return _parse_phone(text, region)
    except InvalidPhoneError as e:
        raise TextError(f"the phone number {text} cannot be used: {e.message}") from e


def _parse_phone(text, region):
    try:
        return PhoneNumber.parse(text, region=region).e164
    except InvalidPhoneError:
        if text.isdigit() and len(text) >= 10:
            # Excel drops the + when it stores a number as a number: 4741234567 was +47 412 34 567.
            with suppress(InvalidPhoneError):
                return PhoneNumber.parse("+" + text, region=region).e164
        raise


def _email(text):
    if text and (len(text) > TEXT_MAX_LENGTH or not is_email(text)):
        raise TextError(f"the e-mail address {text} is not valid")
    return text or None


def _language(text):
    code = text.casefold().replace("_", "-").partition("-")[0]
    code = LANGUAGE_ALIASES.get(code, code)
    if code and code not in LANGUAGES:
        raise TextError(f"the language {text} is not one we know (use {', '.join(LANGUAGES)})")
    return code or None


def _checks(region, places=None):
    phone = partial(_phone, region=region)
    checks = {"name": _name, "phone": phone, "department": _department, "email": _email, "language": _language}
    if places is not None:
        checks["locations"] = partial(memberships.from_cell, places=places)
    return checks


# The admin area: one host at a time, and import previews


@dataclass(frozen=True)
class HostEntry(Host):
    active: bool = True
    managed: bool = False  # by the directory sync (kiosk/scim): read-only here
    switched_off: bool = False  # managed, and deactivated by the identity provider (Okta never deletes): deletable


class HostConflictError(ValueError):
    """Another host already has this phone number or e-mail address; `field` is "phone" or "email"."""

    def __init__(self, field):
        super().__init__(field)
        self.field = field


# count(*) OVER () gives the number of matches before the LIMIT, in the same query.
_ENTRY = ("id, name, phone, department, email, language, active, scim_id IS NOT NULL AS managed, "
          "coalesce(scim_id IS NOT NULL AND NOT scim_active, 0) AS switched_off")
_ALL = f"SELECT {_ENTRY}, count(*) OVER () AS total FROM hosts WHERE {{place}}"  # noqa: S608
_FOUND = f"{_ALL} AND id IN (SELECT rowid FROM hosts_fts WHERE hosts_fts MATCH :match)"  # noqa: S608
IMPORT_PREVIEW_MINUTES = 15


def get_host_entry(db, host_id):
    rows = db.query(f"SELECT {_ENTRY} FROM hosts WHERE id = ?", [host_id])  # noqa: S608
    return next((HostEntry(**row) for row in rows), None)


def find_hosts(db, query="", *, limit, location_id=None):
    """Up to `limit` hosts, active or not, with a name word starting with each word of `query`; and the total.
    With a location_id, only the hosts at that location (its own and every location's)."""
    match = fts_query(query)
    if not match and query.strip():
        return [], 0  # only punctuation: nothing can match
    place = "1" if location_id is None else memberships.AT_LOCATION
    params = {"match": match, "limit": limit, "location": location_id}
    rows = list(db.query((_FOUND if match else _ALL).format(place=place) + " ORDER BY search LIMIT :limit", params))
    total = rows[0]["total"] if rows else 0
    return [HostEntry(**{key: value for key, value in row.items() if key != "total"}) for row in rows], total


def check_host_field(name, text, *, region):
    """One typed field of a host, by the same rules as an import (R28 too); raises ValueError saying why."""
    return _checks(region)[name]((text or "").strip())


def add_host(db, host, *, location_ids=()):
    """Add one host (a dict of HOST_FIELDS, phone in E.164) at these locations (none: every location); returns its
    id. Raises HostConflictError."""
    moment = timestamp()
    with write_transaction(db):
        _refuse_conflicts(db, host, None)
        row = {key: host.get(key) or None for key in HOST_FIELDS}
        host_id = db["hosts"].insert(
            {**row, "search": search_key(row["name"], row["department"]), "created_at": moment, "updated_at": moment}
        ).last_pk
        memberships.set_locations(db, host_id, location_ids)
        return host_id


def update_host(db, host_id, host, *, location_ids=None):
    """Change one host's fields, and its locations unless location_ids is None; the search index follows through
    the hosts_au trigger."""
    with write_transaction(db):
        if location_ids is not None:
            memberships.set_locations(db, host_id, location_ids)
        _refuse_conflicts(db, host, host_id)
        row = {key: host.get(key) or None for key in HOST_FIELDS}
        db.execute(
            "UPDATE hosts SET name = :name, phone = :phone, department = :department, email = :email, "
            "language = :language, search = :search, updated_at = :updated_at WHERE id = :id",
            {**row, "search": search_key(row["name"], row["department"]), "updated_at": timestamp(), "id": host_id},
        )


def _refuse_conflicts(db, host, host_id):
    if db.execute("SELECT 1 FROM hosts WHERE phone = ? AND id IS NOT ?", [host["phone"], host_id]).fetchone():
        raise HostConflictError("phone")
    email = host.get("email")
    if email and db.execute(
        "SELECT 1 FROM hosts WHERE lower(email) = lower(?) AND id IS NOT ?", [email, host_id]
    ).fetchone():
        raise HostConflictError("email")


def set_host_active(db, host_id, active):
    """Deactivate or reactivate a host: an inactive host is never offered on the kiosk."""
    set_hosts_active(db, [host_id], active)


def set_hosts_active(db, host_ids, active):
    """Deactivate or reactivate these hosts; returns how many there were. A host without a mobile number stays
    inactive: the kiosk could not text them."""
    return db.execute("UPDATE hosts SET active = ?, updated_at = ? WHERE id IN (SELECT value FROM json_each(?)) "
                      "AND (phone IS NOT NULL OR NOT ?)",
                      [int(active), timestamp(), json.dumps(list(host_ids)), int(active)]).rowcount


def unmanaged(db, host_ids):
    """Those of `host_ids` that the admin area may change: not managed by the directory sync."""
    return [row["id"] for row in db.query("SELECT id FROM hosts WHERE id IN (SELECT value FROM json_each(?)) "
                                          "AND scim_id IS NULL", [json.dumps(list(host_ids))])]


def delete_host(db, host_id):
    delete_hosts(db, [host_id])


def delete_hosts(db, host_ids):
    """Delete hosts and every copy of their names and numbers in the database file (issue 9, item 4): the rows are
    zeroed (secure_delete), the search index drops their tokens (FTS5 secure-delete, or where SQLite is older than
    3.44, a merge of the index's segments, which costs about as much as the index is big), and the WAL is emptied.
    Returns how many were deleted."""
    with write_transaction(db):
        deleted = db.execute("DELETE FROM hosts WHERE id IN (SELECT value FROM json_each(?))",
                             [json.dumps(list(host_ids))]).rowcount
        if deleted and not FTS5_SECURE_DELETE:
            db.execute("INSERT INTO hosts_fts (hosts_fts) VALUES ('optimize')")
    wipe_wal(db)
    return deleted


def matching_host_ids(db, query=""):
    """The ids of every host, active or not, that find_hosts(db, query) would list, without a limit."""
    match = fts_query(query)
    if match:
        return [row["id"] for row in db.query("SELECT rowid AS id FROM hosts_fts WHERE hosts_fts MATCH ?", [match])]
    return [] if query.strip() else [row["id"] for row in db.query("SELECT id FROM hosts")]


def save_import_preview(db, hosts, *, admin_id):
    """Keep parsed hosts until the admin confirms, for IMPORT_PREVIEW_MINUTES; returns the preview's id.
    The uploaded file itself is never kept."""
    return previews.keep(db, "import_previews", "hosts", hosts, admin_id=admin_id, minutes=IMPORT_PREVIEW_MINUTES)


def take_import_preview(db, preview_id, *, admin_id):
    """The hosts of this admin's unexpired preview, which is deleted; None when there is no such preview."""
    with write_transaction(db):
        return previews.take(db, "import_previews", "hosts", preview_id, admin_id=admin_id)


# The directory sync (kiosk/scim): hosts an identity provider manages

MANAGED_FIELDS = ("scim_id", "external_id", "user_name", "display_name", "given_name", "family_name", "formatted_name",
                  "scim_active")
# A managed host's location, for its SCIM resource: the sync places a host at one location or at every one.
_MANAGED_LOCATION = ("(SELECT l.name FROM host_locations hl JOIN locations l ON l.id = hl.location_id "
                     "WHERE hl.host_id = hosts.id ORDER BY l.name LIMIT 1) AS location_name")
_MANAGED = ", ".join(("id", *HOST_FIELDS, *MANAGED_FIELDS, "active", "created_at", "updated_at", _MANAGED_LOCATION))


def get_managed_host(db, scim_id):
    """The stored fields of the host the directory sync knows by `scim_id`, as a dict, or None."""
    rows = db.query(f"SELECT {_MANAGED} FROM hosts WHERE scim_id = ?", [scim_id])  # noqa: S608
    return next(iter(rows), None)


def managed_hosts(db, where="1", params=(), *, offset=0, limit=None):
    """The stored fields of the hosts the directory sync manages that match `where` (SQL over hosts' columns, made
    by kiosk/scim/filters.py), oldest first, `limit` from `offset`; and how many match in all."""
    rows = list(db.query(f"SELECT {_MANAGED}, count(*) OVER () AS total FROM hosts "  # noqa: S608
                         f"WHERE scim_id IS NOT NULL AND ({where}) ORDER BY id LIMIT ? OFFSET ?",
                         [*params, -1 if limit is None else limit, offset]))
    if rows:
        return [{key: value for key, value in row.items() if key != "total"} for row in rows], rows[0]["total"]
    return [], db.execute(f"SELECT count(*) FROM hosts WHERE scim_id IS NOT NULL AND ({where})",  # noqa: S608
                          params).fetchone()[0]


def save_managed_host(db, host):
    """Add or overwrite the host the directory sync knows by host["scim_id"] (a dict of HOST_FIELDS and
    MANAGED_FIELDS, and "locations": their ids); returns its id. A new one takes over a host of the spreadsheet era
    with the same e-mail address or mobile number, so switching an office to the sync keeps its hosts (and their
    visits' statistics). A mobile
    number another host has is not taken: the host is kept without one, inactive. The host is active when the
    provider says so and it has a mobile number. Raises HostConflictError("user_name") when another managed host
    has the user name. scim_active None (the provider sent no `active`) counts as active."""
    with write_transaction(db):
        row = get_managed_host(db, host["scim_id"])
        host_id = row["id"] if row else _adoptable(db, host)
        if db.execute("SELECT 1 FROM hosts WHERE user_name = ? COLLATE NOCASE AND id IS NOT ?",
                      [host["user_name"], host_id]).fetchone():
            raise HostConflictError("user_name")
        phone = host.get("phone")
        if phone and db.execute("SELECT 1 FROM hosts WHERE phone = ? AND id IS NOT ?", [phone, host_id]).fetchone():
            phone = None
        fields = {key: host.get(key) for key in (*HOST_FIELDS, *MANAGED_FIELDS)} | {"phone": phone}
        provider_active = fields["scim_active"] is None or bool(fields["scim_active"])
        fields |= {"active": int(provider_active and phone is not None), "updated_at": timestamp(),
                   "search": search_key(fields["name"], fields["department"])}
        if host_id is None:
            host_id = db["hosts"].insert({**fields, "created_at": fields["updated_at"]}).last_pk
        else:
            db["hosts"].update(host_id, fields)
        if "locations" in host:
            memberships.set_locations(db, host_id, host["locations"])
        return host_id


def _adoptable(db, host):
    """The id of a host not yet managed by the sync with the same e-mail address or mobile number, or None."""
    row = db.execute("SELECT id FROM hosts WHERE scim_id IS NULL AND (phone = ? OR lower(email) = lower(?)) "
                     "ORDER BY phone = ? DESC LIMIT 1", [host.get("phone"), host.get("email"), host.get("phone")]
                     ).fetchone()
    return row[0] if row else None
