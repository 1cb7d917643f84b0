"""Anonymous statistics for the admin area: counts per day, hour, SMS status and refusal reason, nothing else.

Every count is of one location (issue 16) or, with location_id None, of all of them. Days and hours are on the
office clock (office_timezone()); the rows are stored in UTC. gather() reads them all inside locations.at(), so a
location's are on its own clock and the total on the installation's. Visits past their expiry are left out even
before the purge has run. kiosk/admin/charts.py draws them; export_csv() writes them as CSV.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from statistics import median
from typing import TextIO

from werkzeug.utils import secure_filename

from kiosk.db import now, office_timezone, timestamp
from kiosk.locations import locations
from kiosk.locations.locations import Location
from kiosk.spreadsheet import write_csv

DAYS = 30
SMS_STATUSES = ("sent", "delivered", "failed", "undelivered")
CSV_HEADER = ("table", "label", "status", "count")


@dataclass(frozen=True)
class Count:
    label: str
    count: int


@dataclass(frozen=True)
class SmsDay:
    day: str
    counts: dict[str, int]


def last_days(days=DAYS):
    """The dates of the last `days` days on the office clock, oldest first, today last (YYYY-MM-DD)."""
    today = now().astimezone(office_timezone()).date()
    return [(today - timedelta(days=back)).isoformat() for back in range(days - 1, -1, -1)]


def _since(days):
    """The UTC hour ("2026-03-02T23") at which the first of the last `days` office days began."""
    first = datetime.combine(date.fromisoformat(last_days(days)[0]), time(0), tzinfo=office_timezone())
    return first.astimezone(UTC).isoformat(timespec="hours")[:13]


def _office_hour(utc_hour):
    """A stored UTC hour ("2026-03-02T23") on the office clock. Counts are kept per UTC hour, so a zone whose
    offset is not whole hours would put a half hour in the wrong bucket; Europe's zones are whole hours."""
    return datetime.fromisoformat(f"{utc_hour}:00+00:00").astimezone(office_timezone())


def _of_location(location_id, column="location_id"):
    """A condition to AND to a WHERE clause, and its parameters: the rows of one location, or of all (None)."""
    return (f" AND {column} = ?", [location_id]) if location_id is not None else ("", [])


def _live_visits(days, location_id, alias=""):
    """The WHERE conditions and parameters of the visits counted: made in the last `days` days, not expired, at
    `location_id` (None: anywhere). `alias` is the visits table's, with its dot."""
    where, params = _of_location(location_id, f"{alias}location_id")
    return f"{alias}created_at >= ? AND {alias}expires_at > ?{where}", [_since(days), timestamp(), *params]


def _visits_per_hour(db, days, location_id):
    where, params = _live_visits(days, location_id)
    return db.execute(
        f"SELECT substr(created_at, 1, 13) AS hour, count(*) FROM visits WHERE {where} GROUP BY hour",  # noqa: S608
        params,
    ).fetchall()


def checkins_per_day(db, days=DAYS, *, location_id=None):
    counts = Counter()
    for hour, count in _visits_per_hour(db, days, location_id):
        counts[_office_hour(hour).date().isoformat()] += count
    return [Count(day, counts[day]) for day in last_days(days)]


def checkins_per_hour(db, days=DAYS, *, location_id=None):
    counts = Counter()
    for hour, count in _visits_per_hour(db, days, location_id):
        counts[_office_hour(hour).hour] += count
    return [Count(f"{hour:02d}:00", counts[hour]) for hour in range(24)]


def sms_per_day(db, days=DAYS, *, location_id=None):
    """Messages by final status per office day of their visit (at its location); days without any message are left
    out."""
    where, params = _live_visits(days, location_id, "v.")
    rows = db.execute(
        "SELECT substr(v.created_at, 1, 13) AS hour, m.status, count(*) FROM messages m "  # noqa: S608
        f"JOIN visits v ON v.id = m.visit_id WHERE {where} GROUP BY hour, m.status",
        params,
    ).fetchall()
    by_day = {}
    for hour, status, count in rows:
        day = by_day.setdefault(_office_hour(hour).date().isoformat(), dict.fromkeys(SMS_STATUSES, 0))
        if status in day:
            day[status] += count
    return [SmsDay(day, by_day[day]) for day in last_days(days) if day in by_day]


def refusals_by_reason(db, days=DAYS, *, location_id=None):
    where, params = _of_location(location_id)
    rows = db.execute(
        f"SELECT reason, sum(count) FROM refusals WHERE hour >= ?{where} GROUP BY reason "  # noqa: S608
        "ORDER BY 2 DESC, reason",
        [_since(days), *params],
    ).fetchall()
    return [Count(reason, total) for reason, total in rows]


