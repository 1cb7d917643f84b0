"""A location's form in the admin area: each field but the name may stay empty, to follow the installation."""

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, NumberRange, Optional, ValidationError

from kiosk.admin.forms import AdminForm, parse_mobile, strip_text, too_long
from kiosk.config import LOGO_MAX_BYTES, LOGO_TYPES
from kiosk.i18n import LANGUAGES
from kiosk.i18n import admin_lazy_gettext as _la
from kiosk.locations import logos
from kiosk.locations.locations import EDITABLE, Logo

# Offered as the time zone field is typed; any other IANA name is accepted too.
COMMON_TIMEZONES = ("Europe/Oslo", "Europe/Stockholm", "Europe/Copenhagen", "Europe/Helsinki", "Atlantic/Reykjavik",
                    "Europe/London", "Europe/Dublin", "Europe/Amsterdam", "Europe/Brussels", "Europe/Berlin",
                    "Europe/Paris", "Europe/Zurich", "Europe/Vienna", "Europe/Madrid", "Europe/Lisbon", "Europe/Rome",
                    "Europe/Warsaw", "Europe/Prague", "Europe/Tallinn", "Europe/Riga", "Europe/Vilnius",
                    "Europe/Kyiv", "UTC")


def is_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError; "Europe" is a folder
        return False
    return True


def _optional_count(label: Any, least: int) -> IntegerField:
    """A whole number from `least` up, or empty: the installation's."""
    message = _la("Enter a whole number, 1 or more.") if least == 1 else _la("Enter a whole number, 0 or more.")
    return IntegerField(label, validators=[Optional(), NumberRange(min=least, max=1_000_000, message=message)])


def checked_logo(upload: FileStorage) -> Logo:
    """The uploaded logo, if its name, its bytes and its size make it one the tablets may show; else
    ValidationError says why."""
    data = upload.read(LOGO_MAX_BYTES + 1)
    if len(data) > LOGO_MAX_BYTES:
        raise ValidationError(_la("The logo is larger than 200 KB. Choose a smaller file."))
    mimetype = LOGO_TYPES.get(Path(upload.filename or "").suffix.lower())
    if mimetype is None or logos.content_type(data) != mimetype:
        raise ValidationError(_la("Choose an SVG, PNG, JPEG or WebP image."))
    if mimetype == logos.SVG and not logos.safe_svg(data):
        raise ValidationError(_la("This SVG holds a script or loads something from elsewhere. Save it as a plain "
                                  "picture and choose it again."))
    return Logo(data, mimetype)


class LocationForm(AdminForm):
    """Field names are the columns of `locations`, but remove_logo."""

    name = StringField(_la("Name"), filters=[strip_text],
                       validators=[DataRequired(_la("Enter the location’s name.")), too_long(100)])
    timezone = StringField(_la("Time zone (optional)"), filters=[strip_text])
    # Each language in its own name, as on the settings page; "" follows the installation (with_installation_language).
    default_locale = SelectField(_la("Kiosk language (optional)"))
    reception_phone = StringField(_la("Reception mobile number (optional)"), filters=[strip_text])
    welcome_text = TextAreaField(_la("Welcome text (optional)"), filters=[strip_text],
                                 validators=[Optional(), too_long(300)])
    company_name = StringField(_la("Company name shown on its tablets (optional)"), filters=[strip_text],
                               validators=[Optional(), too_long(100)])
    logo = FileField(_la("Logo (optional)"))
    remove_logo = BooleanField(_la("Remove the logo"))
    hosts_only = BooleanField(_la("Offer only this location’s hosts on its tablets"))
    checkins_per_device_per_hour = _optional_count(_la("Check-ins per tablet per hour (optional)"), 1)
    sms_budget_per_hour = _optional_count(_la("Visitor SMS per hour from its tablets (optional)"), 0)
    sms_budget_per_day = _optional_count(_la("Visitor SMS per day from its tablets (optional)"), 0)

    def with_installation_language(self, label: str) -> "LocationForm":
        """Offer the kiosk languages, the first choice (empty) labelled by what it follows."""
        self.default_locale.choices = [SelectChoice("", label), *(
            SelectChoice(code, name, render_kw={"lang": code}) for code, name in LANGUAGES.items())]
        return self

    def validate_timezone(self, field: Any) -> None:
        if field.data and not is_timezone(field.data):
            raise ValidationError(_la("Enter a time zone name, such as Europe/Oslo."))

    def validate_reception_phone(self, field: Any) -> None:
        if field.data:
            field.data = parse_mobile(field.data)

    def validate_logo(self, field: Any) -> None:
        if field.data:
            field.data = checked_logo(field.data)

    def values(self) -> dict[str, Any]:
        """The location as locations.save_location takes it, with "logo" when one was chosen or is to be removed."""
        values = {key: self[key].data for key in EDITABLE}
        if self.logo.data or self.remove_logo.data:
            values["logo"] = self.logo.data or None  # a new logo wins over ticking "Remove"
        return values
