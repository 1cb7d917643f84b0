"""Sending a visit's SMS off the request thread: concurrent, bounded retries, status written per recipient.

The visitor's name and number exist only in the OutgoingSms objects held by these threads; they are never
written to the database or a log, and are dropped when the send is settled.
"""

import logging
import os
import random
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from time import monotonic

from flask import current_app

from kiosk import db as store
from kiosk.sms import SmsSendError

logger = logging.getLogger("kiosk.notify")

SENDING, SENT, FAILED = "sending", "sent", "failed"
# Set only by Twilio status callbacks (kiosk/delivery.py), after SENT.
DELIVERED, UNDELIVERED = "delivered", "undelivered"


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
    def ref(self):
        return f"{self.visit_id}/{self.recipient}"


class Dispatcher:
    """A thread pool per worker process (created lazily, so it survives gunicorn's fork)."""

    def __init__(self, app):
        self.app = app
        self._executor = None
        self._pid = None
        self._futures = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def submit(self, fn, *args):
        with self._lock:
            if self._pid != os.getpid():
                self._executor = ThreadPoolExecutor(self.app.config["SMS_WORKERS"], thread_name_prefix="sms")
                self._pid = os.getpid()
                self._futures = set()
            future = self._executor.submit(self._in_context, fn, *args)
            self._futures.add(future)
        future.add_done_callback(self._forget)
        return future

    def drain(self, timeout=None):
        """Wait until every submitted send is settled (tests, shutdown); True if none is left."""
        with self._lock:
            pending = set(self._futures)
        return not wait(pending, timeout=timeout).not_done

    def sleep(self, seconds):
        self._stop.wait(seconds)

    def _in_context(self, fn, *args):
        with self.app.app_context():
            try:
                fn(*args)
            except Exception:
                logger.exception("SMS dispatch crashed")
                raise

    def _forget(self, future):
        with self._lock:
            self._futures.discard(future)


def init_app(app):
    app.extensions["dispatcher"] = Dispatcher(app)


def dispatch(messages, *, fallback=None):
    """Send each message concurrently; if the host's fails for good, send `fallback` (to reception)."""
    dispatcher = current_app.extensions["dispatcher"]
    for message in messages:
        dispatcher.submit(_deliver, message, fallback if message.recipient == "host" else None)


def send_notice(to, body, *, ref):
    """One SMS to staff that belongs to no visit (the SMS budget is used up), sent once off the request thread.
    It has no `messages` row, so no retries: the alert in the admin area says the same."""
    current_app.extensions["dispatcher"].submit(_send_notice, to, body, ref)


def _send_notice(to, body, ref):
    try:
        current_app.extensions["sms"].send(to, body, ref=ref)
    except SmsSendError:
        logger.warning("Notice %s to reception was not sent", ref)  # the SMS client logged the error code


def create_message(db, visit_id, recipient, status=SENDING):
    return db["messages"].insert(
        {"visit_id": visit_id, "recipient": recipient, "status": status, "updated_at": store.timestamp()}
    ).last_pk


def _deliver(message, fallback):
    delivered = send_with_retries(message)
    if not delivered and fallback is not None:
        logger.warning("Host SMS for visit %s failed; telling reception", message.visit_id)
        message_id = create_message(store.get_db(), fallback.visit_id, fallback.recipient)
        send_with_retries(replace(fallback, message_id=message_id, queued_at=monotonic()))


def send_with_retries(message):
    """Try until sent, a permanent error, or the retry window closes. Returns True when the SMS was accepted."""
    cfg = current_app.config
    client = current_app.extensions["sms"]
    dispatcher = current_app.extensions["dispatcher"]
    deadline = message.queued_at + cfg["SMS_RETRY_WINDOW_SECONDS"]
    if monotonic() > deadline:
        logger.warning("SMS %s given up: it waited in the queue longer than the retry window", message.ref)
        _record(message, FAILED, 0)
        return False
    attempt = 0
    while True:
        attempt += 1
        try:
            sid = client.send(message.to, message.body, ref=message.ref)
        except SmsSendError as e:
            delay = retry_delay(e, attempt, cfg)
            if delay is None or monotonic() + delay > deadline:
                _record(message, FAILED, attempt, error_code=e.code or e.status)
                if e.needs_alert:
                    logger.error("ALERT: SMS provider error %s needs an administrator (visit %s)",
                                 e.code, message.visit_id)
                return False
            _record(message, SENDING, attempt, error_code=e.code or e.status)
            dispatcher.sleep(delay)
        else:
            _record(message, SENT, attempt, sid=sid)
            return True


def retry_delay(error, attempt, cfg):
    """Seconds to wait before the next attempt, or None to give up (SECURITY.md R16)."""
    if error.permanent:
        return None
    if error.retry_once:
        return cfg["SMS_RETRY_BASE_SECONDS"] if attempt == 1 else None
    if error.transient:
        ceiling = min(cfg["SMS_RETRY_MAX_SECONDS"], cfg["SMS_RETRY_BASE_SECONDS"] * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter, not a secret)
    return None


def _record(message, status, attempts, *, sid=None, error_code=None):
    changes = {"status": status, "attempts": attempts, "updated_at": store.timestamp()}
    if sid:
        changes["sid"] = sid
    if error_code:
        changes["error_code"] = error_code
    store.get_db()["messages"].update(message.message_id, changes)
