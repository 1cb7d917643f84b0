"""What reception is told about a visit: the same words for walk-ins and school groups, and for the sweeper,
which knows only the visit record (host, tablet, time)."""

from collections.abc import Callable
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlite_utils import Database

from kiosk import db as store
from kiosk import i18n
from kiosk.devices.pairing import get_device
from kiosk.hosts.directory import Host, get_host
from kiosk.messaging.notify import OutgoingSms
from kiosk.phone import PhoneNumber


def reception_messages(visit_id: str, visitor: str, host: Host,
                       reception: PhoneNumber) -> tuple[OutgoingSms, OutgoingSms]:
    """What reception is told while the host's SMS is slow, and once it has failed for good (`visitor` is the
    visitor's name, or a school's)."""
    with force_locale(i18n.default_locale()):
        # Every SMS fits one GSM-7 segment, or two as UCS-2 (tests/test_sms_length.py): keep them short.
        slow = _("%(visitor)s is at reception to see %(host)s. Our SMS is delayed; we keep trying. Please help them.",
                 visitor=visitor, host=host.name)
        failed = _("%(visitor)s is at reception to see %(host)s, who could not be reached by SMS. Please help them.",
                   visitor=visitor, host=host.name)
    return (OutgoingSms(visit_id, "reception", reception.e164, slow),
            OutgoingSms(visit_id, "reception", reception.e164, failed))


def unannounced_text(db: Database, host: Host | None, kiosk_id: int | str | None, created_at: str) -> str:
    """What reception is told of a visitor who could not be announced, from the visit record alone: the worker
    that held the visitor's name may be gone."""
    where = _where(db, kiosk_id, created_at)
    if host is None:
        return _("A visitor checked in at %(time)s on %(tablet)s and could not be announced. Please help them.",
                 **where)
    return _("A visitor for %(host)s checked in at %(time)s on %(tablet)s and could not be announced. "
             "Please help them.", host=host.name, **where)


def unannounced_alert(db: Database, host: Host | None, kiosk_id: int | str | None, created_at: str) -> str:
    """The same words for the admin area's banner, which is in English."""
    return in_english(unannounced_text, db, host, kiosk_id, created_at)


def silent_host_text(db: Database, host: Host, kiosk_id: int | str | None, created_at: str) -> str:
    """What reception is told when a host has not answered the arrival SMS in KIOSK_ESCALATE_MINUTES."""
    return _("A visitor for %(host)s has waited since %(time)s on %(tablet)s; %(first_name)s has not answered.",
             host=host.name, first_name=host.first_name, **_where(db, kiosk_id, created_at))


def declined_text(db: Database, host: Host, kiosk_id: int | str | None, created_at: str) -> str:
    """What reception is told when a host answers that they cannot come."""
    return _("%(host)s cannot come to the visitor who checked in at %(time)s on %(tablet)s. Please help them.",
             host=host.name, **_where(db, kiosk_id, created_at))


def in_english(text: Callable[..., str], *args: Any) -> str:
    """A reception text in English, for the admin area's banner."""
    with force_locale("en"):
        return text(*args)


def _where(db: Database, kiosk_id: int | str | None, created_at: str) -> dict[str, str]:
    device = get_device(db, kiosk_id) if kiosk_id is not None else None
    return {"time": store.clock_time(created_at), "tablet": device.name if device else _("the kiosk")}


def visit_facts(db: Database, visit_id: str) -> tuple[Host | None, str | None, str]:
    """The visit's host, tablet and time: all that is known of it once the visitor's name is gone."""
    host_id, kiosk_id, created_at = db.execute("SELECT host_id, kiosk_id, created_at FROM visits WHERE id = ?",
                                               [visit_id]).fetchone()
    return get_host(db, host_id, active_only=False) if host_id is not None else None, kiosk_id, created_at
