"""Load rehearsal (issue 13, R39): 20 tablets checking in for 10 minutes at several times a real morning peak.

    .venv/bin/python bench/load.py [--tablets 20] [--minutes 10] [--peak-factor 4] [--latency 0.2-0.8]

The app runs under gunicorn (2 workers) with the twilio backend, talking through the real twilio SDK to the
Twilio-compatible test server (tests/twilio_server.py), which answers every message after a random delay. Each
tablet is paired like a real one and sends the check-in form as a browser does, then follows its status page until
the SMS are settled; visitors arrive at random (Poisson) at `peak-factor` times R39's morning peak of 30 check-ins
in 5 minutes, spread over the tablets. Every visitor has a name and number of their own, so the server's log tells
whether each visit's two SMS (host, visitor) were sent: none lost, none twice.

The abuse guard's budgets are lifted for the bench client (its checks still run on every POST), as in bench/run.py.
Prints figures as Markdown; bench/README.md records them. Never part of the test suite.
"""

import argparse
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.run import percentiles  # noqa: E402
from kiosk import create_app  # noqa: E402
from kiosk.db import get_db  # noqa: E402
from tests.deployment import Gunicorn, gunicorn_env, post_form, wait_until  # noqa: E402
from tests.helpers import create_host, pair_tablet  # noqa: E402
from tests.twilio_fixtures import ACCOUNT_SID, AUTH_TOKEN  # noqa: E402
from tests.twilio_server import TwilioServer  # noqa: E402

PEAK_CHECKINS, PEAK_SECONDS = 30, 300  # R39: a morning peak
HOSTS = 200
LIFTED = {"FORM_MIN_SECONDS": 0, "CHECKINS_PER_DEVICE_PER_HOUR": 1_000_000, "SMS_PREFIX_NUMBERS_PER_HOUR": 1_000_000,
          "SMS_BUDGET_PER_HOUR": 1_000_000, "SMS_BUDGET_PER_DAY": 1_000_000, "LOG_LEVEL": "WARNING"}


class Instance:
    """An instance folder with HOSTS hosts and `tablets` paired tablets (their credentials)."""

    def __init__(self, folder, tablets):
        self.folder = folder
        app = create_app({"SECRET_KEY": "x", "SMS_BACKEND": "fake", "DATABASE": str(folder / "kiosk.db")})
        with app.app_context():
            self.host_ids = [create_host(get_db(), name=f"Vert Nummer {i}", phone=f"+47412{i:05d}").id
                             for i in range(HOSTS)]
        self.credentials = [pair_tablet(app, name=f"Tablet {i}")[1] for i in range(tablets)]


def visitor(n):
    """A visitor of their own: a unique name and a unique Norwegian mobile number (9xx xx xxx)."""
    return f"Besøkende Nummer{n:05d}", f"9{n:07d}", f"+479{n:07d}"


def tablet(url, credential, rng, stop_at, mean_gap, results, counter, lock):
    session = requests.Session()
    session.cookies.set("kiosk_device", credential)
    while True:
        gap = rng.expovariate(1 / mean_gap)
        if time.monotonic() + gap >= stop_at:  # the next visitor would come after the end
            return
        time.sleep(gap)
        with lock:
            n = next(counter)
        name, typed, e164 = visitor(n)
        started = time.perf_counter()
        response = post_form(session, url, name=name, phone=typed, host_id=rng.choice(results["host_ids"]))
        posted = time.perf_counter() - started
        if response.status_code != 302:
            with lock:
                results["refused"].append(response.status_code)
            continue
        status_url = url + response.headers["Location"] + "/status"
        while True:
            status = session.get(status_url, timeout=10).json()
            if status["host"] not in (None, "sending") or status["final"]:
                break
            time.sleep(0.2)
        host_told = time.perf_counter() - started
        with lock:
            results["post"].append(posted)
            results["host_told"].append(host_told)
            results["visitors"].append((name, e164))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tablets", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--peak-factor", type=float, default=4)
    parser.add_argument("--latency", default="0.2-0.8", help="seconds the Twilio server takes per message, a range")
    args = parser.parse_args()
    low, high = (float(x) for x in args.latency.split("-"))
    folder = Path(tempfile.mkdtemp(prefix="velkommen-load-")) / "instance"
    instance = Instance(folder, args.tablets)
    rate = args.peak_factor * PEAK_CHECKINS / PEAK_SECONDS  # check-ins per second, all tablets together
    mean_gap = args.tablets / rate  # seconds between one tablet's visitors
    results = {"post": [], "host_told": [], "visitors": [], "refused": [], "host_ids": instance.host_ids}
    with TwilioServer(ACCOUNT_SID, AUTH_TOKEN) as twilio:
        twilio.latency = (low, high)
        env = gunicorn_env(instance, twilio.url, **LIFTED)
        server = Gunicorn(env, folder.parent / "gunicorn.log")
        try:
            counter, lock = iter(range(1, 10**7)), threading.Lock()
            stop_at = time.monotonic() + args.minutes * 60
            started = time.monotonic()
            threads = [threading.Thread(target=tablet, args=(server.url, credential, random.Random(i), stop_at,
                                                             mean_gap, results, counter, lock))
                       for i, credential in enumerate(instance.credentials)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started
            expected = 2 * len(results["visitors"])
            wait_until(lambda: len(twilio.accepted()) >= expected, what="every SMS", seconds=120)
            time.sleep(2)  # anything sent twice would arrive now
        finally:
            log = server.stop()
        sent = Counter(request.form["To"] for request in twilio.accepted())
        to_hosts = [request.form["Body"] for request in twilio.accepted() if request.form["To"].startswith("+47412")]
    lost_visitor = [e164 for _, e164 in results["visitors"] if sent[e164] == 0]
    twice_visitor = [e164 for _, e164 in results["visitors"] if sent[e164] > 1]
    # Each visitor's name is unique (Nummer00042), so the host's SMS that names it is that visit's.
    host_bodies = Counter(name for body in to_hosts for name in [body[body.index("Besøkende"):][:21]]
                          if "Besøkende" in body)
    lost_host = [name for name, _ in results["visitors"] if host_bodies[name] == 0]
    twice_host = [name for name, _ in results["visitors"] if host_bodies[name] > 1]
    post, told = percentiles(results["post"]), percentiles(results["host_told"])
    done = len(results["visitors"])
    print(f"{args.tablets} tablets, {args.minutes:g} min, {args.peak_factor:g} × the morning peak "
          f"({rate * 60:.1f} check-ins a minute planned), Twilio answering in {low:g}–{high:g} s, "
          "gunicorn 2 workers")
    print()
    print("| figure | value |")
    print("|---|---|")
    print(f"| check-ins completed | {done} ({done / elapsed * 60:.1f} a minute) |")
    print(f"| check-ins refused | {len(results['refused'])} |")
    print(f"| POST /kiosk/checkin p50 / p99 | {post['p50']:.0f} / {post['p99']:.0f} ms |")
    print(f"| until the host's SMS was accepted by Twilio, p50 / p99 | {told['p50']:.0f} / {told['p99']:.0f} ms |")
    print(f"| SMS expected / sent | {expected} / {sum(sent.values())} |")
    print(f"| lost (host, visitor) | {len(lost_host)}, {len(lost_visitor)} |")
    print(f"| sent twice (host, visitor) | {len(twice_host)}, {len(twice_visitor)} |")
    errors = [line for line in log.decode(errors="replace").splitlines() if "ERROR" in line or "Traceback" in line]
    print(f"| errors in the app's log | {len(errors)} |")


if __name__ == "__main__":
    main()
