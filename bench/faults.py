"""Fault rehearsal (issue 8): gunicorn with 2 workers, the real twilio SDK against the Twilio-compatible test server,
the default timings (reception texted after 60 s, sweeps every 15 s, a 600 s retry window, 30 s graceful timeout).

For each fault it checks a canary visitor in, plays the fault, follows the status the way the tablet does, and
prints how long until a person was told (the host or reception had an SMS accepted; the admin banner showed an
alert), what the visitor's screen said, how long until no message was left `sending`, and a canary scan of the
instance folder and the log. The faults run side by side, each with its own gunicorn and Twilio server.

    python bench/faults.py [--only NAME ...]
"""

import argparse
import os
import signal
import sqlite3
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from tests.deployment import (  # noqa: E402
    HOST_PHONE,
    RECEPTION,
    Gunicorn,
    gunicorn_env,
    make_instance,
    start_check_in,
    wait_until,
)
from tests.helpers import CANARY_PHONE, CANARY_PHONE_TYPED  # noqa: E402
from tests.twilio_fixtures import ACCOUNT_SID, AUTH_TOKEN  # noqa: E402
from tests.twilio_server import TwilioServer  # noqa: E402

# The shipped defaults, but for the SMS timings the test fixture shortens: these are the real ones.
DEFAULTS = {"SMS_TIMEOUT_SECONDS": 10, "SMS_RETRY_BASE_SECONDS": 2, "SMS_RETRY_WINDOW_SECONDS": 600}
CANARIES = [b"Kanarifugl", CANARY_PHONE.encode(), CANARY_PHONE[3:].encode(), CANARY_PHONE_TYPED.encode()]
FOLLOW_SECONDS = 720  # how long the rehearsal follows one fault at most: past the 600 s retry window


@dataclass
class Outcome:
    fault: str
    first_sms: str  # who had the first SMS accepted, and after how many seconds
    banner: str  # seconds until the admin banner showed an alert, or "no alert"
    screen: str
    settled: str  # seconds until no message was left `sending`, or how many were left
    canaries: int


class Rehearsal:
    def __init__(self, name, folder):
        self.name = name
        self.folder = folder
        self.instance = make_instance(folder / "instance")
        self.twilio = TwilioServer(ACCOUNT_SID, AUTH_TOKEN).__enter__()
        self.gunicorn = Gunicorn(gunicorn_env(self.instance, self.twilio.url, **DEFAULTS), folder / "gunicorn.log")
        self.started = None

    def check_in(self):
        self.session, self.status_url, _ = start_check_in(self.gunicorn.url, self.instance)
        self.started, self.started_wall = time.monotonic(), time.time()

    def rows(self, sql, args=()):
        with sqlite3.connect(self.instance.folder / "kiosk.db", timeout=30) as db:
            return db.execute(sql, args).fetchall()

    def owner_pid(self):
        wait_until(lambda: self.twilio.posts(HOST_PHONE), what="the host SMS to be in flight")
        [(owner,)] = self.rows("SELECT owner FROM messages WHERE recipient = 'host'")
        return int(owner.split(":")[0])

    def first_sms(self):
        """(seconds after check-in, who) of the first SMS to the host or reception that was accepted, or None."""
        return min(((r.at - self.started, who) for who, number in (("host", HOST_PHONE), ("reception", RECEPTION))
                    for r in self.twilio.accepted(number)), default=None)

    def banner(self):
        """Seconds after check-in until the admin banner showed that a visitor could not be announced, or None."""
        at = self.rows("SELECT min(at) FROM alerts WHERE kind = 'visitor_unannounced'")[0][0]
        return datetime.fromisoformat(at).timestamp() - self.started_wall if at else None

    def in_flight(self):
        return self.rows("SELECT count(*) FROM messages WHERE status = 'sending'")[0][0]

    def follow(self):
        """Poll the status like the tablet until it would leave; go on watching until a person was told and no
        message is in flight (the sweepers work on without the tablet). Returns the screen and when it settled."""
        screen, leave_at, settled_at = "checked in", None, None
        while time.monotonic() < self.started + FOLLOW_SECONDS:
            if leave_at is None or time.monotonic() < leave_at:
                try:
                    status = self.session.get(self.status_url, timeout=5).json()
                except (OSError, ValueError):
                    status = None
                if status and status["ask_desk"]:
                    screen = "go to the desk"
                if status and (status["final"] or status["ask_desk"]) and leave_at is None:
                    leave_at = time.monotonic() + (30 if status["ask_desk"] else 10)
            if not self.in_flight():
                settled_at = settled_at or time.monotonic() - self.started
                if self.first_sms() and leave_at is not None and time.monotonic() >= leave_at:
                    break
            else:
                settled_at = None
            time.sleep(1)
        return screen, settled_at

    def finish(self, screen, settled_at):
        first, banner, left = self.first_sms(), self.banner(), self.in_flight()
        log = self.gunicorn.stop()
        self.twilio.stop()
        files = [path for path in self.instance.folder.rglob("*") if path.is_file()]
        canaries = sum(canary in path.read_bytes() for path in files for canary in CANARIES)
        canaries += sum(canary in log for canary in CANARIES)
        return Outcome(self.name, f"{first[1]}, {first[0]:.1f}" if first else "none",
                       f"{banner:.0f}" if banner is not None else "no alert", screen,
                       f"{settled_at:.0f}" if not left else f"{left} still sending", canaries)


