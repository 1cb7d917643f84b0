"""Entry point for gunicorn and `flask --app app`."""

from kiosk import create_app

app = create_app()
