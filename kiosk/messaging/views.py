"""Twilio webhooks: message status callbacks and inbound replies.

Every route checks Twilio's signature first (SECURITY.md R11); the blueprint is CSRF-exempt for that reason.
"""

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, request
from flask.typing import ResponseReturnValue

from kiosk.messaging import delivery, inbound

bp = Blueprint("webhooks", __name__)

logger = logging.getLogger("kiosk.webhooks")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def twilio_signed(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """Answer 403 unless the request carries Twilio's signature for our public URL."""

    @functools.wraps(view)
    def checked(**kwargs: Any) -> ResponseReturnValue:
        if not delivery.can_verify():
            logger.warning("Webhook %s refused from %s: KIOSK_PUBLIC_URL or TWILIO_AUTH_TOKEN is not set, so "
                           "signatures cannot be checked", request.path, request.remote_addr)
            abort(403)
        if not delivery.signed_by_twilio(_signed_path(), request.form, request.headers.get("X-Twilio-Signature")):
            # Path and address only: the form can hold phone numbers and message text (R31).
            logger.warning("Webhook %s refused from %s: bad or missing Twilio signature",
                           request.path, request.remote_addr)
            abort(403)
        return view(**kwargs)

    return checked


def _signed_path() -> str:
    # Twilio signs the whole URL it called, query string included.
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")


@bp.post("/twilio/status")
@twilio_signed
def status_callback() -> tuple[dict[str, list[str]], int] | tuple[str, int]:
    missing = delivery.missing_fields(request.form)
    if missing:
        return {"errors": missing}, 400
    delivery.handle_status_callback(request.form, request.headers.get("I-Twilio-Idempotency-Token"))
    return "", 204


@bp.post("/twilio/inbound")
@twilio_signed
def inbound_reply() -> Response | tuple[dict[str, list[str]], int]:
    """A host's reply to the arrival SMS (kiosk/messaging/inbound.py). The answer is empty TwiML: no SMS back, and
    STOP, START and HELP stay Twilio's to handle; we keep and log nothing of a reply's text or number (R15)."""
    missing = delivery.missing_fields(request.form, inbound.REQUIRED)
    if missing:
        return {"errors": missing}, 400
    inbound.handle_reply(request.form)
    return Response(EMPTY_TWIML, mimetype="text/xml")
