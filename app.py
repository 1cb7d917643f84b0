"""Entry point for gunicorn and `flask --app app`."""

import sys

from kiosk import create_app
from kiosk.config import ConfigError

try:
    app = create_app()
except ConfigError as e:
    # A configuration problem is said in plain words, without a traceback, to whoever started us (issue 11).
    sys.exit(str(e))
