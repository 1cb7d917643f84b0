"""Sending a visit's SMS off the request thread: concurrent, bounded retries, a settled status per recipient.

The visitor's name and number exist only in the objects held by these threads; they are never written to the
database or a log, and are dropped when the send is settled.

Every message row carries the time by which it must be settled (`deadline`) and the worker process sending it
(`owner`), so kiosk/messaging/sweeper.py can settle what a crash, a hang or a stopped worker left behind (docs/sms.md).
"""

import logging
import os
import random
import sqlite3
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from time import monotonic
from typing import Any, cast

from flask import Flask, current_app
from sqlite_utils import Database

from kiosk import db as store
from kiosk import metrics
from kiosk.admin.audit import raise_alert
from kiosk.locations import locations
from kiosk.sms import SmsSendError

logger = logging.getLogger("kiosk.messaging.notify")

SENDING, SENT, FAILED = "sending", "sent", "failed"
# Set only by Twilio status callbacks (kiosk/messaging/delivery.py), after SENT.
DELIVERED, UNDELIVERED = "delivered", "undelivered"
NOT_DELIVERED = (FAILED, UNDELIVERED)

# Why a message failed or was never sent: a word for the status screen and the statistics, never personal data.
WORKER_STOPPED = "worker_stopped"  # the process sending it stopped or died
TIMED_OUT = "timed_out"  # not settled by its deadline
PROVIDER = "provider"  # the SMS provider refused it or could not be reached for the whole retry window
NOBODY_REACHED = "nobody_reached"  # a visitor's confirmation: neither the host nor reception could be told
COUNTRY_NOT_ALLOWED = "country_not_allowed"  # a visitor's confirmation to a country outside ALLOWED_COUNTRIES
BUDGET = "budget"  # a visitor's confirmation over the kiosk's SMS budget (R6)

# A visit's reception SMS that another (a sweeper, a webhook) claimed first.
ELSEWHERE = "elsewhere"

# A message row is settled this long after its retry window at the latest (a last attempt may still be running).
SETTLE_GRACE_SECONDS = 30
# How long a status write keeps trying while the database cannot be written; then the sweeper settles the row.
RECORD_WITHIN_SECONDS = 120
# How long a note of progress between retries waits for a locked database before it is skipped.
PROGRESS_WAIT_SECONDS = 0.5
# After the shutdown budget, how long woken retries get to record their outcome and tell reception.
STOP_GRACE_SECONDS = 2


@dataclass(frozen=True)
class OutgoingSms:
    visit_id: str
    recipient: str  # host, visitor or reception
    to: str = field(repr=False)
    body: str = field(repr=False)
    message_id: int | None = None  # the row in `messages` that shows this SMS's status
    # The retry window counts from here, so a message that waited in a busy pool is not sent late.
    queued_at: float = field(default_factory=lambda: monotonic())  # a lambda, so freezegun can move it

    @property
    def ref(self) -> str:
        return f"{self.visit_id}/{self.recipient}"


@dataclass(frozen=True)
class Confirmation:
    """The visitor's SMS, worded for both ways a visit can be announced. It goes out only once the host's SMS,
    or else reception's, was accepted, so it never says someone was told who was not."""

    message_id: int
    to: str = field(repr=False)
    host_told: str = field(repr=False)
    reception_told: str = field(repr=False)


@dataclass(frozen=True)
class Announcement:
    """One visit's SMS, in memory only."""

    host: OutgoingSms
    confirmation: Confirmation | None = None
    escalation: OutgoingSms | None = None  # to reception, when the host's SMS is not accepted in time
    fallback: OutgoingSms | None = None  # to reception, when the host cannot be reached at all
    # The admin banner's words if nobody could be told, made from the database only when needed; no visitor data.
    alert: Callable[[Database], str] | None = None

    @property
    def visit_id(self) -> str:
        return self.host.visit_id


def this_worker() -> str:
    """This process, as `pid:start time`: a pid alone can be taken by a new process after a crash."""
    pid = os.getpid()
    if pid not in _WORKER_TAGS:  # once per process: gunicorn forks after import
        _WORKER_TAGS[pid] = _process_tag(pid) or f"{pid}:"
    return _WORKER_TAGS[pid]


_WORKER_TAGS: dict[int, str] = {}


