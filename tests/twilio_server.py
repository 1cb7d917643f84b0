"""A Twilio-compatible HTTP server for tests: the real twilio SDK talks to it over HTTP (the team's DESIGN.md,
Testing).

It creates messages (POST .../Messages.json), updates them (POST .../Messages/{sid}.json; an empty Body is
Twilio's redaction) and deletes them (DELETE .../Messages/{sid}.json) like Twilio's REST API, records every
request, and can be told to answer the next requests, to anyone or to one number, with a Twilio error, a bare 5xx,
a hang, or a 201 that is not JSON; redactions have their own queue of answers:

    with TwilioServer(account_sid, auth_token) as server:
        server.fail(21211, to="+4799999999")
        server.hang(5, times=2)
        server.fail_redaction(20009)

For `flask doctor` it also answers what an operator's account holds: the account itself (GET
/2010-04-01/Accounts/{sid}.json, with a status that can be set), its incoming phone numbers (GET
.../IncomingPhoneNumbers.json, filtered by PhoneNumber) with their SMS webhook, and messaging services (GET
/v1/Services/{sid}: the SDK asks messaging.twilio.com, and kiosk/sms/twilio.py keeps only the path). Its `Date`
header can run fast or slow:

        server.add_number("+4759440000", sms_url="https://kiosk.example.no/webhooks/twilio/inbound")
        server.add_messaging_service("MG...", inbound_request_url="")
        server.set_account_status("suspended")
        server.skew_clock(-120)  # the server's Date header says two minutes earlier

And it delivers a host's reply to the number's incoming-message webhook, signed as Twilio signs it:

        server.send_reply(from_="+4741234567", body="5 min", to="+4759440000", deliver_to=gunicorn_url)
"""

import base64
import json
import random
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import requests
from twilio.request_validator import RequestValidator

MESSAGES = re.compile(r"/2010-04-01/Accounts/(?P<account>\w+)/Messages\.json")
MESSAGE = re.compile(r"/2010-04-01/Accounts/(?P<account>\w+)/Messages/(?P<sid>\w+)\.json")
ACCOUNT = re.compile(r"/2010-04-01/Accounts/(?P<account>\w+)\.json")
NUMBERS = re.compile(r"/2010-04-01/Accounts/(?P<account>\w+)/IncomingPhoneNumbers\.json")
SERVICE = re.compile(r"/v1/Services/(?P<service>\w+)")  # on messaging.twilio.com
# A request's method and path -> what answers it; a path with an account needs this server's account SID.
ROUTES = [("POST", MESSAGES, "_create"), ("POST", MESSAGE, "_update"), ("DELETE", MESSAGE, "_delete"),
          ("GET", ACCOUNT, "_fetch_account"), ("GET", NUMBERS, "_list_numbers"),
          ("GET", SERVICE, "_fetch_service")]

