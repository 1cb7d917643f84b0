"""The kiosk tablets' form in the admin area."""

from wtforms import StringField
from wtforms.validators import DataRequired

from kiosk.admin.forms import AdminForm, strip_text, too_long
from kiosk.i18n import admin_lazy_gettext as _la


class TabletNameForm(AdminForm):
    """The name of a tablet to pair, or a tablet's new name."""

    name = StringField(_la("Name of the tablet"), filters=[strip_text],
                       validators=[DataRequired(_la("Give the tablet a name, such as Reception left.")), too_long(60)])
