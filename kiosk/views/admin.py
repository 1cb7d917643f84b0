"""The admin area: sign-in, host directory, kiosk devices, statistics, audit log, settings."""

from flask import Blueprint

bp = Blueprint("admin", __name__)
