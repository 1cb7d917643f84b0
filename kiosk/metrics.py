"""The app's Prometheus metrics at /metrics (docs/monitoring.md): counts of what happened, never who it happened to.

Every label value comes from one of the fixed sets below; a value outside its set is counted as "other", so no
name, number, id, tablet name or free text can ever become a label (tests/test_metrics.py plants canaries).

Under gunicorn, prometheus-client runs in multiprocess mode: each worker writes its counts to files in
PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py sets, makes and empties it before the workers start), and a scrape adds
up the files of every worker, living or dead. Without it (flask run, the tests) the counts live in this process.
"""

import hmac
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from time import monotonic

from flask import Flask, Response, abort, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlite_utils import Database

from kiosk.db import get_db

logger = logging.getLogger("kiosk.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
OTHER = "other"
BEARER = "bearer "

# The label values, each a fixed set.
KINDS = ("walk-in", "school")
OUTCOMES = ("checked_in", "refused")
RECIPIENTS = ("host", "visitor", "reception", "notice")  # a school group's teacher is its "visitor"
# sent/failed: how our sending ended; delivered/undelivered: what Twilio's status callbacks said of a sent one.
SMS_STATUSES = ("sent", "failed", "delivered", "undelivered")
RETRY_CAUSES = ("no_answer", "rate_limited", "server_error", "handset_unreachable")
# The abuse guard's reasons (kiosk/guard/abuse.py; tests/test_metrics.py checks that every one it raises is here).
REFUSAL_REASONS = ("honeypot", "bad_token", "too_fast", "form_expired", "token_reused", "device_limit",
                   "number_hour_limit", "number_day_limit", "prefix_blocked")
ESCALATION_CAUSES = ("host_slow", "host_failed", "host_undelivered", "sweeper", "host_silent", "host_declined")
# What became of a host's reply (kiosk/messaging/inbound.py); a duplicate delivery of one counts as "duplicate".
REPLY_OUTCOMES = ("acknowledged", "declined", "not_a_host", "no_visit", "keyword", "duplicate")
# kiosk/retention.py's names for what it deleted, and their labels.
PURGED = {"visit records": "visits", "abuse counters": "abuse_counters", "pairing codes": "pairing_codes",
          "admin sessions": "admin_sessions", "webhook receipts": "webhook_receipts",
          "import previews": "import_previews", "school visits": "school_visits",
          "apprenticeship consents": "consents", "reply counts": "reply_counts"}
TWILIO_OPERATIONS = ("send", "redact")
TWILIO_OUTCOMES = ("ok", "error")
# Twilio answers in a fraction of a second; a call that times out (KIOSK_SMS_TIMEOUT_SECONDS, 10) lands near the top.
TWILIO_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 15.0)

# Our own registry: the scrape shows these and nothing of the process or of other libraries. No `_created` series,
# which multiprocess mode has not either: a scrape looks the same under gunicorn and without it.
disable_created_metrics()
REGISTRY = CollectorRegistry()
CHECKINS = Counter("velkommen_checkins_total", "Check-ins by kind (walk-in, school) and outcome (checked_in, "
                   "refused by the abuse guard).", ["kind", "outcome"], registry=REGISTRY)
SMS = Counter("velkommen_sms_total", "SMS by recipient and the status reached: sent or failed once, when our "
              "sending ends; a sent one later delivered or undelivered, as Twilio's callbacks say.",
              ["recipient", "status"], registry=REGISTRY)
RETRIES = Counter("velkommen_sms_retries_total", "SMS attempts that failed and are tried again, by recipient and "
                  "cause.", ["recipient", "cause"], registry=REGISTRY)
TWILIO_SECONDS = Histogram("velkommen_twilio_request_seconds", "Time of each call to Twilio's API, by operation "
                           "(send, redact) and outcome (ok, error).", ["operation", "outcome"],
                           buckets=TWILIO_BUCKETS, registry=REGISTRY)
REFUSALS = Counter("velkommen_refusals_total", "Check-ins refused by the abuse guard, by reason.", ["reason"],
                   registry=REGISTRY)
ESCALATIONS = Counter("velkommen_escalations_total", "Visits whose host could not be reached, so reception was "
                      "texted, by cause.", ["cause"], registry=REGISTRY)
REPLIES = Counter("velkommen_replies_total", "Inbound SMS by outcome: a host on the way (acknowledged) or unable to "
                  "come (declined); ignored as from no host, matching no visit, Twilio's keyword, or a duplicate.",
                  ["outcome"], registry=REGISTRY)
PURGED_ROWS = Counter("velkommen_purged_total", "Rows deleted by the retention rules, by what they held.", ["what"],
                      registry=REGISTRY)
PAST_DEADLINE = "velkommen_messages_past_deadline"


def _label(value: str, allowed: Iterable[str]) -> str:
    return value if value in allowed else OTHER


# What the domains call, one line per event.


def checked_in(kind: str) -> None:
    CHECKINS.labels(kind=_label(kind, KINDS), outcome="checked_in").inc()


def refused(reason: str) -> None:
    """A check-in the abuse guard turned away."""
    REFUSALS.labels(reason=_label(reason, REFUSAL_REASONS)).inc()
    CHECKINS.labels(kind="walk-in", outcome="refused").inc()


