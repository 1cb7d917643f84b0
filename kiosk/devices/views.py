"""The kiosk tablets in the admin area: pair a new tablet, rename one, revoke one.

Registered under the admin blueprint (kiosk/__init__.py), whose sign-in check and no-store header cover it. A
location admin (kiosk/admin/scope.py) sees, pairs and changes their location's tablets only.
"""

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for

from kiosk.admin import audit, scope
from kiosk.db import get_db
from kiosk.devices import pairing
from kiosk.devices.forms import PairTabletForm, TabletNameForm
from kiosk.i18n import admin_gettext as _a
from kiosk.web import public_url

bp = Blueprint("kiosks", __name__)


@bp.get("")
def index():
    return _page(_pair_form())


def _pair_form():
    return PairTabletForm().at_locations(scope.visible_locations(get_db()))


def _page(pair_form, status=200):
    # Which location each tablet is at matters only once there are several.
    return render_template("admin/kiosks.html", devices=pairing.list_devices(get_db(), location_id=scope.location_id()),
                           pair_form=pair_form,
                           location_names=pair_form.location_names() if pair_form.several else None), status


@bp.post("/pair")
def pair():
    form = _pair_form()
    if not form.validate():
        return _page(form, 422)
    code = pairing.create_pairing_code(get_db(), form.name.data, location_id=form.location_id.data)
    audit.record(get_db(), "pairing_code_created", admin_id=g.admin.id, location_id=form.location_id.data)
    return render_template("admin/kiosk_pairing.html", code=code, link=public_url("kiosk.pair", code=code.code),
                           pair_url=public_url("kiosk.pair"),
                           location=form.location_names()[form.location_id.data] if form.several else None)


def _tablet(device_id):
    """The tablet, if the admin manages its location; else 404."""
    device = pairing.get_device(get_db(), device_id) or abort(404)
    scope.require(device.location_id)
    return device


@bp.post("/<int:device_id>/rename")
def rename(device_id):
    device = _tablet(device_id)
    form = TabletNameForm()
    if form.validate():
        pairing.rename_device(get_db(), device_id, form.name.data)
        audit.record(get_db(), "device_renamed", admin_id=g.admin.id, location_id=device.location_id,
                     device=device_id)
        flash(_a("The tablet is renamed."), "success")
    else:
        flash(str(form.name.errors[0]), "error")
    return redirect(url_for(".index"))


@bp.post("/<int:device_id>/revoke")
def revoke(device_id):
    device = _tablet(device_id)
    pairing.revoke_device(get_db(), device_id)
    audit.record(get_db(), "device_revoked", admin_id=g.admin.id, location_id=device.location_id, device=device_id)
    flash(_a("The tablet is revoked: it shows the check-in form no more."), "success")
    return redirect(url_for(".index"))
