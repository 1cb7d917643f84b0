"""gunicorn settings for Velkommen: `gunicorn -c gunicorn.conf.py app:app`."""

import os

bind = os.environ.get("KIOSK_BIND", "127.0.0.1:8000")
# Two processes share the SQLite file (WAL); threads serve the status polling of several tablets.
workers = int(os.environ.get("KIOSK_WORKERS", "2"))
worker_class = "gthread"
threads = 4
timeout = 30
# SMS still being sent get this long to finish when a worker stops.
graceful_timeout = 30
keepalive = 5
# No request logging: the access log adds nothing, and paths are kept free of personal data anyway.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("KIOSK_LOG_LEVEL", "info").lower()
