"""The kiosk tablets' form in the admin area."""

from wtforms import StringField
from wtforms.validators import DataRequired, Length

from kiosk.admin.forms import AdminForm, strip_text


class TabletNameForm(AdminForm):
    """The name of a tablet to pair, or a tablet's new name."""

    name = StringField("Name of the tablet", filters=[strip_text],
                       validators=[DataRequired("Give the tablet a name, such as Reception left."), Length(max=60)])
