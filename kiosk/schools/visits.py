"""School visits: a roster from the school's list, a group check-in on the kiosk, and a purge after the visit day.

The roster holds names, role and class only (SECURITY.md R34). A file with anything like a national identity
number or a birth date, or with other columns, is refused before any of it is stored.
"""

import json
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from kiosk import db as store
from kiosk import i18n, metrics, previews, sensitive
from kiosk.db import query_one, query_value, timestamp, write_transaction
from kiosk.hosts.directory import fold, get_host
from kiosk.messaging import notify
from kiosk.messaging.notify import OutgoingSms
from kiosk.messaging.texts import reception_messages, unannounced_alert
from kiosk.settings import reception_phone, setting
from kiosk.spreadsheet import LineProblem, SpreadsheetError, read_table
from kiosk.text import cell_text
from kiosk.walkin.checkin import create_visit, sms_place

PREVIEW_MINUTES = 15
NAME_MAX_LENGTH = 100
CLASS_MAX_LENGTH = 20
SCHOOL_MAX_LENGTH = 100

COLUMNS = {
    "name": ("name", "full name", "navn", "fullt navn", "fullt namn", "namn"),
    "first_name": ("first name", "firstname", "given name", "fornavn", "førenamn"),
    "last_name": ("last name", "lastname", "surname", "family name", "etternavn", "etternamn"),
    "role": ("role", "rolle", "type"),
    "class_name": ("class", "klasse", "gruppe", "group"),
}
ROLES = {
    "pupil": ("pupil", "student", "elev", "pupils", "students", "elever"),
    "teacher": ("teacher", "lærer", "lærar", "laerer", "larer", "laerar", "teachers", "lærere", "lærarar"),
}
SENSITIVE_MESSAGE = (
    "This list holds something that looks like a national identity number or a date of birth ({where}). "
    "Nothing of it has been saved. Remove it and upload the list again: a roster may only hold names, role "
    "and class."
)


class RosterError(ValueError):
    """The roster cannot be used at all; str(error) says why in plain words, without repeating its content."""


@dataclass(frozen=True)
class Person:
    first_name: str = field(repr=False)
    last_name: str = field(repr=False)
    role: str = "pupil"
    class_name: str = ""

    @property
    def short_name(self):
        """First name and last initial: "Ola N."."""
        return f"{self.first_name} {self.last_name[:1]}.".strip() if self.last_name else self.first_name


@dataclass
class Roster:
    people: list[Person] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    errors: list[LineProblem] = field(default_factory=list)
    duplicates: list[LineProblem] = field(default_factory=list)


# Parsing


def parse_roster_file(data, filename, *, max_rows):
    """A roster from CSV or XLSX bytes; raises RosterError (R27, R34)."""
    try:
        table = read_table(data, filename or "roster", max_rows=max_rows, max_columns=50)
    except SpreadsheetError as e:
        raise RosterError(str(e)) from e
    _refuse_sensitive([(1, None, cell) for cell in table.header])
    _refuse_sensitive([(row.line, column, value) for row in table.rows for column, value in row.values.items()])
    columns = _columns(table.header)
    rows = [(row.line, {key: row.values.get(column, "") for key, column in columns.items()}) for row in table.rows]
    return _roster(rows)


def parse_roster_text(text, *, max_rows):
    """A pasted list: one name per line, everyone a pupil."""
    lines = [(number, line.strip()) for number, line in enumerate((text or "").splitlines(), start=1)]
    lines = [(number, line) for number, line in lines if line]
    if not lines:
        raise RosterError("The list is empty.")
    if len(lines) > max_rows:
        raise RosterError(f"The list has more than {max_rows:,} names. Split the visit into smaller groups.")
    _refuse_sensitive([(number, None, line) for number, line in lines])
    return _roster([(number, {"name": line}) for number, line in lines])


def _refuse_sensitive(cells):
    """Refuse the whole list at the first cell (line, column, text) holding an identity number or a birth date; the
    message says where, never what (R34)."""
    for line, column, text in cells:
        if sensitive.find(text):
            where = f"line {line}, column “{column}”" if column else f"line {line}"
            raise RosterError(SENSITIVE_MESSAGE.format(where=where))


def _columns(header):
    columns, extra = {}, []
    for name in filter(None, header):
        key = next((key for key, aliases in COLUMNS.items() if name.replace("_", " ") in aliases), None)
        if key is None:
            extra.append(name)
        elif key in columns:
            raise RosterError(f"The columns “{columns[key]}” and “{name}” mean the same. Keep one of them.")
        else:
            columns[key] = name
    if extra:
        raise RosterError(
            "A roster may only have the columns name (or first name and last name), role and class. "
            f"Nothing has been saved. Remove the column{'s' if len(extra) > 1 else ''} “{'”, “'.join(extra)}”."
        )
    if "name" not in columns and "first_name" not in columns:
        raise RosterError("The header row needs a column for the name (name or navn, or first name and last name).")
    return columns


