"""An in-memory SMS backend for tests above the SMS layer: records an outbox, fails on request."""

import itertools
import threading
from dataclasses import dataclass

from kiosk.sms.base import SmsClient, SmsSendError


@dataclass(frozen=True)
class SentSms:
    to: str
    body: str


class FakeSmsClient(SmsClient):
    name = "fake"

    def __init__(self) -> None:
        self.outbox: list[SentSms] = []
        self.attempts: list[SentSms] = []
        self.redacted: list[str] = []  # SIDs, in the order redact() was called
        self._failures: list[tuple[str | None, int | None, int | None]] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def fail(self, *, to: str | None = None, code: int | None = None, status: int | None = 400, times: int = 1) -> None:
        """Make the next `times` sends (to `to`, or to anyone) fail with this provider error."""
        with self._lock:
            self._failures.extend([(to, code, status)] * times)

    def _send(self, to: str, body: str, *, ref: str) -> str:
        with self._lock:
            self.attempts.append(SentSms(to, body))
            for i, (failing_to, code, status) in enumerate(self._failures):
                if failing_to in (None, to):
                    del self._failures[i]
                    raise SmsSendError(f"fake failure for {ref}", code=code, status=status)
            self.outbox.append(SentSms(to, body))
            return f"SMfake{next(self._ids):030d}"

    def _redact(self, sid: str) -> None:
        with self._lock:
            self.redacted.append(sid)
