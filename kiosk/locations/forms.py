"""A location's form in the admin area: each field but the name may stay empty, to follow the installation."""

from typing import Any
from zoneinfo import ZoneInfo

from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional, ValidationError

from kiosk.admin.forms import AdminForm, parse_mobile, strip_text, too_long
from kiosk.i18n import LANGUAGES
from kiosk.i18n import admin_lazy_gettext as _la
from kiosk.locations.locations import OVERRIDES

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


class LocationForm(AdminForm):
    """Field names are the columns of `locations`."""

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

    def values(self) -> dict[str, str | None]:
        """The location as locations.save_location takes it: empty is None, which follows the installation."""
        return {key: self[key].data or None for key in ("name", *OVERRIDES)}
