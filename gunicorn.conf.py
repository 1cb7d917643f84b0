"""gunicorn settings for Velkommen: `gunicorn -c gunicorn.conf.py app:app`."""

import os

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