def is_alive(owner: str | None) -> bool:
    """Whether the process that wrote `owner` still runs (on this machine: SQLite files are never shared wider)."""
    if not owner:
        return False
    pid = int(owner.split(":", 1)[0])
    tag = _process_tag(pid)
    if tag is not None:
        return tag == owner
    if Path("/proc/self/stat").exists():
        return False  # /proc works here, so that process is gone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _process_tag(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22 is the start time; the command name before it may hold spaces, so count after its ")".
    return f"{pid}:{stat.rsplit(')', 1)[1].split()[19]}"


class Dispatcher:
    """A thread pool per worker process (created lazily, so it survives gunicorn's fork)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._executor: ThreadPoolExecutor | None = None
        self._pid: int | None = None
        self._futures: set[Future[None]] = set()
        self._runs: set[_Run] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def submit(self, fn: Callable[..., object], *args: Any) -> Future[None]:
        with self._lock:
            if self._pid != os.getpid():
                self._executor = ThreadPoolExecutor(self.app.config["SMS_WORKERS"], thread_name_prefix="sms")
                self._pid = os.getpid()
                self._futures = set()
                self._runs = set()
            assert self._executor is not None  # made above, once per process
            future = self._executor.submit(self._in_context, fn, *args)
            self._futures.add(future)
        future.add_done_callback(self._forget)
        return future

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every submitted send is settled (tests, shutdown); True if none is left."""
        with self._lock:
            pending = set(self._futures)
        return not wait(pending, timeout=timeout).not_done

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def sleep(self, seconds: float) -> bool:
        """Wait between retries; True when the worker is stopping instead."""
        return self._stop.wait(seconds)

    def shutdown(self, timeout: float) -> bool:
        """Give the sends in flight `timeout` seconds to settle (gunicorn's worker_exit hook calls this). Then stop
        retrying: a stopped host SMS tells reception while the names are still in memory, and what cannot be sent
        now is left to the other workers' sweepers. Returns True when everything had settled in time."""
        if self._pid != os.getpid() or self.drain(timeout):
            return True
        self._stop.set()
        self.drain(STOP_GRACE_SECONDS)
        with self.app.app_context():
            for run in list(self._runs):
                run.abandon()
        return False

    def track(self, run: "_Run", active: bool) -> None:
        with self._lock:
            (self._runs.add if active else self._runs.discard)(run)

    def _in_context(self, fn: Callable[..., object], *args: Any) -> None:
        with self.app.app_context():
            try:
                fn(*args)
            except Exception:
                # Never silent: a crash here would leave a row `sending`, which the sweeper then settles.
                logger.exception("SMS dispatch crashed")
                raise

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._futures.discard(future)


def init_app(app: Flask) -> None:
    app.extensions["dispatcher"] = Dispatcher(app)


def announce(announcement: Announcement) -> None:
    """Send a visit's SMS off the request thread: the host's first, then the visitor's confirmation; reception is
    told when the host's SMS is slow (HOST_ESCALATE_SECONDS) or fails for good."""
    _Run(current_app.extensions["dispatcher"], announcement).start(current_app.config["HOST_ESCALATE_SECONDS"])


def send_notice(to: str, body: str, *, ref: str) -> None:
    """One SMS to staff that belongs to no visit (a used-up budget, a refused visitor), sent with retries off the
    request thread. It has no `messages` row: the log and the admin area tell what became of it."""
    message = OutgoingSms(ref, "notice", to, body)
    current_app.extensions["dispatcher"].submit(send_with_retries, message)


def settle_seconds(cfg: Mapping[str, Any]) -> float:
    """How long a message may be in flight before the sweeper settles it: the whole retry window and one more try."""
    return cfg["SMS_RETRY_WINDOW_SECONDS"] + cfg["SMS_TIMEOUT_SECONDS"] + SETTLE_GRACE_SECONDS


def deadline_in(seconds: float) -> str:
    return store.timestamp(store.now() + timedelta(seconds=seconds))


def create_message(db: Database, visit_id: str, recipient: str, status: str = SENDING, *, reason: str | None = None,
                   settle_in: float | None = None) -> int:
    """A message row; one still to be sent belongs to this worker and must be settled within `settle_in` seconds."""
    row = {"visit_id": visit_id, "recipient": recipient, "status": status, "reason": reason,
           "updated_at": store.timestamp()}
    if status == SENDING:
        row.update(owner=this_worker(), deadline=deadline_in(settle_in or settle_seconds(current_app.config)))
    return cast(int, db.table("messages").insert(row).last_pk)  # set by the insert: the new row's integer id


