"""Benchmark: the admin uploads a 500-row school roster and gets the preview page (issue 4).

    .venv/bin/python bench/roster.py [--rows 500] [--repeat 20]

Runs in-process through Flask's test client (server time, no network); prints p50 and max.
"""

import argparse
import io
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk import create_app  # noqa: E402
from kiosk.db import get_db  # noqa: E402
from tests.helpers import admin_client, create_host, get_page  # noqa: E402

FIRST = ["Ola", "Kari", "Åse", "Per", "Ingrid", "Lars", "Sofia", "Nora", "Emil", "Sigrid"]
LAST = ["Nordmann", "Ødegård", "Aasen", "Berg", "Hansen", "Ærø", "Lie", "Moen", "Dahl", "Strand"]


def roster_csv(rows):
    lines = ["Fornavn;Etternavn;Rolle;Klasse"]
    lines += [f"{FIRST[i % 10]};{LAST[(i // 10) % 10]} {i};elev;{8 + i % 3}{'ABC'[i % 3]}" for i in range(rows)]
    return "\n".join(lines).encode("cp1252")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    app = create_app({"SECRET_KEY": "bench", "SMS_BACKEND": "fake", "LOG_LEVEL": "WARNING",
                      "DATABASE": str(Path(tempfile.mkdtemp()) / "kiosk.db")})
    with app.app_context():
        host = create_host(get_db())
    client = admin_client(app)
    data = roster_csv(args.rows)
    times = []
    for _ in range(args.repeat):
        page = get_page(client, "/admin/schools/new")
        form = {"csrf_token": page.select_one("[name=csrf_token]")["value"], "school": "Bjerke videregående skole",
                "visit_date": date.today().isoformat(), "host_id": str(host.id),
                "roster": (io.BytesIO(data), "roster.csv")}
        start = time.perf_counter()
        response = client.post("/admin/schools/new", data=form, content_type="multipart/form-data")
        times.append(time.perf_counter() - start)
        assert response.status_code == 200 and b"Confirm" in response.data, response.status_code
    print(f"roster preview, {args.rows} rows (CSV, Windows-1252, semicolons): "
          f"p50 {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms over {args.repeat} uploads")


if __name__ == "__main__":
    main()
