"""What reception is told about a visit: the same words for walk-ins and school groups, and for the sweeper,
which knows only the visit record (host, tablet, time)."""

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlite_utils import Database

from kiosk import db as store
from kiosk import i18n
from kiosk.devices.pairing import get_device
from kiosk.hosts.directory import Host
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
    device = get_device(db, kiosk_id) if kiosk_id is not None else None
    where = {"time": store.clock_time(created_at), "tablet": device.name if device else _("the kiosk")}
    if host is None:
        return _("A visitor checked in at %(time)s on %(tablet)s and could not be announced. Please help them.",
                 **where)
    return _("A visitor for %(host)s checked in at %(time)s on %(tablet)s and could not be announced. "
             "Please help them.", host=host.name, **where)


def unannounced_alert(db: Database, host: Host | None, kiosk_id: int | str | None, created_at: str) -> str:
    """The same words for the admin area's banner, which is in English."""
    with force_locale("en"):
        return unannounced_text(db, host, kiosk_id, created_at)
