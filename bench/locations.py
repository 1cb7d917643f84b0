"""One installation of many offices (issue 16): host search and the check-in page at 50 locations, 200 tablets and
100,000 hosts.

    .venv/bin/python bench/locations.py [--locations 50] [--tablets 200] [--hosts 100000] [--requests 2000]

Builds the database directly: each host at one location (80 %), at two (10 %) or at every one (10 %); half the
locations offer only their own hosts (hosts_only). Starts the app under gunicorn (2 workers) and, from one client on
loopback, times host searches from a tablet of each kind interleaved with /healthz, the yardstick of the issue's
target (search p99 ≤ 2 × /healthz p99), and weighs the check-in page with what it loads (target ≤ 60 KB).
Prints figures as a Markdown table; bench/README.md records them. Never part of the test suite.
"""

import argparse
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.run import DEPARTMENTS, FIRST, LAST, gunicorn, measure_search, surnames, typo_queries  # noqa: E402
from kiosk import create_app  # noqa: E402
from kiosk.db import get_db, timestamp  # noqa: E402
from kiosk.devices import pairing  # noqa: E402
from kiosk.hosts.directory import search_key  # noqa: E402

# What a page loads: stylesheets, icons and the manifest (<link>), scripts and images; not the pages it links to.
ASSET = re.compile(r'<(?:link|script|img)\b[^>]*?\s(?:href|src)="(/[^"]+)"')


def build(path, args, rng):
    """The installation, written straight into a new database; returns a tablet credential per kind of location."""
    app = create_app({"SECRET_KEY": "bench", "SMS_BACKEND": "fake", "DATABASE": str(path)})
    with app.app_context():
        db = get_db()
        now = timestamp()
        db["locations"].insert_all([{"id": i, "name": f"Office {i}", "hosts_only": i % 2, "created_at": now}
                                    for i in range(2, args.locations + 1)])
        last_names = LAST + surnames(rng)
        args.last_names = last_names
        hosts, memberships = [], []
        for i in range(1, args.hosts + 1):
            name = f"{rng.choice(FIRST)} {rng.choice(last_names)}"
            department = rng.choice(DEPARTMENTS)
            hosts.append({"id": i, "name": name, "phone": f"+474{i:07d}", "department": department, "language": "nb",
                          "search": search_key(name, department), "created_at": now, "updated_at": now})
            roll = rng.random()
            if roll < 0.9:  # the rest, 10 %, belong to every location (no rows)
                places = rng.sample(range(1, args.locations + 1), 1 if roll < 0.8 else 2)
                memberships += [{"host_id": i, "location_id": place} for place in places]
        db["hosts"].insert_all(hosts, batch_size=5000)
        db["host_locations"].insert_all(memberships, batch_size=5000)
        credentials = {}
        for i in range(args.tablets):
            location = i % args.locations + 1
            device, credential = pairing.pair(db, pairing.create_pairing_code(db, f"Tablet {i}",
                                                                              location_id=location).code)
            credentials.setdefault("offers only its own hosts" if location % 2 else "suggests its own first",
                                   credential)
    return credentials


def page_weight(session, url):
    """The check-in page and every stylesheet, script, icon and image it loads from this server, in bytes (what
    tests/test_browser_tablet.py measures in Chromium, there with a small directory)."""
    page = session.get(f"{url}/kiosk/checkin", timeout=10)
    page.raise_for_status()
    assets = sorted(set(ASSET.findall(page.text)))
    return len(page.content) + sum(len(session.get(f"{url}{asset}", timeout=10).content) for asset in assets)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--locations", type=int, default=50)
    parser.add_argument("--tablets", type=int, default=200)
    parser.add_argument("--hosts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    rng = random.Random(16)
    work = Path(tempfile.mkdtemp(prefix="velkommen-locations-bench-"))
    started = time.perf_counter()
    credentials = build(work / "kiosk.db", args, rng)
    built = time.perf_counter() - started
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("KIOSK_", "TWILIO_"))},
           "KIOSK_DATABASE": str(work / "kiosk.db"), "KIOSK_SECRET_KEY": "bench", "KIOSK_SMS_BACKEND": "fake",
           "KIOSK_LOG_LEVEL": "WARNING", "KIOSK_COOKIE_SECURE": "0"}
    results = {}
    with gunicorn(env) as url:
        for kind, credential in credentials.items():
            results[kind] = measure_search(url, args.requests, rng, credential)
            typos = typo_queries(rng, args.requests, args.last_names)
            results[f"{kind}, one typo"] = measure_search(url, args.requests, rng, credential, typed=typos)
        session = requests.Session()
        session.cookies.set("kiosk_device", next(iter(credentials.values())))
        weight = page_weight(session, url)

    print(f"{args.locations} locations, {args.tablets} tablets, {args.hosts:,} hosts (database built in "
          f"{built:.0f} s), gunicorn 2 workers, 1 client on loopback")
    print()
    print("| figure | p50 ms | p99 ms | mean ms |")
    print("|---|---|---|---|")
    for kind, (health, search, mean_results) in results.items():
        print(f"| GET /healthz, interleaved ({kind}) | {health['p50']:.2f} | {health['p99']:.2f} | "
              f"{health['mean']:.2f} |")
        print(f"| GET /kiosk/hosts?q=… at a location that {kind} ({args.requests} requests, "
              f"{mean_results:.1f} results) | {search['p50']:.2f} | {search['p99']:.2f} | {search['mean']:.2f} |")
    print()
    for kind, (health, search, _) in results.items():
        print(f"search p99 / healthz p99 ({kind}): {search['p99'] / health['p99']:.2f} (target ≤ 2)")
    print(f"check-in page with what it loads: {weight / 1024:.1f} KB (target ≤ 60 KB)")


if __name__ == "__main__":
    main()
