"""Anonymous statistics for the admin area: counts per day, hour, SMS status and refusal reason, nothing else.

Days and hours are on the office clock (KIOSK_TIMEZONE); the rows are stored in UTC. Visits past their expiry
are left out even before the purge has run. kiosk/admin/charts.py draws them; export_csv() writes them as CSV.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from statistics import median
from typing import TextIO

from kiosk.db import now, office_timezone, timestamp
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


def _visits_per_hour(db, days):
    return db.execute(
        "SELECT substr(created_at, 1, 13) AS hour, count(*) FROM visits WHERE created_at >= ? AND expires_at > ? "
        "GROUP BY hour",
        [_since(days), timestamp()],
    ).fetchall()


def checkins_per_day(db, days=DAYS):
    counts = Counter()
    for hour, count in _visits_per_hour(db, days):
        counts[_office_hour(hour).date().isoformat()] += count
    return [Count(day, counts[day]) for day in last_days(days)]


def checkins_per_hour(db, days=DAYS):
    counts = Counter()
    for hour, count in _visits_per_hour(db, days):
        counts[_office_hour(hour).hour] += count
    return [Count(f"{hour:02d}:00", counts[hour]) for hour in range(24)]


def sms_per_day(db, days=DAYS):
    """Messages by final status per office day of their visit; days without any message are left out."""
    rows = db.execute(
        "SELECT substr(v.created_at, 1, 13) AS hour, m.status, count(*) FROM messages m "
        "JOIN visits v ON v.id = m.visit_id WHERE v.created_at >= ? AND v.expires_at > ? GROUP BY hour, m.status",
        [_since(days), timestamp()],
    ).fetchall()
    by_day = {}
    for hour, status, count in rows:
        day = by_day.setdefault(_office_hour(hour).date().isoformat(), dict.fromkeys(SMS_STATUSES, 0))
        if status in day:
            day[status] += count
    return [SmsDay(day, by_day[day]) for day in last_days(days) if day in by_day]


def refusals_by_reason(db, days=DAYS):
    rows = db.execute(
        "SELECT reason, sum(count) FROM refusals WHERE hour >= ? GROUP BY reason ORDER BY 2 DESC, reason",
        [_since(days)],
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


def replies_per_day(db, days=DAYS):
    """Host replies per office day of the visit; days without a visit that asked for one are left out."""
    params = [_since(days), timestamp()]
    asked, waits = Counter(), {}
    for hour, count in db.execute("SELECT substr(created_at, 1, 13) AS hour, count(*) FROM visits "
                                  "WHERE reply_asked AND created_at >= ? AND expires_at > ? GROUP BY hour", params):
        asked[_office_hour(hour).date().isoformat()] += count
    for hour, minutes in db.execute("SELECT substr(created_at, 1, 13), "
                                    "(julianday(acknowledged_at) - julianday(created_at)) * 1440 FROM visits "
                                    "WHERE reply_asked AND created_at >= ? AND expires_at > ? "
                                    "AND acknowledged_at IS NOT NULL", params):
        waits.setdefault(_office_hour(hour).date().isoformat(), []).append(minutes)
    return [ReplyDay(day, asked[day], len(waits.get(day, [])),
                     round(median(waits[day]), 1) if day in waits else None)
            for day in last_days(days) if asked[day]]


def replies_by_outcome(db, days=DAYS):
    """Inbound SMS by what became of them (kiosk/messaging/inbound.py OUTCOMES), most first."""
    rows = db.execute(
        "SELECT outcome, sum(count) FROM reply_counts WHERE hour >= ? GROUP BY outcome ORDER BY 2 DESC, outcome",
        [_since(days)],
    ).fetchall()
    return [Count(outcome, total) for outcome, total in rows]


def export_csv(db, stream: TextIO) -> int:
    """The page's tables as one CSV (CSV_HEADER; status only for text messages and replies), counts and no more;
    returns the number of rows. Check-ins per day (oldest first) and hour, text messages per day and status for the
    days that had any, refusals per reason, host replies per day (asked, acknowledged, median minutes to it; the
    column "count" holds each) and inbound SMS per outcome."""
    rows = [("checkins_per_day", c.label, "", c.count) for c in checkins_per_day(db)]
    rows += [("checkins_per_hour", c.label, "", c.count) for c in checkins_per_hour(db)]
    rows += [("sms_per_day", day.day, status, day.counts[status]) for day in sms_per_day(db) for status in SMS_STATUSES]
    rows += [("refusals", c.label, "", c.count) for c in refusals_by_reason(db)]
    rows += [("replies_per_day", day.day, column, getattr(day, column)) for day in replies_per_day(db)
             for column in ("asked", "acknowledged", "median_minutes")]
    rows += [("replies", c.label, "", c.count) for c in replies_by_outcome(db)]
    write_csv(rows, CSV_HEADER, stream)
    return len(rows)
