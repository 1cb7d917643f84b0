"""Host replies (issue 14): what a reply and the silent-host sweep cost with a month of visits in the database.

    .venv/bin/python bench/replies.py [--visits 100000] [--replies 300]

Builds a database with one paired tablet, 1,000 hosts and `--visits` visits spread over the last 30 days (a quarter
of them answered), starts the app under gunicorn (2 workers) with replies on, and times:
- the signed inbound webhook, as Twilio posts it (each reply answers a fresh check-in of one of the hosts);
- the welcome screen's board (/kiosk/on-the-way) and /healthz as the yardstick;
- in this process, one escalation sweep (the query every worker runs every 15 s) and the statistics' reply table.
Prints figures as a Markdown table; bench/README.md records them. Never part of the test suite.
"""

import argparse
import random
import secrets
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import requests
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.run import percentiles  # noqa: E402
from kiosk import create_app  # noqa: E402
from kiosk import db as store  # noqa: E402
from kiosk.admin import stats  # noqa: E402
from kiosk.db import get_db  # noqa: E402
from kiosk.messaging import escalation  # noqa: E402
from tests.deployment import Gunicorn, gunicorn_env, tablet_session  # noqa: E402
from tests.helpers import create_host, pair_tablet  # noqa: E402
from tests.twilio_fixtures import ACCOUNT_SID, AUTH_TOKEN, SENDER  # noqa: E402
from tests.twilio_server import TwilioServer  # noqa: E402

PUBLIC_URL = "https://kiosk.example.org"
HOSTS = 1000


def build(folder, visits, rng):
    """An instance folder: hosts, a paired tablet, a month of visits. Returns the app, the hosts' (id, phone) and the
    tablet's credential."""
    app = create_app({"SECRET_KEY": "x", "SMS_BACKEND": "fake", "DATABASE": str(folder / "kiosk.db"),
                      "LOG_LEVEL": "ERROR"})
    with app.app_context():
        db = get_db()
        phones = [f"+47412{index:05d}" for index in range(HOSTS)]
        host_ids = [create_host(db, name=f"Host {index} Nordmann", phone=phone, language="en").id
                    for index, phone in enumerate(phones)]
        now = store.now()
        rows = []
        for index in range(visits):
            created = now - timedelta(seconds=rng.uniform(0, 30 * 86400))
            answered = rng.random() < 0.25
            rows.append({"id": f"bench-{index}", "host_id": rng.choice(host_ids), "kiosk_id": 1,
                         "created_at": store.timestamp(created),
                         "expires_at": store.timestamp(created + timedelta(days=30)), "reply_asked": 1,
                         "escalate_at": None if answered else store.timestamp(created + timedelta(minutes=5)),
                         "acknowledged_at": store.timestamp(created + timedelta(minutes=3)) if answered else None,
                         "ack_minutes": rng.choice([None, 5, 10]) if answered else None})
        with store.write_transaction(db):
            db["visits"].insert_all(rows, batch_size=5000)
    _, credential = pair_tablet(app)
    return app, list(zip(host_ids, phones, strict=True)), credential


def time_locally(app, runs):
    with app.app_context():
        db = get_db()
        sweeps, tables = [], []
        for _ in range(runs):
            started = time.perf_counter()
            escalation.due(db)
            sweeps.append(time.perf_counter() - started)
            started = time.perf_counter()
            stats.replies_per_day(db)
            tables.append(time.perf_counter() - started)
    return percentiles(sweeps), percentiles(tables)


def post_reply(url, phone):
    params = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": ACCOUNT_SID, "From": phone, "To": SENDER,
              "Body": "Kommer, 5 min", "NumMedia": "0", "SmsStatus": "received", "ApiVersion": "2010-04-01"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"{PUBLIC_URL}/webhooks/twilio/inbound", params)
    started = time.perf_counter()
    response = requests.post(f"{url}/webhooks/twilio/inbound", data=params, timeout=10,
                             headers={"X-Twilio-Signature": signature})
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--replies", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(14)
    with tempfile.TemporaryDirectory() as temp, TwilioServer(ACCOUNT_SID, AUTH_TOKEN) as twilio:
        folder = Path(temp) / "instance"
        app, hosts, credential = build(folder, args.visits, rng)
        sweep, table = time_locally(app, 50)
        instance = type("Instance", (), {"folder": folder, "credential": credential})
        server = Gunicorn(gunicorn_env(instance, twilio.url, PUBLIC_URL=PUBLIC_URL, LOG_LEVEL="WARNING"),
                          Path(temp) / "gunicorn.log")
        try:
            session = tablet_session(instance)
            replies, boards, health = [], [], []
            for index in range(args.replies):
                host_id, phone = hosts[index % HOSTS]
                with app.app_context():  # a fresh visit that asks this host for a reply, as a check-in makes
                    get_db()["visits"].insert({
                        "id": f"fresh-{index}", "host_id": host_id, "kiosk_id": 1,
                        "created_at": store.timestamp(), "reply_asked": 1,
                        "expires_at": store.timestamp(store.now() + timedelta(days=30)),
                        "escalate_at": store.timestamp(store.now() + timedelta(minutes=5))})
                replies.append(post_reply(server.url, phone))
                for samples, path in ((boards, "/kiosk/on-the-way"), (health, "/healthz")):
                    started = time.perf_counter()
                    session.get(server.url + path, timeout=10).raise_for_status()
                    samples.append(time.perf_counter() - started)
        finally:
            server.stop()
        with app.app_context():
            answered = store.query_value(get_db(), "SELECT count(*) FROM visits WHERE id LIKE 'fresh-%' "
                                                   "AND acknowledged_at IS NOT NULL AND ack_minutes = 5")
    print(f"{args.visits:,} visits over 30 days, {HOSTS:,} hosts; {args.replies} replies, {answered} of them "
          "matched to their visit with 5 minutes\n")
    print("| figure | p50 ms | p99 ms | mean ms |\n|---|---|---|---|")
    for name, figures in [("POST /webhooks/twilio/inbound (signed reply, gunicorn)", percentiles(replies)),
                          ("GET /kiosk/on-the-way (the welcome board)", percentiles(boards)),
                          ("GET /healthz", percentiles(health)),
                          ("escalation sweep query (escalation.due)", sweep),
                          ("statistics: replies per day (30 days)", table)]:
        print(f"| {name} | {figures['p50']:.2f} | {figures['p99']:.2f} | {figures['mean']:.2f} |")


if __name__ == "__main__":
    main()
