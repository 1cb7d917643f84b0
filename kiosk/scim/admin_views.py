"""Directory sync in the admin area: the SCIM bearer tokens (make one, shown once; revoke one) and what the identity
provider needs to know (the SCIM URL), with how many hosts it manages and how many need a mobile number.

Registered under the admin blueprint (kiosk/__init__.py), whose sign-in check and no-store header cover it.
"""

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import DataRequired

from kiosk.admin import scope
from kiosk.admin.forms import AdminForm, strip_text, too_long
from kiosk.db import get_db, query_one
from kiosk.i18n import admin_gettext as _a
from kiosk.i18n import admin_lazy_gettext as _la
from kiosk.scim import tokens
from kiosk.web import public_url

bp = Blueprint("directory_sync", __name__)
bp.before_request(scope.require_everywhere)  # the directory sync spans every location


class TokenForm(AdminForm):
    name = StringField(_la("Name of the token"), filters=[strip_text],
                       validators=[DataRequired(_la("Name the token after the system that will use it, such as "
                                                    "Entra ID.")), too_long(60)])


@bp.get("")
def index() -> tuple[str, int]:
    return _page(TokenForm())


def _page(form: TokenForm, status: int = 200, *, new_token: tuple[tokens.ScimToken, str] | None = None
          ) -> tuple[str, int]:
    counts = query_one(get_db(), "SELECT count(*) AS synced, count(*) FILTER (WHERE phone IS NULL) AS no_mobile "
                                 "FROM hosts WHERE scim_id IS NOT NULL")
    return render_template("admin/directory_sync.html", form=form, tokens=tokens.list_tokens(get_db()),
                           scim_url=public_url("scim.service_provider_config").rsplit("/", 1)[0],
                           counts=counts, new_token=new_token), status


@bp.post("/tokens")
def create() -> tuple[str, int]:
    """The token is shown on this one page, rendered here rather than after a redirect, so it never passes through
    the session (or a flashed message) and is stored only as its hash."""
    form = TokenForm()
    if not form.validate():
        return _page(form, 422)
    created, token = tokens.create_token(get_db(), form.name.data, admin_id=g.admin.id)
    return _page(TokenForm(formdata=None), new_token=(created, token))


@bp.post("/tokens/<int:token_id>/revoke")
def revoke(token_id: int) -> Response:
    tokens.get_token(get_db(), token_id) or abort(404)
    if tokens.revoke_token(get_db(), token_id, admin_id=g.admin.id):
        flash(_a("The token is revoked: requests with it are refused from now on."), "success")
    return redirect(url_for(".index"))
