"""The host directory's forms: one host typed in, a spreadsheet to import."""

from flask import current_app
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, ValidationError

from kiosk import i18n
from kiosk.admin.forms import AdminForm, PreviewConfirmForm, parse_mobile, strip_text
from kiosk.hosts import directory

# The admin area is in English: each SMS language by its English name.
LANGUAGE_NAMES = {"nb": "Norwegian (bokmål)", "nn": "Norwegian (nynorsk)", "en": "English", "sv": "Swedish",
                  "da": "Danish", "fi": "Finnish", "de": "German", "pl": "Polish", "uk": "Ukrainian", "ar": "Arabic"}


def _sentence(text):
    """A message from the import rules ("the name is missing") as a sentence for the form."""
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


# A host's fields as the admin area names them (the import preview's list of changes).
FIELD_LABELS = {"name": "Name", "phone": "Mobile number", "department": "Department", "email": "E-mail",
                "language": "SMS language"}


class HostForm(AdminForm):
    name = StringField("Name", filters=[strip_text], validators=[DataRequired("Enter the host’s name.")])
    phone = StringField("Mobile number", filters=[strip_text], validators=[DataRequired("Enter a mobile number.")])
    department = StringField("Department (optional)", filters=[strip_text])
    email = StringField("E-mail (optional)", filters=[strip_text])
    language = SelectField("Language of their SMS", choices=[SelectChoice("", "Kiosk default"), *[
        SelectChoice(code, LANGUAGE_NAMES.get(code, code)) for code in i18n.LANGUAGES]])

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
    deactivate_missing = BooleanField("Deactivate the hosts who are not in this file")


class ImportForm(AdminForm):
    file = FileField("Spreadsheet (CSV or Excel .xlsx)", validators=[FileRequired("Choose a file to import.")])