def create_confirmation(db: Database, visit_id: str, to: str, *, host_told: str, reception_told: str) -> Confirmation:
    """The visitor's (or a teacher's) confirmation and its row, which waits for the host's SMS first and so may be in
    flight for two retry windows."""
    message_id = create_message(db, visit_id, "visitor", settle_in=2 * settle_seconds(current_app.config))
    return Confirmation(message_id, to, host_told, reception_told)


def claim_reception(db: Database, visit_id: str) -> int | None:
    """The visit's reception message, created if it has none yet (reception is told once per visit); its id, or
    None when it had one."""
    with store.write_transaction(db):
        if db.execute("SELECT 1 FROM messages WHERE visit_id = ? AND recipient = 'reception'",
                      [visit_id]).fetchone():
            return None
        return create_message(db, visit_id, "reception")


class _Run:
    """One visit's announcement on its way out. Its threads (host, reception, the escalation timer) decide under
    one lock who is told what, so the visitor's confirmation goes once and only after someone was told."""

    def __init__(self, dispatcher: Dispatcher, announcement: Announcement) -> None:
        self.dispatcher = dispatcher
        self.announcement = announcement
        self._lock = threading.Lock()
        self._tasks = 0
        self._timer: threading.Timer | None = None
        self.host_accepted: bool | None = None  # None while the host's SMS is in flight
        self.reception: str | bool | None = None  # None: not asked; SENDING; True or False once settled; ELSEWHERE
        self.reception_id: int | None = None
        self.confirmed = False  # the confirmation was sent, or settled as not sent
        self.alerted = False

    def start(self, escalate_after: float) -> None:
        if self.announcement.escalation is not None:
            self._timer = threading.Timer(escalate_after, self._escalate)
            self._timer.daemon = True
            self._timer.start()
        self._submit(self._announce_host)

    def _submit(self, fn: Callable[..., object], *args: Any) -> None:
        with self._lock:
            self._tasks += 1
            self.dispatcher.track(self, True)
        self.dispatcher.submit(self._task, fn, *args)

    def _task(self, fn: Callable[..., object], *args: Any) -> None:
        try:
            fn(*args)
        finally:
            with self._lock:
                self._tasks -= 1
                if self._tasks == 0:
                    self.dispatcher.track(self, False)

    def _announce_host(self) -> None:
        accepted = send_with_retries(self.announcement.host, on_accepted=self._host_accepted)
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            self.host_accepted = accepted
        if accepted:
            self._confirm(host_told=True)
        elif not self._tell_reception(self.announcement.fallback, "host_failed"):
            self._settle_if_unannounced()

    def _host_accepted(self) -> None:
        # Before its status is written, which a locked database can hold up: reception need not hear of it.
        with self._lock:
            self.host_accepted = True

    def _escalate(self) -> None:
        with self._lock:
            slow = self.host_accepted is None
        if slow:
            logger.warning("Host SMS for visit %s not accepted in time; telling reception",
                           self.announcement.visit_id)
            self._submit(self._tell_reception, self.announcement.escalation, "host_slow")

    def _tell_reception(self, message: OutgoingSms | None, cause: str) -> bool:
        """Send `message` to reception unless this visit's reception SMS is already under way; False if not sent.
        `cause` says why, for /metrics: host_slow or host_failed."""
        with self._lock:
            if message is None or self.reception is not None:
                return False
            self.reception = SENDING
        try:
            self.reception_id = claim_reception(store.get_db(), message.visit_id)
            if self.reception_id is None:  # a webhook or a sweeper is telling reception already
                with self._lock:
                    self.reception = ELSEWHERE
                return False
        except sqlite3.Error:
            # Telling someone matters more than recording it: send without a row.
            logger.exception("Reception message of visit %s could not be recorded; sending it anyway",
                             message.visit_id)
        metrics.escalated(cause)
        accepted = send_with_retries(replace(message, message_id=self.reception_id, queued_at=monotonic()),
                                     on_failure=self._alert)
        with self._lock:
            self.reception = accepted
        if accepted:
            self._confirm(host_told=False)
        else:
            self._settle_if_unannounced()
        return True

    def _confirm(self, *, host_told: bool) -> None:
        confirmation = self.announcement.confirmation
        with self._lock:
            if confirmation is None or self.confirmed:
                return
            self.confirmed = True
        body = confirmation.host_told if host_told else confirmation.reception_told
        _record(confirmation.message_id, SENDING, deadline=deadline_in(settle_seconds(current_app.config)))
        send_with_retries(OutgoingSms(self.announcement.visit_id, "visitor", confirmation.to, body,
                                      confirmation.message_id))

    def _settle_if_unannounced(self) -> None:
        """Once neither the host nor reception can be told: no confirmation goes out, and the admins are alerted."""
        with self._lock:
            if self.host_accepted is not False or self.reception in (SENDING, True) or self.confirmed:
                return
            self.confirmed = True
            # Reception's SMS is another's to send (a sweeper, a webhook): it alerts if that fails, and we cannot
            # tell the visitor who was reached.
            told_elsewhere = self.reception == ELSEWHERE
        confirmation = self.announcement.confirmation
        if confirmation is not None:
            _record(confirmation.message_id, FAILED, reason=None if told_elsewhere else NOBODY_REACHED)
            metrics.sms_settled("visitor", FAILED)
        if not told_elsewhere:
            self._alert()

    def _alert(self) -> None:
        """Tell the admins (the banner of the admin area), once: reception could not be texted about this visit, or
        there is no reception to text. Needs no SMS, so it reaches a desk even while the provider is down."""
        alert = self.announcement.alert
        with self._lock:
            if self.alerted or not alert or self.dispatcher.stopping:
                return
            self.alerted = True
        write(lambda db: self._raise(db, alert))

    def _raise(self, db: Database, alert: Callable[[Database], str]) -> None:
        # On this thread no location is current: the visit's tablet's gives the alert its clock and its admins.
        with locations.at(locations.of_visit(db, self.announcement.visit_id)):
            raise_alert(db, "visitor_unannounced", alert(db))

    def abandon(self) -> None:
        """The worker is stopping while a thread of this visit is still stuck in a call: settle the rows from here
        and leave telling reception to another worker's sweeper, which needs no visitor data for it."""
        with self._lock:
            host_pending, reception, confirmed = self.host_accepted is None, self.reception, self.confirmed
            self.confirmed = True
        if host_pending:
            _record(self.announcement.host.message_id, FAILED, reason=WORKER_STOPPED)
            metrics.sms_settled("host", FAILED)
        if reception == SENDING:
            _record(self.reception_id, SENDING, owner=None)
        confirmation = self.announcement.confirmation
        if confirmation is not None and not confirmed:
            _record(confirmation.message_id, FAILED, reason=WORKER_STOPPED)
            metrics.sms_settled("visitor", FAILED)