@dataclass(frozen=True)
class ReplyDay:
    """One office day of host replies: visits whose SMS asked for one, how many got one, the median wait for it."""

    day: str
    asked: int
    acknowledged: int
    median_minutes: float | None

    @property
    def share(self) -> int:
        """Per cent of the visits that asked which got an "on my way"."""
        return round(100 * self.acknowledged / self.asked) if self.asked else 0


def replies_per_day(db, days=DAYS, *, location_id=None):
    """Host replies per office day of the visit; days without a visit that asked for one are left out."""
    where, params = _live_visits(days, location_id)
    asked, waits = Counter(), {}
    for hour, count in db.execute("SELECT substr(created_at, 1, 13) AS hour, count(*) FROM visits "  # noqa: S608
                                  f"WHERE reply_asked AND {where} GROUP BY hour", params):
        asked[_office_hour(hour).date().isoformat()] += count
    for hour, minutes in db.execute("SELECT substr(created_at, 1, 13), "  # noqa: S608
                                    "(julianday(acknowledged_at) - julianday(created_at)) * 1440 FROM visits "
                                    f"WHERE reply_asked AND {where} AND acknowledged_at IS NOT NULL", params):
        waits.setdefault(_office_hour(hour).date().isoformat(), []).append(minutes)
    return [ReplyDay(day, asked[day], len(waits.get(day, [])),
                     round(median(waits[day]), 1) if day in waits else None)
            for day in last_days(days) if asked[day]]


def replies_by_outcome(db, days=DAYS, *, location_id=None):
    """Inbound SMS by what became of them (kiosk/messaging/inbound.py OUTCOMES), most first. At one location only
    those that matched one of its visits: the others (keywords, strangers) belong to no location."""
    where, params = _of_location(location_id)
    rows = db.execute(
        f"SELECT outcome, sum(count) FROM reply_counts WHERE hour >= ?{where} GROUP BY outcome "  # noqa: S608
        "ORDER BY 2 DESC, outcome",
        [_since(days), *params],
    ).fetchall()
    return [Count(outcome, total) for outcome, total in rows]


@dataclass(frozen=True)
class Figures:
    """Everything the statistics page and its CSV show, of one location or (location None) of all of them."""

    location: Location | None
    timezone: str  # the clock its days and hours are on
    per_day: list[Count]
    per_hour: list[Count]
    sms: list[SmsDay]
    refusals: list[Count]
    replies: list[ReplyDay]
    reply_outcomes: list[Count]  # a location's: those that matched its visits


def gather(db, location: Location | None = None, days=DAYS) -> Figures:
    """The counts of `location` (None: every location) on its own clock; the total on the installation's."""
    of = {"location_id": location.id if location is not None else None}
    with locations.at(location):
        return Figures(location, office_timezone().key, per_day=checkins_per_day(db, days, **of),
                       per_hour=checkins_per_hour(db, days, **of), sms=sms_per_day(db, days, **of),
                       refusals=refusals_by_reason(db, days, **of), replies=replies_per_day(db, days, **of),
                       reply_outcomes=replies_by_outcome(db, days, **of))


def csv_filename(figures: Figures) -> str:
    """statistics-2026-03-02.csv for the total, statistics-Bergen-2026-03-02.csv for a location (its name in ASCII,
    or its id when nothing of the name is left), dated today on the clock of its counts."""
    today = figures.per_day[-1].label
    if figures.location is None:
        return f"statistics-{today}.csv"
    return f"statistics-{secure_filename(figures.location.name) or figures.location.id}-{today}.csv"


def export_csv(figures: Figures, stream: TextIO) -> int:
    """The page's tables as one CSV (CSV_HEADER; status only for text messages and replies), counts and no more;
    returns the number of rows. Check-ins per day (oldest first) and hour, text messages per day and status for the
    days that had any, refusals per reason, host replies per day (asked, acknowledged, median minutes to it; the
    column "count" holds each) and inbound SMS per outcome (a location's: those that matched its visits). The
    file's name says whose counts they are (csv_filename), so the columns are the same for a location and the
    total."""
    rows = [("checkins_per_day", c.label, "", c.count) for c in figures.per_day]
    rows += [("checkins_per_hour", c.label, "", c.count) for c in figures.per_hour]
    rows += [("sms_per_day", day.day, status, day.counts[status]) for day in figures.sms for status in SMS_STATUSES]
    rows += [("refusals", c.label, "", c.count) for c in figures.refusals]
    rows += [("replies_per_day", day.day, column, getattr(day, column)) for day in figures.replies
             for column in ("asked", "acknowledged", "median_minutes")]
    rows += [("replies", c.label, "", c.count) for c in figures.reply_outcomes]
    write_csv(rows, CSV_HEADER, stream)
    return len(rows)
