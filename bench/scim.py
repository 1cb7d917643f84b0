"""The SCIM API under a directory of synced hosts (issue 12): what an identity provider's sync cycle costs.

    .venv/bin/python bench/scim.py [--hosts 100000] [--requests 500]

Builds a database of generated hosts that the directory sync manages, starts the app under gunicorn (2 workers) and
times, from one client on loopback with keep-alive, the requests Entra ID and Okta make: a user looked up by
userName (before every create), read by id, patched, and created; a filter the indexes do not answer (displayName)
is timed apart, with fewer requests, since it reads every synced host. /healthz is interleaved as the yardstick.
Prints figures as a Markdown table; bench/README.md records them. Never part of the test suite.
"""

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.run import FIRST, LAST, gunicorn, percentiles  # noqa: E402
from kiosk import create_app  # noqa: E402
from kiosk.db import get_db, timestamp  # noqa: E402
from kiosk.hosts.directory import search_key  # noqa: E402
from kiosk.scim import tokens  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def build(path, count, rng):
    """`count` synced hosts written straight into a new database; returns the token and the users' names."""
    app = create_app({"SECRET_KEY": "bench", "SMS_BACKEND": "fake", "DATABASE": str(path)})
    with app.app_context():
        db = get_db()
        now = timestamp()
        users = []
        rows = []
        for i in range(count):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            user_name = f"{first}.{last}.{i}@example.no".lower()
            users.append((user_name, f"{first} {last} {i}"))
            rows.append({"name": f"{first} {last} {i}", "phone": f"+474{i:07d}", "department": "Sales",
                         "email": user_name, "language": "nb", "search": search_key(f"{first} {last} {i}", "Sales"),
                         "created_at": now, "updated_at": now, "active": 1, "scim_id": str(uuid.uuid4()),
                         "external_id": f"ext-{i}", "user_name": user_name, "display_name": f"{first} {last} {i}",
                         "given_name": first, "family_name": last, "scim_active": 1})
        db["hosts"].insert_all(rows, batch_size=5000)
        _, token = tokens.create_token(db, "bench")
    return token, users


def timed(session, method, url, **kwargs):
    start = time.perf_counter()
    response = session.request(method, url, timeout=60, **kwargs)
    elapsed = time.perf_counter() - start
    assert response.status_code < 300, (response.status_code, response.text[:300])
    return elapsed, response


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--scans", type=int, default=10)
    args = parser.parse_args()
    rng = random.Random(12)
    work = Path(tempfile.mkdtemp(prefix="velkommen-scim-bench-"))
    token, users = build(work / "kiosk.db", args.hosts, rng)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("KIOSK_", "TWILIO_"))},
           "KIOSK_DATABASE": str(work / "kiosk.db"), "KIOSK_SECRET_KEY": "bench", "KIOSK_SMS_BACKEND": "fake",
           "KIOSK_LOG_LEVEL": "WARNING", "KIOSK_COOKIE_SECURE": "0"}
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"})
    samples = {name: [] for name in ("health", "lookup", "get", "patch", "create", "scan")}
    with gunicorn(env) as url:
        scim = f"{url}/scim/v2"
        for i in range(args.requests):
            user_name, _ = rng.choice(users)
            samples["health"].append(timed(session, "GET", f"{url}/healthz")[0])
            elapsed, response = timed(session, "GET", f"{scim}/Users",
                                      params={"filter": f'userName eq "{user_name}"'})
            samples["lookup"].append(elapsed)
            user_id = response.json()["Resources"][0]["id"]
            samples["get"].append(timed(session, "GET", f"{scim}/Users/{user_id}")[0])
            samples["patch"].append(timed(session, "PATCH", f"{scim}/Users/{user_id}", json={
                "schemas": [PATCH], "Operations": [{"op": "Replace", "path": "displayName", "value": f"Renamed {i}"}]
            })[0])
            samples["create"].append(timed(session, "POST", f"{scim}/Users", json={
                "schemas": [USER], "userName": f"new{i}@example.no", "displayName": f"New Person {i}",
                "phoneNumbers": [{"type": "mobile", "value": f"+479{i:07d}"}]})[0])
        for _ in range(args.scans):
            _, name = rng.choice(users)
            samples["scan"].append(timed(session, "GET", f"{scim}/Users",
                                         params={"filter": f'displayName eq "{name}"'})[0])

    print(f"| figure ({args.hosts:,} synced hosts, gunicorn 2 workers, 1 client on loopback) | p50 ms | p99 ms |"
          " mean ms |")
    print("|---|---|---|---|")
    for key, label in [("health", f"GET /healthz ({args.requests} requests)"),
                       ("lookup", 'GET /Users?filter=userName eq "…" (the index)'),
                       ("get", "GET /Users/{id}"), ("patch", "PATCH /Users/{id} (displayName)"),
                       ("create", "POST /Users"),
                       ("scan", f'GET /Users?filter=displayName eq "…" (every synced host; {args.scans} requests)')]:
        figures = percentiles(samples[key])
        print(f"| {label} | {figures['p50']:.2f} | {figures['p99']:.2f} | {figures['mean']:.2f} |")


if __name__ == "__main__":
    main()