def _nothing() -> None:
    pass


def send_with_retries(message: OutgoingSms, *, on_failure: Callable[[], object] = _nothing,
                      on_accepted: Callable[[], object] = _nothing) -> bool:
    """Try until sent, a permanent error, the retry window closes or the worker stops. True when accepted.
    `on_failure` is called once, after the first attempt that fails; `on_accepted` as soon as the provider accepts."""
    cfg = current_app.config
    client = current_app.extensions["sms"]
    dispatcher = current_app.extensions["dispatcher"]
    window_ends = message.queued_at + cfg["SMS_RETRY_WINDOW_SECONDS"]
    if monotonic() > window_ends:
        logger.warning("SMS %s given up: it waited in the queue longer than the retry window", message.ref)
        return _give_up(message, 0, TIMED_OUT)
    attempt = 0
    while True:
        attempt += 1
        try:
            sid = client.send(message.to, message.body, ref=message.ref)
        except SmsSendError as e:
            error_code = e.code or e.status
            if e.needs_alert:
                _alert_provider_error(e, message)
            if attempt == 1:
                on_failure()
            delay = retry_delay(e, attempt, cfg)
            if delay is None or monotonic() + delay > window_ends:
                return _give_up(message, attempt, PROVIDER, error_code)
            _record(message.message_id, SENDING, attempt, error_code=error_code, progress=True)
            metrics.sms_retried(message.recipient, e.code, e.status)
            if dispatcher.sleep(delay):  # at once, when the worker is stopping
                return _give_up(message, attempt, WORKER_STOPPED, error_code)
        else:
            on_accepted()
            _record(message.message_id, SENT, attempt, sid=sid)
            metrics.sms_settled(message.recipient, SENT)
            return True


