"""The SMS boundary: one base class that times and logs, one exception type for every provider failure."""

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, Self

from kiosk.phone import mask

logger = logging.getLogger("kiosk.sms")

# Twilio error codes (SECURITY.md R16): the message can never be delivered, so sending again only costs money.
PERMANENT_CODES = frozenset({21211, 21408, 21610, 21614, 30005, 30006, 30007})
# A human must act as well: wrong credentials, a country not enabled, or messages filtered as spam.
ALERT_CODES = frozenset({20003, 21408, 30007})
# The handset was unreachable: worth one delayed retry, not more.
RETRY_ONCE_CODES = frozenset({30003})
RATE_LIMIT_CODES = frozenset({20429})


class SmsSendError(Exception):
    """A message was not accepted. `code` is the provider's error code, `status` the HTTP status;
    both are None when no answer came (timeout, connection refused).

    The message never holds the recipient or the body: provider error texts can quote the number.
    """

    def __init__(self, message: str, *, code: int | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status

    @property
    def permanent(self) -> bool:
        if self.code in PERMANENT_CODES:
            return True
        if self.transient or self.retry_once:
            return False
        return self.status is not None and 400 <= self.status < 500

    @property
    def retry_once(self) -> bool:
        return self.code in RETRY_ONCE_CODES

    @property
    def transient(self) -> bool:
        """No answer, rate limited or a server error: safe to try again after a pause."""
        return (
            (self.status is None and self.code is None)  # also an answer that could not be read
            or self.status == 429
            or self.code in RATE_LIMIT_CODES
            or (self.status is not None and self.status >= 500)
        )

    @property
    def needs_alert(self) -> bool:
        return self.code in ALERT_CODES


class SmsClient(ABC):
    """Send one SMS; subclasses implement only _send and return the provider's message id."""

    name: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Self:
        return cls()

    def send(self, to: str, body: str, *, ref: str) -> str:
        """Send `body` to the E.164 number `to`; `ref` (a visit id and recipient) goes into the log."""
        start = time.monotonic()
        try:
            sid = self._send(to, body, ref=ref)
        except SmsSendError as e:
            logger.warning(
                "SMS %s to %s not accepted by %s: code=%s status=%s (%s)",
                ref, mask(to), self.name, e.code, e.status, e,
            )
            raise
        except Exception as e:
            # A fault of the provider's library we did not foresee: still one exception type, retried as transient.
            # Only its type is logged: its text could quote the number.
            logger.error("SMS %s to %s failed in %s with %s", ref, mask(to), self.name, type(e).__name__)
            raise SmsSendError(f"{self.name} failed unexpectedly for {ref}") from None
        logger.info("SMS %s to %s accepted by %s as %s in %.0f ms",
                    ref, mask(to), self.name, sid, (time.monotonic() - start) * 1000)
        return sid

    def redact(self, sid: str) -> None:
        """Blank the body of the sent message `sid` in the provider's logs (SECURITY.md R19)."""
        try:
            self._redact(sid)
        except SmsSendError as e:
            logger.warning("Message %s not redacted by %s: code=%s status=%s", sid, self.name, e.code, e.status)
            raise
        logger.info("Message %s redacted by %s", sid, self.name)

    @abstractmethod
    def _send(self, to: str, body: str, *, ref: str) -> str:
        ...

    @abstractmethod
    def _redact(self, sid: str) -> None:
        ...
