"""Kiosk forms: presence, length and format of what was typed, in plain words next to each field."""

import re
import unicodedata

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, ValidationError

from kiosk.db import get_db
from kiosk.devices import pairing as devices
from kiosk.hosts.directory import Host, get_host, host_named, offered_at
from kiosk.locations import locations
from kiosk.phone import InvalidPhoneError, PhoneNumber
from kiosk.settings import setting
from kiosk.walkin.checkin import CheckIn

RECEPTION = "reception"
# A web address in a name would travel in our SMS (R10): a scheme, www., or a dot joining a word and a domain
# ending in any script ("evil.com", "bit.ly/x", "evil.рф", an IP address "93.184.216.34/x"). Fullwidth and
# ideographic dots count as dots ("evil．com", "evil。com"). "J.R.R. Tolkien" passes; "St.Clair" is refused and can
# be typed "St. Clair".
_DOT = "[.\uff0e\u3002\uff61]"
URL_LIKE = re.compile(rf"[a-z][a-z0-9+.-]*://|www{_DOT}|\w{_DOT}\w{{2,}}", re.IGNORECASE)


def _clean_name(value: str | None) -> str:
    return " ".join((value or "").split())


class CheckinForm(FlaskForm):
    name = StringField(_l("Full name"), filters=[_clean_name],
                       validators=[DataRequired(_l("Enter your full name."))])
    phone = StringField(_l("Mobile number"), validators=[DataRequired(_l("Enter your mobile number."))])
    host_query = StringField(_l("Who are you visiting?"))
    host_id = HiddenField()
    confirm = BooleanField(_l("Send me a confirmation by SMS"), default=True)
    # The abuse guard's signed form token and honeypot (R8), checked by kiosk.guard.abuse.check_form.
    form_token = HiddenField()
    website = StringField(_l("Leave this empty"))
    # Set by validate_phone and validate_host_query once the form validates.
    parsed_phone: PhoneNumber
    host: Host | None

    def validate_name(self, field: StringField) -> None:
        if len(field.data) > current_app.config["NAME_MAX_LENGTH"]:
            raise ValidationError(_l("Your name is too long. Write at most %(max)s characters.",
                                     max=current_app.config["NAME_MAX_LENGTH"]))
        if any(unicodedata.category(c).startswith("C") for c in field.data):
            raise ValidationError(_l("Your name contains characters we cannot use."))
        if URL_LIKE.search(field.data):
            raise ValidationError(_l("Write only your name."))

    def validate_phone(self, field: StringField) -> None:
        # Any country's mobile checks in; ALLOWED_COUNTRIES decides only whether the confirmation may go (R1).
        try:
            self.parsed_phone = PhoneNumber.parse(field.data, region=current_app.config["DEFAULT_REGION"],
                                                  nearby=current_app.config["ALLOWED_COUNTRIES"])
        except InvalidPhoneError as e:
            raise ValidationError(e.message) from e

    def validate_host_query(self, field: StringField) -> None:
        self.host = None
        if self.host_id.data == RECEPTION and setting("RECEPTION_PHONE"):
            return
        here = locations.current()
        if self.host_id.data and self.host_id.data.isdigit():
            self.host = get_host(get_db(), int(self.host_id.data))
        elif not self.host_id.data and field.data:
            self.host = host_named(get_db(), field.data, location=here)  # typed in full, not chosen from the list
        if self.host is not None and not offered_at(get_db(), self.host.id, here):
            self.host = None  # another location's host, at a tablet that offers only its own
        if self.host is None:
            raise ValidationError(_l("Choose the person you are visiting from the list."))

    def to_checkin(self) -> CheckIn:
        return CheckIn(name=self.name.data, phone=self.parsed_phone, host=self.host, confirm=self.confirm.data,
                       country_allowed=self.parsed_phone.region in current_app.config["ALLOWED_COUNTRIES"])


class PairForm(FlaskForm):
    code = StringField(_l("Pairing code"), validators=[DataRequired(_l("Enter the pairing code."))])

    def validate_code(self, field: StringField) -> None:
        if devices.pairing_code_name(get_db(), field.data) is None:
            raise ValidationError(_l("This code is not valid. It may have expired: ask for a new one."))
