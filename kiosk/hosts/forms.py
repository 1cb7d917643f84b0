"""The host directory's forms: one host typed in, a spreadsheet to import."""

from flask import current_app
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, ValidationError
from wtforms.widgets import CheckboxInput

from kiosk import i18n
from kiosk.admin.forms import AdminForm, PreviewConfirmForm, parse_mobile, strip_text
from kiosk.hosts import directory
from kiosk.i18n import admin_lazy_gettext as _la

# Each SMS language by its name in the admin's language.
LANGUAGE_NAMES = {"nb": _la("Norwegian (bokmål)"), "nn": _la("Norwegian (nynorsk)"), "en": _la("English"),
                  "sv": _la("Swedish"), "da": _la("Danish"), "fi": _la("Finnish"), "de": _la("German"),
                  "pl": _la("Polish"), "uk": _la("Ukrainian"), "ar": _la("Arabic")}


def _sentence(text):
    """A message from the import rules ("the name is missing") as a sentence for the form."""
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


# A host's fields as the admin area names them (the import preview's list of changes).
FIELD_LABELS = {"name": _la("Name"), "phone": _la("Mobile number"), "department": _la("Department"),
                "email": _la("E-mail"), "language": _la("SMS language"), "locations": _la("Locations")}


class HostForm(AdminForm):
    name = StringField(_la("Name"), filters=[strip_text], validators=[DataRequired(_la("Enter the host’s name."))])
    phone = StringField(_la("Mobile number"), filters=[strip_text],
                        validators=[DataRequired(_la("Enter a mobile number."))])
    department = StringField(_la("Department (optional)"), filters=[strip_text])
    email = StringField(_la("E-mail (optional)"), filters=[strip_text])
    language = SelectField(_la("Language of their SMS"), choices=[SelectChoice("", _la("Kiosk default")), *[
        SelectChoice(code, LANGUAGE_NAMES.get(code, code)) for code in i18n.LANGUAGES]])
    # Offered only where there are several locations (with_locations); none ticked: every location.
    locations = SelectMultipleField(_la("Locations"), coerce=int, choices=[], option_widget=CheckboxInput())

    def with_locations(self, choices):
        """Offer these (id, name) locations; without them the field is left out of the form."""
        if choices:
            self.locations.choices = list(choices)
        else:
            del self.locations
        return self

    def _directory_rule(self, field):
        try:
            field.data = directory.check_host_field(field.name, field.data, region=current_app.config["DEFAULT_REGION"])
        except ValueError as e:
            raise ValidationError(_sentence(str(e))) from e

    validate_name = validate_department = validate_email = validate_language = _directory_rule

    def validate_phone(self, field):
        field.data = parse_mobile(field.data)

    def host(self):
        return {name: self[name].data or None for name in directory.HOST_FIELDS}


class ImportConfirmForm(PreviewConfirmForm):
    deactivate_missing = BooleanField(_la("Deactivate the hosts who are not in this file"))


class ImportForm(AdminForm):
    file = FileField(_la("Spreadsheet (CSV or Excel .xlsx)"),
                     validators=[FileRequired(_la("Choose a file to import."))])
