"""Admin forms: what was typed is checked here and explained next to its field; the views only act on it."""

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from kiosk.i18n import LANGUAGES, admin_form_translations
from kiosk.i18n import admin_lazy_gettext as _la
from kiosk.phone import InvalidPhoneError, PhoneNumber
from kiosk.settings import welcome_key

SIGN_IN_FAILED = _la(
    "The username or password is not right, or the account is locked for a while after too many attempts."
)

# WTForms' own messages that the admin forms can show, for the admin catalogue (WTForms has no Danish or Nynorsk):
# AdminForm.Meta looks them up there. Length gets a message of ours (too_long) instead of WTForms' plural ones.
WTFORMS_MESSAGES = (
    _la("Not a valid choice."),
    _la("Not a valid integer value."),
    _la("Not a valid date value."),
    _la("Not a valid time value."),
)


def too_long(max_length):
    """Length(max=max_length) with a message in the admin's language."""
    return Length(max=max_length, message=_la("Use at most %(max)d characters."))


def strip_text(value):
    return value.strip() if isinstance(value, str) else value


def parse_mobile(raw):
    """E.164 of a mobile number typed by an admin; raises ValidationError with the reason."""
    try:
        return PhoneNumber.parse(raw, region=current_app.config["DEFAULT_REGION"],
                                 nearby=current_app.config["ALLOWED_COUNTRIES"]).e164
    except InvalidPhoneError as e:
        raise ValidationError(e.message) from e


def offer_locations(field, locations):
    """Offer these locations in a SelectField of ids; with only one (a location admin's), it is the answer whatever
    the request says."""
    field.choices = [(location.id, location.name) for location in locations]
    if len(locations) == 1:
        field.data = locations[0].id


class AdminForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            # WTForms' own messages in the admin's language, as the rest of the admin area.
            return admin_form_translations


class LoginForm(AdminForm):
    username = StringField(_la("Username"), filters=[strip_text],
                           validators=[DataRequired(_la("Enter your username."))])
    password = PasswordField(_la("Password"), validators=[DataRequired(_la("Enter your password."))])


class PreviewConfirmForm(AdminForm):
    """Confirm a host import or a school roster kept as a preview."""

    preview_id = HiddenField(validators=[DataRequired()])


def _welcome_text(label):
    return TextAreaField(label, filters=[strip_text], validators=[Optional(), too_long(300)])


def _count(label):
    positive = NumberRange(min=1, max=1_000_000, message=_la("Enter a whole number, 1 or more."))
    return IntegerField(label, validators=[InputRequired(_la("Enter a whole number.")), positive])


class SettingsForm(AdminForm):
    """Field names are the setting keys of kiosk.settings.EDITABLE."""

    COMPANY_NAME = StringField(_la("Company name"), filters=[strip_text],
                               validators=[DataRequired(_la("Enter the company name.")), too_long(100)])
    WELCOME_TEXT = _welcome_text(_la("Welcome text (optional)"))  # the default language's; the view labels it
    ACCENT_COLOR = StringField(_la("Accent colour"), filters=[strip_text],
                               validators=[DataRequired(_la("Enter a colour like #0b5cad.")),
                                           Regexp(r"^#[0-9a-fA-F]{6}$", message=_la("Enter a colour like #0b5cad."))])
    RECEPTION_PHONE = StringField(_la("Reception mobile number (optional)"), filters=[strip_text])
    SMS_PER_NUMBER_PER_HOUR = _count(_la("SMS to one visitor number per hour"))
    SMS_PER_NUMBER_PER_DAY = _count(_la("SMS to one visitor number per day"))
    SMS_PREFIX_NUMBERS_PER_HOUR = _count(_la("Different numbers with the same prefix per hour before it is blocked"))
    SMS_BUDGET_PER_HOUR = _count(_la("Visitor SMS per hour from all tablets"))
    SMS_BUDGET_PER_DAY = _count(_la("Visitor SMS per day from all tablets"))
    CHECKINS_PER_DEVICE_PER_HOUR = _count(_la("Check-ins per tablet per hour"))
    BADGE = BooleanField(_la("Print a visitor badge after each check-in"))

    # WTForms finds an inline validator by its field's name, here a setting key.
    def validate_RECEPTION_PHONE(self, field):
        if field.data:
            field.data = parse_mobile(field.data)

    def without_default_language(self, code):
        """Drop the default language's own welcome text: WELCOME_TEXT is that language's, labelled by its name."""
        del self[welcome_key(code)]
        self.WELCOME_TEXT.label.text = LANGUAGES[code]
        return self

    def values(self):
        """The settings as they should be stored: empty text is no value; a checkbox is True or False."""
        return {field.name: field.data if isinstance(field.data, bool) else field.data or None
                for field in self if field.name != "csrf_token"}


# A welcome text of its own for each kiosk language (WELCOME_TEXT_SV, ...), labelled by the language's own name.
for _code, _name in LANGUAGES.items():
    setattr(SettingsForm, welcome_key(_code), _welcome_text(_name))
