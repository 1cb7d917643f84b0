"""Twilio webhooks: message status callbacks and inbound replies."""

from flask import Blueprint

bp = Blueprint("webhooks", __name__)
