"""The kiosk tablets' forms in the admin area."""

from wtforms import SelectField, StringField
from wtforms.validators import DataRequired

from kiosk.admin.forms import AdminForm, offer_locations, strip_text, too_long
from kiosk.i18n import admin_lazy_gettext as _la
from kiosk.locations.locations import DEFAULT_ID


class TabletNameForm(AdminForm):
    """The name of a tablet to pair, or a tablet's new name."""

    name = StringField(_la("Name of the tablet"), filters=[strip_text],
                       validators=[DataRequired(_la("Give the tablet a name, such as Reception left.")), too_long(60)])


class PairTabletForm(TabletNameForm):
    """A tablet to pair: its name, and its location (shown only while there are several; else the one, 1)."""

    location_id = SelectField(_la("Location"), coerce=int, default=DEFAULT_ID)

    def at_locations(self, locations):
        offer_locations(self.location_id, locations)
        return self

    @property
    def several(self):
        """Whether there is a location to choose (else the field is not shown)."""
        return len(self.location_id.choices) > 1

    def location_names(self):
        return dict(self.location_id.choices)
