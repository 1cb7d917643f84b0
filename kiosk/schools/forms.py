"""School visit forms: the admin's new visit with its roster, and a pupil's apprenticeship consent on the tablet."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Optional, ValidationError

from kiosk.admin.forms import AdminForm, offer_locations, strip_text, too_long
from kiosk.i18n import admin_lazy_gettext as _la
from kiosk.phone import InvalidPhoneError, PhoneNumber
from kiosk.schools import consent
from kiosk.schools import visits as schools


def _optional_id(value: object) -> int | None:
    """A chosen id, or None for the "Choose…" line."""
    return int(str(value)) if value not in (None, "") else None


class SchoolVisitForm(AdminForm):
    school = StringField(_la("School"), filters=[strip_text],
                         validators=[DataRequired(_la("Enter the school’s name.")),
                                     too_long(schools.SCHOOL_MAX_LENGTH)])
    visit_date = DateField(_la("Date"), validators=[DataRequired(_la("Enter the date of the visit."))])
    host_id = SelectField(_la("Host"), coerce=_optional_id, validate_choice=True,
                          validators=[DataRequired(_la("Choose the host the school is visiting."))])
    # Shown only while there are several locations (issue 16); else the one location (1).
    location_id = SelectField(_la("Location"), coerce=int, validate_choice=True, default=1)
    arrival_time = TimeField(_la("Expected arrival time (optional)"), validators=[Optional()])
    teacher_phone = StringField(_la("Teacher’s mobile number (optional)"), filters=[strip_text])
    roster = FileField(_la("Roster file"))
    pasted = TextAreaField(_la("Or paste a list of names, one per line"), filters=[strip_text])

    def at_locations(self, locations):
        offer_locations(self.location_id, locations)
        return self

    def validate_visit_date(self, field):
        # A date past next year would also overflow the purge time (the day after 9999-12-31 does not exist).
        if field.data and field.data < schools.today():
            raise ValidationError(_la("The date has passed. Enter today’s date or a later one."))
        if field.data and field.data > schools.latest_visit_date():
            raise ValidationError(_la("Enter a date within a year from today."))

    def validate_teacher_phone(self, field):
        if not field.data:
            return
        cfg = current_app.config
        try:
            field.data = PhoneNumber.parse(field.data, region=cfg["DEFAULT_REGION"], nearby=cfg["ALLOWED_COUNTRIES"],
                                           allowed_countries=cfg["ALLOWED_COUNTRIES"]).e164
        except InvalidPhoneError as e:
            raise ValidationError(e.message) from e

    def visit(self):
        return {"school": self.school.data, "visit_date": self.visit_date.data.isoformat(),
                "host_id": self.host_id.data, "location_id": self.location_id.data or 1,
                "arrival_time": self.arrival_time.data.strftime("%H:%M") if self.arrival_time.data else None,
                "teacher_phone": self.teacher_phone.data or None}


class DeleteForm(AdminForm):
    pass


class ConsentForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter your name."))])
    email = StringField(_l("E-mail"), validators=[DataRequired(_l("Enter your e-mail address."))])
    agree = BooleanField(_l("Yes, I want to hear about apprenticeships, and I agree to the text above."),
                         default=False, validators=[DataRequired(_l("Tick the box if you want to hear from us."))])

    def validate_name(self, field):
        try:
            field.data = consent.check_name(field.data)
        except consent.ConsentError as e:
            raise ValidationError(_l("Write your name, in at most 100 characters.")) from e

    def validate_email(self, field):
        try:
            field.data = consent.check_email(field.data)
        except consent.ConsentError as e:
            raise ValidationError(_l("Enter an e-mail address like name@example.com.")) from e