def worker_killed(r):
    r.twilio.hang(120, to=HOST_PHONE)
    r.check_in()
    os.kill(r.owner_pid(), signal.SIGKILL)


def reload_during_outage(r):
    r.twilio.fail(500, times=100_000)
    r.check_in()
    time.sleep(10)
    r.gunicorn.reload()
    time.sleep(35)  # the outage ends 45 s after the check-in
    r.twilio.recover()


def unreadable_201(r):
    r.twilio.garble(to=HOST_PHONE)
    r.check_in()


def database_locked(r):
    r.twilio.hang(3, to=HOST_PHONE)
    r.check_in()
    lock = sqlite3.connect(r.instance.folder / "kiosk.db", isolation_level=None)
    wait_until(lambda: r.twilio.posts(HOST_PHONE), what="the host SMS to be in flight")
    lock.execute("BEGIN IMMEDIATE")  # nobody else can write for 60 s
    time.sleep(60)
    lock.execute("ROLLBACK")
    lock.close()


def twilio_hangs(r):
    r.twilio.hang(120, to=HOST_PHONE, times=100)
    r.check_in()


def outage_of_five_minutes(r):
    r.twilio.fail(500, times=100_000)
    r.check_in()
    time.sleep(300)
    r.twilio.recover()


FAULTS = {
    "worker SIGKILL mid-send": worker_killed,
    "HUP during an outage (45 s)": reload_during_outage,
    "201 that is not JSON": unreadable_201,
    "database locked mid-send (60 s)": database_locked,
    "Twilio hangs on the host's number (120 s each try)": twilio_hangs,
    "Twilio answers 500 to everyone for 5 minutes": outage_of_five_minutes,
}


def rehearse(name, folder):
    rehearsal = Rehearsal(name, folder)
    try:
        FAULTS[name](rehearsal)
        return rehearsal.finish(*rehearsal.follow())
    except Exception:
        rehearsal.gunicorn.stop()
        rehearsal.twilio.stop()
        raise


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=list(FAULTS), help="rehearse only these faults")
    args = parser.parse_args()
    names = args.only or list(FAULTS)
    root = Path(tempfile.mkdtemp(prefix="velkommen-faults-"))
    with ThreadPoolExecutor(len(names)) as pool:
        outcomes = list(pool.map(lambda n: rehearse(n, root / str(names.index(n))), names))
    print("| fault | first SMS accepted (who, s) | admin banner (s) | visitor's screen | all settled (s) | canaries |")
    print("|---|---|---|---|---|---|")
    for o in outcomes:
        print(f"| {o.fault} | {o.first_sms} | {o.banner} | {o.screen} | {o.settled} | {o.canaries} |")


if __name__ == "__main__":
    main()
