"""Benchmarks for the walk-in check-in (issue: host search, check-in POST, host import).

    .venv/bin/python bench/run.py [--hosts 100000] [--requests 2000]

Prints figures as a Markdown table; bench/README.md records them. Never part of the test suite.
"""

import argparse
import csv
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
FIRST = ["Kari", "Ola", "Åse", "Per", "Ingrid", "Lars", "Sofia", "José", "Nora", "Emil", "Sigrid", "Jonas", "Ærle",
         "Øystein", "Maja", "Aksel", "Liv", "Jukka", "Mette", "Siobhan", "Amir", "Fatima", "Olek", "Hanna", "Tor"]
LAST = ["Ødegård", "Nordmann", "Aasen", "Berg", "Hansen", "Johansen", "Ærø", "Öberg", "Martínez", "O'Brien",
        "Larsen", "Dahl", "Haugen", "Bakken", "Strand", "Lie", "Moen", "Virtanen", "Kristiansen", "Nilsen",
        "Solberg", "Eriksen", "Lund", "Jakobsen", "Sæther", "Fjeld", "Holm", "Brekke", "Vik", "Nygård"]
DEPARTMENTS = ["Sales", "Finance", "HR", "IT", "Legal", "Engineering", "Marketing", "Reception", "Management"]
SYLLABLES = ["ber", "dal", "sen", "vik", "rud", "heim", "stad", "lie", "gaard", "ne", "mo", "ås", "bak", "ken",
             "strøm", "hol", "ang", "ers", "tor", "ka", "ri", "li", "son", "nes", "by", "land", "er", "ød", "fjell"]


def surnames(rng, count=20_000):
    """`count` made-up surnames of two or three syllables: a directory of 100,000 people holds tens of thousands of
    different words, and the typo search compares the words that share a first letter."""
    names = set()
    while len(names) < count:
        names.add("".join(rng.choice(SYLLABLES) for _ in range(rng.choice([2, 3]))).capitalize())
    return sorted(names)


def write_hosts_csv(path, count, rng, more_surnames):
    """`count` hosts with generated names (a number makes each name unique) and distinct mobile numbers; a third
    of the surnames from LAST, the rest from `more_surnames`."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter=";")
        writer.writerow(["navn", "mobil", "avdeling", "e-post", "språk"])
        for i in range(count):
            first = rng.choice(FIRST)
            last = rng.choice(LAST) if rng.random() < 1 / 3 else rng.choice(more_surnames)
            writer.writerow([f"{first} {last} {i}", f"4{i:07d}", rng.choice(DEPARTMENTS),
                             f"user{i}@example.com", "nb"])


def write_hosts_xlsx(csv_path, xlsx_path):
    from openpyxl import Workbook
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    with open(csv_path, encoding="utf-8", newline="") as f:
        for row in csv.reader(f, delimiter=";"):
            sheet.append(row)
    workbook.save(xlsx_path)


def timed_import(env, path):
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    subprocess.run(flask + ["purge"], cwd=ROOT, env=env, check=True, capture_output=True)  # creates the database
    start = time.perf_counter()
    subprocess.run(flask + ["hosts", "import", str(path)], cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def pair_tablet(env):
    """Pair a tablet the way reception does, and return its credential."""
    sys.path.insert(0, str(ROOT))
    from kiosk import create_app
    from kiosk.db import get_db
    from kiosk.devices import pairing as devices
    app = create_app({"SECRET_KEY": "bench", "SMS_BACKEND": "fake", "DATABASE": env["KIOSK_DATABASE"]})
    with app.app_context():
        code = devices.create_pairing_code(get_db(), "Bench tablet")
        return devices.pair(get_db(), code.code)[1]


def queries(rng, n):
    words = [w for w in FIRST + LAST]
    out = []
    for _ in range(n):
        word = rng.choice(words)
        if rng.random() < 0.2:
            out.append(f"{rng.choice(FIRST)} {rng.choice(LAST)[:3]}")
        else:
            out.append(word[: rng.randint(2, min(6, len(word)))])
    return out


def typo_queries(rng, n, words):
    """A surname of five letters or more with one typo in it: two letters swapped, one doubled or one dropped (never
    the first). Nothing starts with most of them, so the search tries the words one typo off."""
    out = []
    long_words = [word.lower() for word in words if len(word) >= 5]
    while len(out) < n:
        word = rng.choice(long_words)
        i = rng.randrange(1, len(word) - 1)
        kind = rng.choice(["swap", "double", "drop"])
        if kind == "swap":
            out.append(word[:i] + word[i + 1] + word[i] + word[i + 2:])
        elif kind == "double":
            out.append(word[:i] + word[i] + word[i:])
        else:
            out.append(word[:i] + word[i + 1:])
    return out


@contextmanager
def gunicorn(env):
    """The app under gunicorn (gunicorn.conf.py: 2 workers) with `env`, on a free port, until the block ends; yields
    its URL once it answers /healthz."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:app"],
                              cwd=ROOT, env={**env, "KIOSK_BIND": f"127.0.0.1:{port}"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{url}/healthz", timeout=1)
                break
            except requests.RequestException:  # not listening yet, or busy starting
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=60)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentiles(samples):
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return {"p50": pick(0.50), "p99": pick(0.99), "mean": statistics.fmean(ordered) * 1000}


