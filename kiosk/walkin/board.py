"""Who is on the way: the welcome screen's small "On the way" board, and the status screen's line, from hosts'
replies (kiosk/messaging/inbound.py).

The board names hosts only, as first name and last initial ("Kari N. — about 5 min"), and nothing about a visitor.
A reply stays on it for KIOSK_ON_THE_WAY_MINUTES, or as long as the minutes it gave if that is longer.
"""

import math
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlite_utils import Database

from kiosk import db as store
from kiosk.hosts.directory import get_host
from kiosk.messaging.inbound import replies_enabled
from kiosk.messaging.replies import MAX_MINUTES

BOARD_SIZE = 6


@dataclass(frozen=True)
class Coming:
    host: str  # "Kari N."
    minutes_left: int | None  # about so many minutes more; None: on the way, no time given or it has passed

    @property
    def when(self) -> str:
        if not self.minutes_left:
            return _("on the way")
        return ngettext("about %(num)d min", "about %(num)d min", self.minutes_left)

    def as_json(self) -> dict[str, str]:
        return {"host": self.host, "when": self.when}


def shown() -> bool:
    """Whether the welcome screen has a board: replies can reach us and KIOSK_ON_THE_WAY_MINUTES is not 0."""
    return current_app.config["ON_THE_WAY_MINUTES"] > 0 and replies_enabled()


def on_the_way(db: Database) -> list[Coming]:
    """Hosts who replied recently enough to be shown, the latest reply first, each host once."""
    if not shown():
        return []
    now = store.now()
    keep = timedelta(minutes=current_app.config["ON_THE_WAY_MINUTES"])
    rows = db.execute(
        "SELECT host_id, acknowledged_at, ack_minutes FROM visits WHERE acknowledged_at > ? AND expires_at > ? "
        "ORDER BY acknowledged_at DESC",
        [store.timestamp(now - max(keep, timedelta(minutes=MAX_MINUTES))), store.timestamp(now)]).fetchall()
    board: dict[int, Coming] = {}
    for host_id, acknowledged_at, minutes in rows:
        since = now - store.parse_timestamp(acknowledged_at)
        if host_id in board or since > max(keep, timedelta(minutes=minutes or 0)):
            continue
        host = get_host(db, host_id, active_only=False)
        if host is not None:
            left = math.ceil(minutes - since.total_seconds() / 60) if minutes else None
            board[host_id] = Coming(host.short_name, max(left, 0) if left is not None else None)
    return list(board.values())[:BOARD_SIZE]


def coming_text(host_name: str, minutes: int | None) -> str:
    """The status screen's line once the host replied, in the tablet's language."""
    if not minutes:
        return _("%(host)s is on the way.", host=host_name)
    return ngettext("%(host)s is on the way (about %(num)d minute).", "%(host)s is on the way (about %(num)d minutes).",
                    minutes, host=host_name)
