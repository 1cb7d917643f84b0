"""Velkommen: a privacy-first visitor kiosk."""

import sqlite3
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify, redirect, url_for
from flask_wtf.csrf import CSRFProtect
from werkzeug.wrappers import Response as BaseResponse

from kiosk import cli, config, db, errors, headers, i18n, logs, metrics, retention, settings, sms, text
from kiosk.admin import oidc
from kiosk.admin import views as admin_views
from kiosk.devices import views as device_views
from kiosk.hosts import views as host_views
from kiosk.locations import views as location_views
from kiosk.messaging import notify, sweeper
from kiosk.messaging import views as webhook_views
from kiosk.schools import admin_views as school_admin
from kiosk.schools import kiosk_views as school_kiosk
from kiosk.scim import admin_views as scim_admin
from kiosk.scim import views as scim_views
from kiosk.walkin import phone_views
from kiosk.walkin import views as kiosk_views

# Each domain's pages sit under one of two shells, whose hooks then cover them: the admin area (sign-in, no-store,
# the alert banner) and the tablet (pairing, no-store). Nested once, at import: a blueprint cannot be changed after
# an app has registered it.
admin_views.bp.register_blueprint(host_views.bp, url_prefix="/hosts")
admin_views.bp.register_blueprint(device_views.bp, url_prefix="/kiosks")
admin_views.bp.register_blueprint(location_views.bp, url_prefix="/locations")
admin_views.bp.register_blueprint(school_admin.bp, url_prefix="/schools")
admin_views.bp.register_blueprint(scim_admin.bp, url_prefix="/directory-sync")
kiosk_views.bp.register_blueprint(school_kiosk.bp, url_prefix="/school")

csrf = CSRFProtect()
# A health check answers quickly: a write that waits longer than this for the lock counts as failed.
HEALTH_WRITE_TIMEOUT = 2


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__, template_folder="../templates", static_folder="../static", instance_relative_config=True)
    config.load(app, test_config)
    logs.configure(app)
    csrf.init_app(app)
    i18n.init_app(app)
    db.init_app(app)
    settings.init_app(app)
    sms.init_app(app)
    notify.init_app(app)
    retention.init_app(app)
    oidc.init_app(app)
    sweeper.init_app(app)
    # /metrics for Prometheus, behind KIOSK_METRICS_TOKEN (docs/monitoring.md); outside /admin and /kiosk.
    metrics.init_app(app, past_deadline=sweeper.count_overdue)
    app.register_blueprint(kiosk_views.bp, url_prefix="/kiosk")
    app.register_blueprint(phone_views.bp, url_prefix=i18n.PHONE_PATH.rstrip("/"))
    app.register_blueprint(admin_views.bp, url_prefix="/admin")
    # Twilio cannot send a CSRF token; these routes check Twilio's signature instead (R11, R20).
    csrf.exempt(webhook_views.bp)
    app.register_blueprint(webhook_views.bp, url_prefix="/webhooks")
    # An identity provider sends a SCIM bearer token, no CSRF token; every SCIM request needs the bearer token.
    csrf.exempt(scim_views.bp)
    scim_views.init_app(app)
    app.add_template_filter(db.office_datetime, "local")
    app.add_template_filter(text.sentence, "sentence")
    errors.register_error_handlers(app)
    headers.init_app(app)
    cli.register(app)

    @app.get("/")
    def index() -> BaseResponse:
        return redirect(url_for("kiosk.welcome"))

    @app.get("/healthz")
    def healthz() -> Response | tuple[Response, int]:
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

