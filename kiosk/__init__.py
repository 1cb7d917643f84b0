"""Velkommen: a privacy-first visitor kiosk."""

import logging
import sqlite3

from flask import Flask, jsonify, redirect, url_for
from flask_wtf.csrf import CSRFProtect

from kiosk import cli, config, db, errors, headers, i18n, retention, settings, sms
from kiosk.admin import views as admin_views
from kiosk.messaging import notify, sweeper
from kiosk.messaging import views as webhook_views
from kiosk.schools import admin_views as school_admin
from kiosk.schools import kiosk_views as school_kiosk
from kiosk.walkin import views as kiosk_views

csrf = CSRFProtect()
# A health check answers quickly: a write that waits longer than this for the lock counts as failed.
HEALTH_WRITE_TIMEOUT = 2


def create_app(test_config=None):
    app = Flask(__name__, template_folder="../templates", static_folder="../static", instance_relative_config=True)
    config.load(app, test_config)
    _configure_logging(app)
    csrf.init_app(app)
    i18n.init_app(app)
    db.init_app(app)
    settings.init_app(app)
    sms.init_app(app)
    notify.init_app(app)
    retention.init_app(app)
    sweeper.init_app(app)
    app.register_blueprint(kiosk_views.bp, url_prefix="/kiosk")
    app.register_blueprint(admin_views.bp, url_prefix="/admin")
    app.register_blueprint(school_kiosk.bp, url_prefix="/kiosk/school")
    app.register_blueprint(school_admin.bp, url_prefix="/admin/schools")
    # Twilio cannot send a CSRF token; these routes check Twilio's signature instead (R11, R20).
    csrf.exempt(webhook_views.bp)
    app.register_blueprint(webhook_views.bp, url_prefix="/webhooks")
    errors.register_error_handlers(app)
    headers.init_app(app)
    cli.register(app)

    @app.get("/")
    def index():
        return redirect(url_for("kiosk.welcome"))

    @app.get("/healthz")
    def healthz():
        """503 when the database cannot be read or written; `overdue` counts SMS past their deadline (issue 8)."""
        backend = app.extensions["sms"].name
        try:
            overdue = sweeper.count_overdue(db.get_db())
        except sqlite3.Error:
            app.logger.exception("Health check: the database cannot be read")
            return jsonify(status="error", database="unreachable", sms_backend=backend), 503
        try:
            db.probe_write(db.get_db(), timeout=HEALTH_WRITE_TIMEOUT)
        except sqlite3.Error:
            app.logger.exception("Health check: the database cannot be written")
            return jsonify(status="error", database="read-only", sms_backend=backend, overdue=overdue), 503
        return jsonify(status="ok", database="ok", sms_backend=backend, overdue=overdue)

    return app


def _configure_logging(app):
    # Flask gives the "kiosk" logger a handler to stderr; our modules log below it ("kiosk.sms", ...).
    app.logger.setLevel(app.config["LOG_LEVEL"])
    # The twilio SDK logs request URLs and headers at INFO; nothing of it belongs in our logs.
    logging.getLogger("twilio").setLevel(logging.WARNING)