def _give_up(message: OutgoingSms, attempts: int, reason: str, error_code: int | None = None) -> bool:
    if reason == WORKER_STOPPED and message.recipient == "reception":
        # Reception's SMS needs no visitor data: another worker's sweeper sends it instead of this stopping one.
        logger.warning("SMS %s left to another worker: this one is stopping", message.ref)
        _record(message.message_id, SENDING, attempts, error_code=error_code, owner=None)
    else:
        _record(message.message_id, FAILED, attempts, error_code=error_code, reason=reason)
        metrics.sms_settled(message.recipient, FAILED)
    return False


def _alert_provider_error(error: SmsSendError, message: OutgoingSms) -> None:
    logger.error("ALERT: SMS provider error %s needs an administrator (visit %s)", error.code, message.visit_id)
    write(lambda db: raise_alert(db, "sms_provider", f"The SMS provider refused a message with error {error.code}: "
                                                      f"{PROVIDER_ALERTS.get(error.code, 'see the log')}."))


PROVIDER_ALERTS: dict[int | None, str] = {  # looked up by SmsSendError.code, which may be None
    20003: "the Twilio credentials are wrong",
    21408: "SMS to that country are not enabled in Twilio's geo permissions",
    30007: "Twilio's carrier filtered it as spam",
}


def retry_delay(error: SmsSendError, attempt: int, cfg: Mapping[str, Any]) -> float | None:
    """Seconds to wait before the next attempt, or None to give up (SECURITY.md R16)."""
    if error.permanent:
        return None
    if error.retry_once:
        return cfg["SMS_RETRY_BASE_SECONDS"] if attempt == 1 else None
    if error.transient:
        ceiling = min(cfg["SMS_RETRY_MAX_SECONDS"], cfg["SMS_RETRY_BASE_SECONDS"] * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter, not a secret)
    return None


_KEEP = object()


def _record(message_id: int | None, status: str, attempts: int | None = None, *, sid: str | None = None,
            error_code: int | None = None, reason: str | None = None, deadline: str | None = None,
            owner: str | None | object = _KEEP, progress: bool = False) -> None:
    """Write a message's status. A database that cannot be written is tried again for RECORD_WITHIN_SECONDS; after
    that the row stays `sending` and the sweeper settles it by its deadline. A `progress` note between retries is
    tried once, briefly: a locked database must not hold up the next attempt."""
    if message_id is None:
        return
    changes: dict[str, object] = {"status": status, "updated_at": store.timestamp()}
    optional = {"attempts": attempts, "sid": sid, "error_code": error_code, "reason": reason, "deadline": deadline}
    changes.update({key: value for key, value in optional.items() if value is not None})
    if owner is not _KEEP:
        changes.update(owner=owner, deadline=deadline or deadline_in(settle_seconds(current_app.config)))
    write(lambda db: db.table("messages").update(message_id, changes), what=f"status {status} of message {message_id}",
          within=PROGRESS_WAIT_SECONDS if progress else RECORD_WITHIN_SECONDS)


def write(change: Callable[[Database], object], *, what: str = "an alert", within: float | None = None) -> bool:
    """Run `change(db)` in a write transaction, trying again while the database cannot be written, for at most
    `within` seconds (RECORD_WITHIN_SECONDS); each try waits for another worker's lock up to BUSY_TIMEOUT."""
    give_up_at = monotonic() + (RECORD_WITHIN_SECONDS if within is None else within)
    attempt = 0
    while True:
        attempt += 1
        try:
            db = store.get_db()
            with store.busy_timeout(db, max(0.1, min(store.BUSY_TIMEOUT, give_up_at - monotonic()))), \
                    store.write_transaction(db):
                change(db)
            return True
        except sqlite3.Error as e:
            logger.warning("Could not write %s (try %s): %s", what, attempt, type(e).__name__)
        if monotonic() + 1 >= give_up_at or current_app.extensions["dispatcher"].sleep(1):
            logger.error("Gave up writing %s", what)
            return False
