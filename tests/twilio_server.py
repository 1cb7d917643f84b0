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
"""

import base64
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

MESSAGES = re.compile(r"/2010-04-01/Accounts/(?P<account>\w+)/Messages\.json")
MESSAGE = re.compile(r"/2010-04-01/Accounts/(?P<account>\w+)/Messages/(?P<sid>\w+)\.json")

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
    at: float = field(default_factory=time.monotonic)
    status: int | None = None
    sid: str | None = None  # the message created, updated or deleted


class TwilioServer:
    """Twilio's Messages API on 127.0.0.1 and an ephemeral port; use as a context manager."""

    def __init__(self, account_sid, auth_token):
        self.account_sid = account_sid
        self._authorization = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
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

    def respond(self, method, path, authorization, form):
        """Record and answer one request: (HTTP status, body as a dict for JSON, bytes, or None)."""
        route = _route(method, path)
        request = Request(method, path, route and route["account"], form)
        with self._lock:
            self.requests.append(request)
        if route is None:
            status, body = _error(20404, path=path)
        elif authorization != self._authorization or request.account != self.account_sid:
            status, body = _error(20003)
        elif method == "DELETE":
            request.sid, status, body = route["sid"], 204, None
        elif "sid" in route.groupdict():
            request.sid = route["sid"]
            status, body = self._update(request)
        else:
            status, body = self._create(request)
        request.status = status
        return status, body

    def _update(self, request):
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

    def _create(self, request):
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
    """The match of a known route, with its account (and message sid), or None."""
    if method == "POST":
        return MESSAGES.fullmatch(path) or MESSAGE.fullmatch(path)
    return MESSAGE.fullmatch(path) if method == "DELETE" else None


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


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that gave up (timeout) leaves a broken pipe behind; that is expected here


class _Handler(BaseHTTPRequestHandler):
    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
        status, body = self.server.twilio.respond(
            self.command, self.path, self.headers.get("Authorization", ""), form
        )
        data = json.dumps(body).encode() if isinstance(body, dict) else body or b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if isinstance(body, dict) else "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, format, *args):
        pass  # request lines would clutter test output
