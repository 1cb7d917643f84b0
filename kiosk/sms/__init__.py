"""SMS backends, looked up by the SMS_BACKEND setting and kept in app.extensions["sms"]."""

from flask import Flask

from kiosk.sms.base import SmsClient, SmsSendError
from kiosk.sms.console import ConsoleSmsClient
from kiosk.sms.fake import FakeSmsClient, SentSms
from kiosk.sms.twilio import TwilioSmsClient

BACKENDS = {client.name: client for client in (TwilioSmsClient, ConsoleSmsClient, FakeSmsClient)}

__all__ = ["BACKENDS", "SentSms", "SmsClient", "SmsSendError", "init_app"]


def init_app(app: Flask) -> None:
    app.extensions["sms"] = BACKENDS[app.config["SMS_BACKEND"]].from_config(app.config)