def _roster(rows):
    roster, first_line = Roster(), {}
    for line, values in rows:
        try:
            person = _person(values)
        except ValueError as e:
            roster.errors.append(LineProblem(line, str(e)))
            continue
        key = (fold(f"{person.first_name} {person.last_name}"), fold(person.class_name))
        if key in first_line:
            roster.duplicates.append(LineProblem(line, f"the same person as on line {first_line[key]}"))
            continue
        first_line[key] = line
        roster.people.append(person)
        roster.lines.append(line)
    return roster


def _person(values):
    if values.get("name"):
        first, _, last = _text(values["name"], "name", NAME_MAX_LENGTH).rpartition(" ")
        first, last = (first, last) if first else (last, "")
    else:
        first = _text(values.get("first_name", ""), "first name", NAME_MAX_LENGTH)
        last = _text(values.get("last_name", ""), "last name", NAME_MAX_LENGTH)
    if not first:
        raise ValueError("the name is missing")
    return Person(" ".join(first.split()), " ".join(last.split()), _role(values.get("role", "")),
                  _text(values.get("class_name", ""), "class", CLASS_MAX_LENGTH))


def _text(text, label, max_length):
    return cell_text(text.strip(), label, max_length)


def _role(text):
    word = text.strip().casefold()
    if not word:
        return "pupil"
    for role, words in ROLES.items():
        if word in words:
            return role
    raise ValueError("the role must be pupil (elev) or teacher (lærer)")


# Time: a visit's data lives until the end of its day in Oslo, plus SCHOOL_VISIT_KEEP_DAYS.


def today():
    return store.now().astimezone(store.office_timezone()).date()


def latest_visit_date():
    """School visits are planned at most a year ahead."""
    return today() + timedelta(days=366)


def expires_at(visit_date, keep_days=0):
    end = datetime.combine(visit_date + timedelta(days=1 + keep_days), time(0), tzinfo=store.office_timezone())
    return timestamp(end.astimezone(UTC))


# The admin area


@dataclass(frozen=True)
class SchoolVisit:
    id: int
    school: str
    visit_date: str
    host_id: int
    arrival_time: str | None
    teacher_phone: str | None = field(default=None, repr=False)
    people: int = 0
    arrived: int = 0
    location_id: int = 1


_VISITS = """
    SELECT v.id, v.school, v.visit_date, v.host_id, v.arrival_time, v.teacher_phone, v.location_id,
           (SELECT count(*) FROM school_people p WHERE p.visit_id = v.id) AS people,
           (SELECT count(*) FROM school_people p WHERE p.visit_id = v.id AND p.arrived_at IS NOT NULL) AS arrived
    FROM school_visits v WHERE v.expires_at > ?
"""


def list_visits(db, *, location_id=None):
    """Every visit that has not expired (at one location, for its admin), the soonest first."""
    rows = db.query(_VISITS + " AND (? IS NULL OR v.location_id = ?) ORDER BY v.visit_date, v.arrival_time, v.school",
                    [timestamp(), location_id, location_id])
    return [SchoolVisit(**row) for row in rows]


def visits_today(db, *, location_id=None):
    """Today's visits (at one location, for its tablets)."""
    where = " AND v.location_id = ?" if location_id is not None else ""
    rows = db.query(_VISITS + " AND v.visit_date = ?" + where + " ORDER BY v.arrival_time, v.school",
                    [timestamp(), today().isoformat(), *([location_id] if location_id is not None else [])])
    return [SchoolVisit(**row) for row in rows]


def get_visit(db, visit_id, *, today_only=False, location_id=None):
    query = (_VISITS + " AND v.id = ?" + (" AND v.visit_date = ?" if today_only else "")
             + (" AND v.location_id = ?" if location_id is not None else ""))
    args = [timestamp(), visit_id] + ([today().isoformat()] if today_only else []) + \
        ([location_id] if location_id is not None else [])
    row = query_one(db, query, args)
    return SchoolVisit(**row) if row else None


def save_preview(db, visit, roster, *, admin_id):
    """Keep a parsed visit for PREVIEW_MINUTES until the admin confirms it (never the file); returns its id."""
    data = {"visit": visit, "people": [asdict(person) for person in roster.people]}
    return previews.keep(db, "school_previews", "data", data, admin_id=admin_id, minutes=PREVIEW_MINUTES)


def confirm_preview(db, preview_id, *, admin_id, keep_days=0):
    """Save the visit and roster of this admin's unexpired preview, which is deleted; the new visit's id or None."""
    with write_transaction(db):
        data = previews.take(db, "school_previews", "data", preview_id, admin_id=admin_id)
        if data is None:
            return None
        visit = data["visit"]
        visit_id = db["school_visits"].insert({
            **visit, "created_at": timestamp(),
            "expires_at": expires_at(date.fromisoformat(visit["visit_date"]), keep_days),
        }).last_pk
        db["school_people"].insert_all([{**person, "visit_id": visit_id} for person in data["people"]])
    return visit_id


def delete_visit(db, visit_id):
    with write_transaction(db):
        db.execute("DELETE FROM school_people WHERE visit_id = ?", [visit_id])
        deleted = db.execute("DELETE FROM school_visits WHERE id = ?", [visit_id]).rowcount
    store.wipe_wal(db)
    return deleted


