"""Anonymous statistics for the admin area: counts per day, hour, SMS status and refusal reason, nothing else.

Days and hours are UTC, as stored. Visits past their expiry are left out even before the purge has run.
"""

from dataclasses import dataclass
from datetime import timedelta

from kiosk.db import now, timestamp

DAYS = 30
SMS_STATUSES = ("sent", "delivered", "failed", "undelivered")


@dataclass(frozen=True)
class Count:
    label: str
    count: int


@dataclass(frozen=True)
class SmsDay:
    day: str
    counts: dict[str, int]


def last_days(days=DAYS):
    """The dates of the last `days` days, oldest first, today last (YYYY-MM-DD)."""
    today = now().date()
    return [(today - timedelta(days=back)).isoformat() for back in range(days - 1, -1, -1)]


def checkins_per_day(db, days=DAYS):
    rows = db.execute(
        "SELECT substr(created_at, 1, 10), count(*) FROM visits WHERE created_at >= ? AND expires_at > ? "
        "GROUP BY 1",
        [last_days(days)[0], timestamp()],
    ).fetchall()
    counts = dict(rows)
    return [Count(day, counts.get(day, 0)) for day in last_days(days)]


def checkins_per_hour(db, days=DAYS):
    rows = db.execute(
        "SELECT substr(created_at, 12, 2), count(*) FROM visits WHERE created_at >= ? AND expires_at > ? "
        "GROUP BY 1",
        [last_days(days)[0], timestamp()],
    ).fetchall()
    counts = dict(rows)
    return [Count(f"{hour:02d}:00", counts.get(f"{hour:02d}", 0)) for hour in range(24)]


def sms_per_day(db, days=DAYS):
    """Messages by final status per day of their visit; days without any message are left out."""
    rows = db.execute(
        "SELECT substr(v.created_at, 1, 10), m.status, count(*) FROM messages m JOIN visits v ON v.id = m.visit_id "
        "WHERE v.created_at >= ? AND v.expires_at > ? GROUP BY 1, 2",
        [last_days(days)[0], timestamp()],
    ).fetchall()
    by_day = {}
    for day, status, count in rows:
        by_day.setdefault(day, dict.fromkeys(SMS_STATUSES, 0))[status] = count
    return [SmsDay(day, by_day[day]) for day in last_days(days) if day in by_day]


def refusals_by_reason(db, days=DAYS):
    rows = db.execute(
        "SELECT reason, sum(count) FROM refusals WHERE hour >= ? GROUP BY reason ORDER BY 2 DESC, reason",
        [last_days(days)[0]],
    ).fetchall()
    return [Count(reason, total) for reason, total in rows]


def peak(counts):
    """The largest count, at least 1: the top of each bar scale."""
    return max((c.count for c in counts), default=1) or 1
