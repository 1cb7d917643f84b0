"""Twilio Programmable Messaging through the official SDK, with a timeout and a configurable API base URL."""

from collections.abc import Callable, Mapping
from typing import Any, Self, TypeVar
from urllib.parse import urlsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from kiosk import metrics
from kiosk.sms.base import SmsClient, SmsSendError

TWILIO_API_URL = "https://api.twilio.com"

T = TypeVar("T")


class ApiUrlHttpClient(TwilioHttpClient):
    """The SDK's own HTTP client, pointed at another Twilio-compatible base URL (a test server, a proxy)."""

    def __init__(self, api_url: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.api_url = api_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        # Keep only the path: the SDK moves the host to api.<edge>.<region>.twilio.com by itself when
        # TWILIO_EDGE or TWILIO_REGION is in the environment, which would bypass a test server or proxy.
        if self.api_url != TWILIO_API_URL:
            parts = urlsplit(url)
            url = self.api_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, url, *args, **kwargs)


class TwilioSmsClient(SmsClient):
    name = "twilio"

    def __init__(self, *, account_sid: str, auth_token: str, sender: str | None = None,
                 messaging_service_sid: str | None = None, api_url: str = TWILIO_API_URL, timeout: float = 10,
                 status_callback: str | None = None) -> None:
        self.client = Client(account_sid, auth_token, http_client=ApiUrlHttpClient(api_url, timeout))
        self.sender = sender
        self.messaging_service_sid = messaging_service_sid
        self.status_callback = status_callback

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Self:
        public_url = config["PUBLIC_URL"]
        return cls(
            account_sid=config["TWILIO_ACCOUNT_SID"],
            auth_token=config["TWILIO_AUTH_TOKEN"],
            sender=config["TWILIO_FROM"],
            messaging_service_sid=config["TWILIO_MESSAGING_SERVICE_SID"],
            api_url=config["TWILIO_API_URL"],
            timeout=config["SMS_TIMEOUT_SECONDS"],
            status_callback=f"{public_url.rstrip('/')}/webhooks/twilio/status" if public_url else None,
        )

    def _send(self, to: str, body: str, *, ref: str) -> str:
        options: dict[str, str | None] = {"to": to, "body": body}
        if self.messaging_service_sid:
            options["messaging_service_sid"] = self.messaging_service_sid
        else:
            options["from_"] = self.sender
        if self.status_callback:
            options["status_callback"] = self.status_callback
        return _call(lambda: self.client.messages.create(**options).sid, ref, "send")

    def _redact(self, sid: str) -> None:
        # Twilio's documented redaction: an empty body, accepted once the message's status is final.
        _call(lambda: self.client.messages(sid).update(body=""), sid, "redact")


def _call(request: Callable[[], T], ref: str, operation: str) -> T:
    """Run one REST call, timed for /metrics; every failure becomes an SmsSendError with Twilio's code and HTTP
    status."""
    try:
        with metrics.twilio_call(operation):
            return request()
    except (TwilioRestException, TwilioServiceException) as e:
        # Twilio's error text can quote the recipient's number: keep only the codes, and drop the chain so
        # no traceback printed later can carry it.
        raise SmsSendError(f"Twilio refused {ref}", code=e.code, status=e.status) from None
    except requests.Timeout as e:
        raise SmsSendError(f"Twilio did not answer {ref} in time") from e
    except (requests.RequestException, TwilioException) as e:
        raise SmsSendError(f"Twilio could not be reached for {ref}") from e
    except (ValueError, KeyError, TypeError):
        # An answer the SDK cannot read (HTML from a proxy, a 201 that is not JSON). The message may or may not
        # exist at Twilio; we try again, since a second SMS to the host is better than none (docs/sms.md).
        raise SmsSendError(f"Twilio's answer for {ref} could not be read") from None