def purge_expired(db):
    """Delete school visits, their rosters and previews past their time; returns how many visits went."""
    moment = timestamp()
    with write_transaction(db):
        db.execute("DELETE FROM school_previews WHERE expires_at <= ?", [moment])
        db.execute("DELETE FROM school_people WHERE visit_id IN "
                   "(SELECT id FROM school_visits WHERE expires_at <= ?)", [moment])
        deleted = db.execute("DELETE FROM school_visits WHERE expires_at <= ?", [moment]).rowcount
    store.wipe_wal(db)
    return deleted


# The kiosk: group check-in


@dataclass(frozen=True)
class Member:
    id: int
    short_name: str
    role: str
    class_name: str
    arrived: bool


def list_members(db, visit_id):
    """The roster of a visit as the teacher sees it on the kiosk: first name and last initial only."""
    rows = db.query(
        "SELECT id, first_name, last_name, role, class_name, arrived_at IS NOT NULL AS arrived FROM school_people "
        "WHERE visit_id = ? ORDER BY role DESC, first_name, last_name", [visit_id]
    )
    return [Member(row["id"], Person(row["first_name"], row["last_name"] or "").short_name, row["role"],
                   row["class_name"] or "", bool(row["arrived"])) for row in rows]


def check_in_group(db, visit, member_ids, *, kiosk_id):
    """Mark these people as arrived, record one PII-free visit and send one host SMS; returns the visit record id.

    Returns None when none of the ids is someone on this visit who has not yet arrived.
    """
    try:
        announcement, record_id = _record_group(db, visit, member_ids, kiosk_id)
    except _NobodyNew:
        return None
    metrics.checked_in("school")
    if announcement is not None:
        notify.announce(announcement)
    return record_id


class _NobodyNew(Exception):
    """Nobody in the check-in was on the roster and not yet arrived: undo it."""


def _record_group(db, visit, member_ids, kiosk_id):
    host = get_host(db, visit.host_id, active_only=False)
    reception = reception_phone()
    record_id = secrets.token_urlsafe(16)
    with write_transaction(db):
        earlier = query_value(db, "SELECT count(*) FROM school_people WHERE visit_id = ? AND arrived_at IS NOT NULL",
                              [visit.id])
        ids = [int(i) for i in member_ids]
        new = db.execute(
            "UPDATE school_people SET arrived_at = ? WHERE visit_id = ? AND arrived_at IS NULL "
            "AND id IN (SELECT value FROM json_each(?))", [timestamp(), visit.id, json.dumps(ids)],
        ).rowcount
        if not new:
            raise _NobodyNew
        created_at = create_visit(db, record_id, visit.host_id, kiosk_id)
        # A host removed since the visit was planned: reception is told instead, as for a walk-in without a host.
        to = host.phone if host else getattr(reception, "e164", None)
        if not to:
            return None, record_id
        with force_locale(i18n.host_locale(host)):  # the host's directory language; reception's default
            host_text = _host_text(visit, new, earlier, sms_place(db))
        host_message = OutgoingSms(record_id, "host", to, host_text, notify.create_message(db, record_id, "host"))
        confirmation = _teacher_confirmation(db, visit, record_id, new + earlier, host)
    escalation = fallback = None
    if host and reception:
        escalation, fallback = reception_messages(record_id, visit.school, host, reception)
    alert = partial(unannounced_alert, host=host, kiosk_id=kiosk_id, created_at=created_at)
    return notify.Announcement(host_message, confirmation, escalation, fallback, alert), record_id


def _teacher_confirmation(db, visit, record_id, arrived, host):
    """The teacher's SMS, if the school gave a mobile: like a walk-in visitor's, it goes once someone was told."""
    if not visit.teacher_phone:
        return None
    return notify.create_confirmation(db, record_id, visit.teacher_phone, host_told=_teacher_text(visit, arrived, host),
                                      reception_told=_teacher_text(visit, arrived, None))


def _host_text(visit, new, earlier, place):
    total = visit.people
    if earlier:
        return ngettext("%(school)s: %(num)d more has arrived (%(arrived)d of %(total)d).",
                        "%(school)s: %(num)d more have arrived (%(arrived)d of %(total)d).",
                        new, school=visit.school, arrived=new + earlier, total=total)
    if place:  # with several locations, the first SMS says at which one
        return ngettext("%(school)s: %(num)d of %(total)d has arrived at reception in %(location)s.",
                        "%(school)s: %(num)d of %(total)d have arrived at reception in %(location)s.",
                        new, school=visit.school, total=total, location=place)
    return ngettext("%(school)s: %(num)d of %(total)d has arrived at reception.",
                    "%(school)s: %(num)d of %(total)d have arrived at reception.",
                    new, school=visit.school, total=total)


def _teacher_text(visit, arrived, host):
    return _("Welcome to %(company)s. %(arrived)d of %(total)d from %(school)s are checked in, and %(host)s "
             "has been told you are here.", company=setting("COMPANY_NAME"), arrived=arrived, total=visit.people,
             school=visit.school, host=host.name if host else _("reception"))