def timed_get(session, url):
    start = time.perf_counter()
    response = session.get(url, timeout=10)
    elapsed = time.perf_counter() - start
    response.raise_for_status()
    return elapsed


def measure_search(url, n, rng, credential, typed=None):
    """Interleave /healthz and host search so both see the same machine load."""
    session = requests.Session()
    session.cookies.set("kiosk_device", credential)
    for q in queries(rng, 200):  # warm-up: connections, page cache, both workers
        session.get(f"{url}/kiosk/hosts", params={"q": q}, timeout=10)
        session.get(f"{url}/healthz", timeout=10)
    health, search, sizes = [], [], []
    for q in typed or queries(rng, n):
        health.append(timed_get(session, f"{url}/healthz"))
        start = time.perf_counter()
        response = session.get(f"{url}/kiosk/hosts", params={"q": q}, timeout=10)
        search.append(time.perf_counter() - start)
        sizes.append(len(response.json()))
    return percentiles(health), percentiles(search), statistics.fmean(sizes)


def measure_checkin(url, n, credential):
    session = requests.Session()
    session.cookies.set("kiosk_device", credential)
    host_id = session.get(f"{url}/kiosk/hosts", params={"q": "kari"}, timeout=10).json()[0]["id"]
    posts = []
    for i in range(n):
        form = session.get(f"{url}/kiosk/checkin", timeout=10).text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        form_token = re.search(r'name="form_token" type="hidden" value="([^"]+)"', form).group(1)
        start = time.perf_counter()
        response = session.post(f"{url}/kiosk/checkin", allow_redirects=False, timeout=10, data={
            "csrf_token": token, "form_token": form_token, "name": "Bench Visitor",
            "phone": f"4{i % 10_000_000:07d}", "host_id": host_id, "confirm": "y"})
        posts.append(time.perf_counter() - start)
        assert response.status_code == 302, response.status_code
    return percentiles(posts)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--checkins", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(42)
    work = Path(tempfile.mkdtemp(prefix="velkommen-bench-"))
    hosts_csv = work / "hosts.csv"
    more_surnames = surnames(rng)
    write_hosts_csv(hosts_csv, args.hosts, rng, more_surnames)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("KIOSK_", "TWILIO_"))},
           "KIOSK_DATABASE": str(work / "kiosk.db"), "KIOSK_SECRET_KEY": "bench", "KIOSK_SMS_BACKEND": "fake",
           "KIOSK_LOG_LEVEL": "WARNING", "KIOSK_COOKIE_SECURE": "0",
           # One bench client plays hundreds of visitors within a minute: lift the abuse guard's limits (its checks
           # still run on every POST) and the 3-second minimum form time.
           "KIOSK_FORM_MIN_SECONDS": "0", "KIOSK_CHECKINS_PER_DEVICE_PER_HOUR": "1000000",
           "KIOSK_SMS_PREFIX_NUMBERS_PER_HOUR": "1000000", "KIOSK_SMS_BUDGET_PER_HOUR": "1000000",
           "KIOSK_SMS_BUDGET_PER_DAY": "1000000"}
    hosts_xlsx = work / "hosts.xlsx"
    write_hosts_xlsx(hosts_csv, hosts_xlsx)
    imports = {
        "CSV into an empty directory": timed_import(env, hosts_csv),
        "the same CSV again (all unchanged)": timed_import(env, hosts_csv),
        "XLSX into an empty directory": timed_import({**env, "KIOSK_DATABASE": str(work / "xlsx.db")}, hosts_xlsx),
    }

    credential = pair_tablet(env)
    with gunicorn(env) as url:
        health, search, mean_results = measure_search(url, args.requests, rng, credential)
        typo_health, typo, typo_results = measure_search(
            url, args.requests, rng, credential, typed=typo_queries(rng, args.requests, LAST + more_surnames))
        checkin = measure_checkin(url, args.checkins, credential)

    print(f"| figure ({args.hosts:,} hosts, gunicorn 2 workers, 1 client on loopback) | p50 ms | p99 ms | mean ms |")
    print("|---|---|---|---|")
    for label, figures in [(f"GET /healthz ({args.requests} requests)", health),
                           (f"GET /kiosk/hosts?q=… ({args.requests} requests, {mean_results:.1f} results)", search),
                           ("GET /healthz, interleaved with the typo searches", typo_health),
                           (f"GET /kiosk/hosts?q=<one typo> ({args.requests} requests, {typo_results:.1f} results)",
                            typo),
                           (f"POST /kiosk/checkin, fake SMS backend ({args.checkins} requests)", checkin)]:
        print(f"| {label} | {figures['p50']:.2f} | {figures['p99']:.2f} | {figures['mean']:.2f} |")
    print()
    print(f"search p99 / healthz p99: {search['p99'] / health['p99']:.2f} (target ≤ 2)")
    print(f"typo search p99 / healthz p99: {typo['p99'] / typo_health['p99']:.2f} (target ≤ 2)")
    for label, seconds in imports.items():
        print(f"`flask hosts import` of {args.hosts:,} rows, {label}: {seconds:.2f} s (target < 10 s)")


if __name__ == "__main__":
    main()