def sms_settled(recipient: str, status: str) -> None:
    """An SMS reached `status`: sent or failed when our sending ends, delivered or undelivered by Twilio's word."""
    SMS.labels(recipient=_label(recipient, RECIPIENTS), status=_label(status, SMS_STATUSES)).inc()


def sms_retried(recipient: str, code: int | None, status: int | None) -> None:
    """An attempt failed with Twilio's error `code` or HTTP `status` (None: no answer), and will be tried again."""
    RETRIES.labels(recipient=_label(recipient, RECIPIENTS), cause=_retry_cause(code, status)).inc()


def _retry_cause(code: int | None, status: int | None) -> str:
    if code is None and status is None:
        return "no_answer"
    if status == 429 or code == 20429:
        return "rate_limited"
    if code == 30003:
        return "handset_unreachable"
    return "server_error" if status is not None and status >= 500 else OTHER


def escalated(cause: str) -> None:
    """Reception is texted about a visit whose host could not be reached."""
    ESCALATIONS.labels(cause=_label(cause, ESCALATION_CAUSES)).inc()


def replied(outcome: str) -> None:
    """An inbound SMS was handled with this outcome."""
    REPLIES.labels(outcome=_label(outcome, REPLY_OUTCOMES)).inc()


def purged(counts: Mapping[str, int]) -> None:
    """kiosk/retention.py's {what: how many} of one purge."""
    for what, count in counts.items():
        PURGED_ROWS.labels(what=PURGED.get(what, OTHER)).inc(count)


@contextmanager
def twilio_call(operation: str) -> Iterator[None]:
    """Time one call to Twilio's API; a call that raises counts as an error."""
    started, outcome = monotonic(), "error"
    try:
        yield
        outcome = "ok"
    finally:
        TWILIO_SECONDS.labels(operation=_label(operation, TWILIO_OPERATIONS), outcome=outcome).observe(
            monotonic() - started)


# The scrape


def init_app(app: Flask, *, past_deadline: Callable[[Database], int]) -> None:
    """Serve /metrics; `past_deadline(db)` counts the messages in flight past their deadline at each scrape."""
    app.extensions["metrics"] = past_deadline
    app.add_url_rule("/metrics", "metrics", serve)
    if folder := os.environ.get(MULTIPROC_ENV):
        os.makedirs(folder, exist_ok=True)  # with --preload, gunicorn makes the app before on_starting runs
    _start_every_series_at_zero()


def _start_every_series_at_zero() -> None:
    """Make each series exist from the start: Prometheus's increase() and rate() cannot see the first count of a
    series that appears with it, and a panel or an alert would find no data where there is a 0."""
    for kind, outcome in [("walk-in", "checked_in"), ("walk-in", "refused"), ("school", "checked_in")]:
        CHECKINS.labels(kind=kind, outcome=outcome)
    for recipient in RECIPIENTS:
        for status in SMS_STATUSES:
            SMS.labels(recipient=recipient, status=status)
        for cause in RETRY_CAUSES:
            RETRIES.labels(recipient=recipient, cause=cause)
    for operation in TWILIO_OPERATIONS:
        for outcome in TWILIO_OUTCOMES:
            TWILIO_SECONDS.labels(operation=operation, outcome=outcome)
    for counter, label, values in [(REFUSALS, "reason", REFUSAL_REASONS), (ESCALATIONS, "cause", ESCALATION_CAUSES),
                                   (REPLIES, "outcome", REPLY_OUTCOMES), (PURGED_ROWS, "what", PURGED.values())]:
        for value in values:
            counter.labels(**{label: value})


def serve() -> Response:
    """The metrics, for a scraper that sends `Authorization: Bearer <KIOSK_METRICS_TOKEN>`; 404 while it is unset."""
    token = current_app.config["METRICS_TOKEN"]
    if not token:
        abort(404)
    if not _bearer_matches(request.headers.get("Authorization", ""), token):
        # Path and address only: never the header, which may hold the real token with a typo.
        logger.warning("Metrics scrape refused from %s: missing or wrong bearer token", request.remote_addr)
        response = Response("A valid bearer token is required.\n", 401, content_type="text/plain; charset=utf-8")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
    else:
        response = Response(exposition(current_app.extensions["metrics"](get_db())), content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


def _bearer_matches(header: str, token: str) -> bool:
    presented = header[len(BEARER):].strip() if header[:len(BEARER)].lower() == BEARER else ""
    return hmac.compare_digest(presented.encode(), token.encode())


def exposition(past_deadline: int) -> bytes:
    """The text a scrape gets: every worker's counts (or this process's), and the gauge read from the database."""
    registry = CollectorRegistry()
    folder = os.environ.get(MULTIPROC_ENV)
    if folder:
        MultiProcessCollector(registry, path=folder)
    else:
        registry.register(_Collected(REGISTRY.collect()))
    gauge = GaugeMetricFamily(PAST_DEADLINE, "SMS still being sent past their deadline: more than zero for a while "
                                             "means no sweep runs (as /healthz's overdue).", value=past_deadline)
    registry.register(_Collected([gauge]))
    return generate_latest(registry)


class _Collected:
    """Metric families gathered already, for the registry of one scrape."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self.families