# Twilio error code -> HTTP status and message, worded as Twilio words it (some quote the recipient's number).
ERRORS = {
    20003: (401, "Authenticate"),
    # The HTTP status of 20009 is not in our stored copy of Twilio's docs; 409 is this server's choice.
    20009: (409, "Cannot modify or delete this message before it has reached a final status"),
    20404: (404, "The requested resource {path} was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "An internal server error has occurred"),
    21211: (400, "The 'To' number {to} is not a valid phone number."),
    21408: (400, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: {to}."),
    21602: (400, "Message body is required."),
    21603: (400, "The source 'from' phone number is required to send an SMS"),
    21604: (400, "A 'To' phone number is required."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21614: (400, "'To' number {to} is not a valid mobile number"),
    30003: (400, "Unreachable destination handset"),
    30005: (400, "Unknown destination handset"),
    30006: (400, "Landline or unreachable carrier"),
    30007: (400, "Message filtered"),
}
HTTP_STATUS_CODES = {429: 20429, 500: 20500}  # fail(429) and fail(500) mean Twilio's JSON errors for these


@dataclass(frozen=True)
class Answer:
    """What to answer instead of creating a message: a Twilio error (code), a bare status, after a hang."""

    status: int
    code: int | None = None
    hang: float = 0


@dataclass
class Request:
    """One request as the server saw it; `status` is None while the server has not answered yet."""

    method: str
    path: str
    account: str | None
    form: dict
    query: dict = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)
    status: int | None = None
    sid: str | None = None  # the message created, updated or deleted


class TwilioServer:
    """Twilio's Messages API (and the account's numbers and services) on 127.0.0.1 and an ephemeral port; use as a
    context manager."""

    def __init__(self, account_sid, auth_token):
        self.account_sid = account_sid
        self._auth_token = auth_token
        self._authorization = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self.account_status = "active"
        self.numbers = {}  # phone number -> the IncomingPhoneNumber as answered
        self.services = {}  # messaging service sid -> the Service as answered
        self.clock_skew = 0.0  # seconds added to the time in the Date header
        self.latency = None  # (low, high): each message is answered after a random delay in this range (bench/load.py)
        self.requests = []
        self._answers = []  # (to or None, Answer), first match wins
        self._redaction_answers = []  # (None, Answer)
        self.messages = {}  # sid -> the message as last answered
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.twilio = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self.url = f"http://127.0.0.1:{self._httpd.server_port}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def stop(self):
        """Stop serving (the port then refuses connections); hanging requests end at once."""
        if not self._stopping.is_set():
            self._stopping.set()
            self._httpd.shutdown()
            self._httpd.server_close()

    def fail(self, code, *, to=None, times=1):
        """Answer the next `times` messages (to `to`, or to anyone) with Twilio's JSON error for `code`."""
        code = HTTP_STATUS_CODES.get(code, code)
        self._queue(Answer(ERRORS[code][0], code), to, times)

    def fail_plain(self, status, *, to=None, times=1):
        """Answer with a bare HTTP status and an HTML body, as a load balancer in trouble does."""
        self._queue(Answer(status), to, times)

    def garble(self, *, to=None, times=1):
        """Answer 201 Created with a body that is not JSON, as a broken proxy might; no message is created."""
        self._queue(Answer(201), to, times)

    def hang(self, seconds, *, to=None, times=1):
        """Wait `seconds` (or until stop), then answer 504: the message was never created."""
        self._queue(Answer(504, hang=seconds), to, times)

    def recover(self):
        """Forget every queued failure and hang: the next requests are answered normally."""
        with self._lock:
            self._answers.clear()
            self._redaction_answers.clear()

    def fail_redaction(self, code, *, times=1):
        """Answer the next `times` message updates (redactions) with Twilio's JSON error for `code`."""
        self._queue(Answer(ERRORS[code][0], code), None, times, self._redaction_answers)

    def hang_redaction(self, seconds, *, times=1):
        """Wait `seconds` (or until stop) before answering the next `times` message updates with 504."""
        self._queue(Answer(504, hang=seconds), None, times, self._redaction_answers)

    def set_account_status(self, status):
        """The account's status from now on: active, suspended or closed."""
        self.account_status = status

    def add_number(self, phone_number, *, sms_url="", sms_method="POST"):
        """Put an incoming phone number on the account, with its incoming-message webhook ("" for none)."""
        self.numbers[phone_number] = _number(self.account_sid, phone_number, sms_url, sms_method)

    def add_messaging_service(self, sid, *, inbound_request_url="", inbound_method="POST"):
        """Put a messaging service on the account, with its incoming-message webhook ("" for none)."""
        self.services[sid] = _service(self.account_sid, sid, inbound_request_url, inbound_method)

    def send_reply(self, *, from_, body, to, deliver_to, opt_out_type=None):
        """An SMS that `from_` sent to our number `to` (one added with add_number), delivered as Twilio delivers it:
        a POST of Twilio's inbound parameters to the number's incoming-message webhook, signed by RequestValidator
        with this account's auth token for that webhook URL. The POST goes to `deliver_to` (the address a proxy
        forwards that URL to, such as gunicorn on 127.0.0.1), with the same path; returns the requests Response."""
        webhook = self.numbers[to]["sms_url"]
        sid = "SM" + secrets.token_hex(16)
        params = {"ToCountry": "NO", "ToState": "", "SmsMessageSid": sid, "NumMedia": "0", "ToCity": "",
                  "FromZip": "", "SmsSid": sid, "FromState": "", "SmsStatus": "received", "FromCity": "",
                  "Body": body, "FromCountry": "NO", "To": to, "ToZip": "", "NumSegments": "1", "MessageSid": sid,
                  "AccountSid": self.account_sid, "From": from_, "ApiVersion": "2010-04-01"}
        if opt_out_type:
            params["OptOutType"] = opt_out_type
        signature = RequestValidator(self._auth_token).compute_signature(webhook, params)
        path = "/" + webhook.split("://", 1)[1].split("/", 1)[1]
        return requests.post(deliver_to.rstrip("/") + path, data=params, timeout=10, headers={
            "X-Twilio-Signature": signature, "I-Twilio-Idempotency-Token": secrets.token_hex(16)})

    def skew_clock(self, seconds):
        """Make the Date header of every answer `seconds` later (earlier, if negative) than the time."""
        self.clock_skew = seconds

    def posts(self, to=None):
        """The message requests received, answered or not (to `to` only, if given)."""
        return [r for r in list(self.requests)
                if r.method == "POST" and MESSAGES.fullmatch(r.path) and to in (None, r.form.get("To"))]

    def redactions(self):
        """The message updates with an empty Body that Twilio would have accepted (answered 200)."""
        return [r for r in list(self.requests)
                if r.method == "POST" and MESSAGE.fullmatch(r.path) and r.form == {"Body": ""} and r.status == 200]

    def accepted(self, to=None):
        """The message requests that created a message (answered 201)."""
        return [r for r in self.posts(to) if r.status == 201]

    def _queue(self, answer, to, times, answers=None):
        with self._lock:
            (self._answers if answers is None else answers).extend([(to, answer)] * times)

    def _next_answer(self, to, answers=None):
        answers = self._answers if answers is None else answers
        with self._lock:
            for i, (wanted, _) in enumerate(answers):
                if wanted in (None, to):
                    return answers.pop(i)[1]
        return None

    def respond(self, method, path, authorization, form, query=None):
        """Record and answer one request: (HTTP status, body as a dict for JSON, bytes, or None)."""
        handler, route = _route(method, path)
        request = Request(method, path, route and route.groupdict().get("account"), form, query or {})
        with self._lock:
            self.requests.append(request)
        if route is None:
            status, body = _error(20404, path=path)
        elif authorization != self._authorization or request.account not in (None, self.account_sid):
            status, body = _error(20003)
        else:
            status, body = getattr(self, handler)(request, route)
        request.status = status
        return status, body

    def _delete(self, request, route):
        request.sid = route["sid"]
        return 204, None

    def _fetch_account(self, request, route):
        return 200, _account(self.account_sid, self._auth_token, self.account_status)

    def _list_numbers(self, request, route):
        """Twilio's list of the account's numbers, one page. PhoneNumber filters them as Twilio does for a partial
        number: every number that holds it is listed."""
        wanted = request.query.get("PhoneNumber", "")
        found = [number for phone, number in list(self.numbers.items()) if wanted in phone]
        return 200, _page("incoming_phone_numbers", request.path, found)

    def _fetch_service(self, request, route):
        service = self.services.get(route["service"])
        return (200, service) if service else _error(20404, path=f"/Services/{route['service']}")

    def _update(self, request, route):
        request.sid = route["sid"]
        answer = self._next_answer(None, self._redaction_answers)
        if answer is not None:
            self._stopping.wait(answer.hang)
            if answer.code is None:
                return answer.status, b"<html><body><h1>Gateway timeout</h1></body></html>"
            return _error(answer.code, path=request.path)
        message = self.messages.get(request.sid)
        if message is None:
            return _error(20404, path=request.path)
        message = {**message, "body": request.form.get("Body", message["body"]), "date_updated": _now()}
        with self._lock:
            self.messages[request.sid] = message
        return 200, message

    def _create(self, request, route):
        if self.latency:
            time.sleep(random.uniform(*self.latency))
        form = request.form
        required = {21604: form.get("To"), 21602: form.get("Body"),
                    21603: form.get("From") or form.get("MessagingServiceSid")}
        missing = [code for code, value in required.items() if not value]
        if missing:
            return _error(missing[0])
        answer = self._next_answer(form["To"])
        if answer is None:
            request.sid = "SM" + secrets.token_hex(16)
            message = _message(request.account, request.sid, form)
            with self._lock:
                self.messages[request.sid] = message
            return 201, message
        self._stopping.wait(answer.hang)
        if answer.code is None:
            return answer.status, b"<html><body><h1>Service unavailable</h1></body></html>"
        return _error(answer.code, to=form["To"])


def _route(method, path):
    """The name of the method that answers a known route and its match (with its account, message sid or service
    sid), or (None, None)."""
    for wanted, pattern, handler in ROUTES:
        if method == wanted and (match := pattern.fullmatch(path)):
            return handler, match
    return None, None


def _now():
    return formatdate(usegmt=True)


def _error(code, **quoted):
    status, message = ERRORS[code]
    return status, {"code": code, "message": message.format(**quoted), "status": status,
                    "more_info": f"https://www.twilio.com/docs/errors/{code}"}


def _message(account, sid, form):
    now = _now()
    uri = f"/2010-04-01/Accounts/{account}/Messages/{sid}"
    return {
        "sid": sid, "account_sid": account, "api_version": "2010-04-01", "direction": "outbound-api",
        "to": form["To"], "from": form.get("From"), "messaging_service_sid": form.get("MessagingServiceSid"),
        "body": form["Body"], "num_segments": "1", "num_media": "0", "price": None, "price_unit": "USD",
        # Twilio says "accepted" while a messaging service still has to pick a sender.
        "status": "queued" if form.get("From") else "accepted", "error_code": None, "error_message": None,
        "date_created": now, "date_updated": now, "date_sent": None,
        "uri": f"{uri}.json", "subresource_uris": {"media": f"{uri}/Media.json"},
    }


def _account(sid, auth_token, status):
    now = _now()
    # Twilio's answer holds the auth token: a doctor that prints the account must not print it.
    return {
        "sid": sid, "owner_account_sid": sid, "friendly_name": "Velkommen AS", "status": status, "type": "Full",
        "auth_token": auth_token, "date_created": now, "date_updated": now,
        "uri": f"/2010-04-01/Accounts/{sid}.json",
        "subresource_uris": {"messages": f"/2010-04-01/Accounts/{sid}/Messages.json",
                             "incoming_phone_numbers": f"/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json"},
    }


def _number(account, phone_number, sms_url, sms_method):
    now = _now()
    sid = "PN" + secrets.token_hex(16)
    return {
        "sid": sid, "account_sid": account, "api_version": "2010-04-01", "phone_number": phone_number,
        "friendly_name": phone_number, "capabilities": {"voice": True, "sms": True, "mms": False, "fax": False},
        "sms_url": sms_url, "sms_method": sms_method, "sms_fallback_url": "", "sms_fallback_method": "POST",
        "sms_application_sid": "", "status_callback": "", "status_callback_method": "POST", "voice_url": "",
        "status": "in-use", "date_created": now, "date_updated": now,
        "uri": f"/2010-04-01/Accounts/{account}/IncomingPhoneNumbers/{sid}.json",
    }


def _service(account, sid, inbound_request_url, inbound_method):
    now = _now()
    url = f"https://messaging.twilio.com/v1/Services/{sid}"
    return {
        "sid": sid, "account_sid": account, "friendly_name": "Velkommen", "inbound_request_url": inbound_request_url,
        "inbound_method": inbound_method, "fallback_url": None, "fallback_method": "POST", "status_callback": None,
        "use_inbound_webhook_on_number": False, "date_created": now, "date_updated": now, "url": url,
        "links": {"phone_numbers": f"{url}/PhoneNumbers", "alpha_senders": f"{url}/AlphaSenders"},
    }


def _page(key, path, records):
    """One page of a 2010-04-01 list: the records under `key`, no next page."""
    return {key: records, "start": 0, "end": max(len(records) - 1, 0), "page": 0, "page_size": 50,
            "uri": path, "first_page_uri": f"{path}?Page=0&PageSize=50", "next_page_uri": None,
            "previous_page_uri": None}


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that gave up (timeout) leaves a broken pipe behind; that is expected here


class _Handler(BaseHTTPRequestHandler):
    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
        path, _, query = self.path.partition("?")
        status, body = self.server.twilio.respond(
            self.command, path, self.headers.get("Authorization", ""), form, dict(parse_qsl(query))
        )
        data = json.dumps(body).encode() if isinstance(body, dict) else body or b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if isinstance(body, dict) else "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def date_time_string(self, timestamp=None):
        """The Date header, off by the server's clock skew."""
        return formatdate((time.time() if timestamp is None else timestamp) + self.server.twilio.clock_skew,
                          usegmt=True)

    def log_message(self, format, *args):
        pass  # request lines would clutter test output
