"""gunicorn settings for Velkommen: `gunicorn -c gunicorn.conf.py app:app`."""

import os
import re
from pathlib import Path

bind = os.environ.get("KIOSK_BIND", "127.0.0.1:8000")
# Two processes share the SQLite file (WAL); threads serve the status polling of several tablets.
workers = int(os.environ.get("KIOSK_WORKERS", "2"))
worker_class = "gthread"
threads = 4
# A stopping worker (SIGTERM, or HUP's reload) gets this long to drain its SMS before the master kills it.
graceful_timeout = int(os.environ.get("KIOSK_GRACEFUL_TIMEOUT", "30"))
# Longer than the drain, so the master does not kill a worker for silence while it drains.
timeout = graceful_timeout + 10
keepalive = 5
# No request logging: the access log adds nothing, and paths are kept free of personal data anyway.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("KIOSK_LOG_LEVEL", "info").lower()
# Part of the drain budget is kept for what comes after it: telling reception, handing work to other workers.
DRAIN_MARGIN_SECONDS = 5
# Metrics (docs/monitoring.md) in prometheus-client's multiprocess mode: each worker writes its counts to files in one
# folder, which /metrics adds up. It is the operator's PROMETHEUS_MULTIPROC_DIR, else metrics/ beside the database;
# raw_env puts it in the environment before gunicorn imports the app (with --preload too), on_starting empties it.
METRICS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or str(
    Path(os.environ.get("KIOSK_DATABASE") or Path(__file__).parent / "instance" / "kiosk.db").parent / "metrics")
raw_env = [f"PROMETHEUS_MULTIPROC_DIR={METRICS_DIR}"]
# prometheus-client's own files (counter_1234.db, gauge_livesum_1234.db ...): the only ones ever deleted there.
METRICS_FILE = re.compile(r"(counter|histogram|summary|gauge_[a-z]+)_[0-9]+\.db")


def on_starting(server):
    """Empty the metrics folder of a previous run before any worker writes to it: counts start again at zero, which
    Prometheus reads as a restart."""
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = METRICS_DIR  # also when `-e` on the command line replaced raw_env
    folder = Path(METRICS_DIR)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for path in folder.iterdir():
        if METRICS_FILE.fullmatch(path.name):
            path.unlink()
    server.log.info("Metrics of the workers are kept in %s", folder)


def post_worker_init(worker):
    """Each worker settles SMS left in flight by another that died (kiosk/messaging/sweeper.py), from its start on."""
    from kiosk.messaging import sweeper

    sweeper.start(worker.wsgi)


def worker_exit(server, worker):
    """Drain the SMS in flight: they get the graceful timeout (less a margin) to settle; then a host still
    unannounced makes this worker tell reception while it holds the names, and what is left goes to the sweepers of
    the other workers (kiosk/messaging/notify.py, Dispatcher.shutdown)."""
    dispatcher = getattr(worker, "wsgi", None) and worker.wsgi.extensions.get("dispatcher")
    if dispatcher is not None:
        drained = dispatcher.shutdown(max(1, graceful_timeout - DRAIN_MARGIN_SECONDS))
        server.log.info("Worker %s stopped with its SMS %s", worker.pid,
                        "settled" if drained else "handed over to the other workers")


def child_exit(server, worker):
    """prometheus-client's bookkeeping for a worker that is gone: its live gauges go, its counts stay in the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, METRICS_DIR)
