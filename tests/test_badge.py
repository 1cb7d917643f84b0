"""Issue 15: the printed visitor badge, as the server renders it. The badge itself is built and printed in the
tablet's browser (tests/test_browser_badge.py); here: the settings, the admin checkbox, and pages that carry the badge's
template, stylesheet and script only while the office prints badges, with no visitor data in them."""

import json
from types import SimpleNamespace

import pytest
from flask import render_template

from kiosk import create_app
from kiosk.config import ConfigError
from kiosk.db import get_db
from kiosk.walkin.forms import RECEPTION, CheckinForm
from tests.conftest import TEST_CONFIG
from tests.helpers import admin_client, create_school_visit, get_page, pair_tablet, parse_page, tablet_client

CHECKIN = "/kiosk/checkin"


def badge_parts(page):
    """The badge's template, stylesheet and script in a parsed page."""
    return (page.select_one("template#badge-template"), page.select_one("link[href='/static/css/badge.css']"),
            page.select_one("script[src='/static/js/badge.js']"))


def text(element):
    """An element's text, also inside a <template> (whose strings BeautifulSoup's .text leaves out)."""
    return "".join(element.find_all(string=True))


def settings_form(page, **changes):
    """The admin settings form's fields as a browser sends them (an unticked checkbox is not sent)."""
    form = page.select_one("form[action='/admin/settings']")
    data = {field["name"]: field.get("value", "") for field in form.select("input")
            if field.get("type") != "checkbox" or field.has_attr("checked")}
    data.update({area["name"]: area.text.strip() for area in form.select("textarea")})
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# Settings


def test_badges_are_off_by_default_and_the_check_in_page_has_no_badge(client):
    assert badge_parts(get_page(client, CHECKIN)) == (None, None, None)


def test_with_badges_on_the_check_in_page_carries_the_badge_template_stylesheet_and_script(make_app):
    app = make_app(BADGE=True)
    template, stylesheet, script = badge_parts(get_page(tablet_client(app), CHECKIN))
    assert template is not None and stylesheet is not None and script is not None
    assert template["data-people"] == "visitor"
    assert template["data-size"] == "label62"


def test_the_badge_template_holds_the_company_and_no_visitor_data(make_app):
    app = make_app(BADGE=True, COMPANY_NAME="Fjordlys AS")
    template, _, _ = badge_parts(get_page(tablet_client(app), CHECKIN))
    assert text(template.select_one(".badge-kind")) == "Visitor"
    assert text(template.select_one(".badge-company")) == "Fjordlys AS"
    assert [text(slot) for slot in template.select("[data-badge]")] == ["", "", "", ""]  # name, group, host, date


def test_the_badge_says_reception_for_a_visitor_who_picks_reception(make_app):
    app = make_app(BADGE=True)
    template, _, _ = badge_parts(get_page(tablet_client(app), CHECKIN))
    assert (template["data-reception"], template["data-reception-name"]) == (RECEPTION, "reception")


@pytest.mark.parametrize("size", ["a7", "A7"])
def test_the_a7_size_reaches_the_badge_template(make_app, size):
    app = make_app(BADGE=True, BADGE_SIZE=size)
    template, _, _ = badge_parts(get_page(tablet_client(app), CHECKIN))
    assert template["data-size"] == "a7"


@pytest.mark.parametrize("size", ["a4", "62mm", "label", ""])
def test_a_badge_size_other_than_label62_or_a7_stops_start_up_with_a_clear_message(tmp_path, size):
    with pytest.raises(ConfigError, match=r"KIOSK_BADGE_SIZE must be label62 \(62 mm continuous labels, cut at "
                                          r"100 mm\) or a7 \(74 × 105 mm\)"):
        create_app({**TEST_CONFIG, "DATABASE": str(tmp_path / "kiosk.db"), "BADGE_SIZE": size})


def test_badges_and_their_size_come_from_the_environment(monkeypatch, tmp_path):
    for key in ("KIOSK_BADGE", "KIOSK_BADGE_SIZE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("KIOSK_SECRET_KEY", "s3cret")
    monkeypatch.setenv("KIOSK_DATABASE", str(tmp_path / "kiosk.db"))
    monkeypatch.setenv("KIOSK_SMS_BACKEND", "fake")
    monkeypatch.setenv("KIOSK_BADGE", "1")
    monkeypatch.setenv("KIOSK_BADGE_SIZE", "a7")
    app = create_app()
    assert (app.config["BADGE"], app.config["BADGE_SIZE"]) == (True, "a7")


def test_a_check_in_page_for_the_visitors_own_phone_never_prints_a_badge(make_app):
    app = make_app(BADGE=True)
    phone_page = SimpleNamespace(phone=True, action=CHECKIN, search_url="/kiosk/hosts", leave_url="/kiosk/",
                                 idle_seconds=60)
    with app.test_request_context(CHECKIN):
        html = render_template("kiosk/checkin.html", form=CheckinForm(), reception=RECEPTION, page=phone_page)
    assert "badge" not in html


# The admin area


def test_the_admin_settings_show_the_badge_checkbox_with_its_default_and_size(make_app):
    page = get_page(admin_client(make_app(BADGE_SIZE="a7")), "/admin/settings")
    box = page.select_one("#visitor-badge input[type=checkbox][name=BADGE]")
    assert not box.has_attr("checked")
    assert page.select_one(f"label[for={box['id']}]").text.strip() == "Print a visitor badge after each check-in"
    hint = page.select_one(f"#{box['aria-describedby']}").text
    assert "A7 (74 × 105 mm)" in hint and hint.endswith("Default: off (from KIOSK_BADGE).")


def test_the_admin_checkbox_turns_badges_on_and_the_check_in_page_follows_it(app):
    admin, tablet = admin_client(app), tablet_client(app)
    response = admin.post("/admin/settings", data=settings_form(get_page(admin, "/admin/settings"), BADGE="y"))
    assert response.status_code == 302
    assert badge_parts(get_page(tablet, CHECKIN))[0] is not None
    assert get_page(admin, "/admin/settings").select_one("input[name=BADGE]").has_attr("checked")


def test_unticking_the_admin_checkbox_follows_the_configuration_again(app, db):
    admin, tablet = admin_client(app), tablet_client(app)
    admin.post("/admin/settings", data=settings_form(get_page(admin, "/admin/settings"), BADGE="y"))
    assert {row["key"]: json.loads(row["value"]) for row in db["settings"].rows} == {"BADGE": True}
    admin.post("/admin/settings", data=settings_form(get_page(admin, "/admin/settings"), BADGE=None))
    assert db["settings"].count == 0
    assert badge_parts(get_page(tablet, CHECKIN))[0] is None


def test_the_admin_checkbox_can_switch_badges_off_that_the_environment_turns_on(make_app):
    app = make_app(BADGE=True)
    admin = admin_client(app)
    response = admin.post("/admin/settings", data=settings_form(get_page(admin, "/admin/settings"), BADGE=None))
    assert response.status_code == 302
    with app.app_context():
        assert [json.loads(row["value"]) for row in get_db()["settings"].rows] == [False]
    assert badge_parts(get_page(tablet_client(app), CHECKIN))[0] is None


# School groups


@pytest.fixture
def school_visit(app, host):
    """Today's school visit for Kari Ødegård: Ola Nordmann and Kari Kanarifugl (pupils), Liv Lærer (teacher)."""
    with app.app_context():
        return create_school_visit(get_db(), host)


def group_page(app, visit_id):
    client = app.test_client()
    pair_tablet(app, client)
    return parse_page(client.get(f"/kiosk/school/{visit_id}"))


def test_without_badges_the_school_group_page_offers_none(app, school_visit):
    page = group_page(app, school_visit)
    assert badge_parts(page) == (None, None, None)
    assert page.select_one("#badge-pupils") is None
    assert page.select("[data-badge-name]") == []


def test_with_badges_the_school_group_page_offers_a_badge_for_each_pupil_never_sent_to_the_server(app, school_visit):
    app.config["BADGE"] = True
    page = group_page(app, school_visit)
    box = page.select_one("#school-group input#badge-pupils")
    assert box.has_attr("checked") and not box.has_attr("name")
    assert page.select_one("label[for=badge-pupils]").text == "Print a badge for each pupil who arrives"
    assert [item["data-badge-name"] for item in page.select("#school-people li[data-badge-name]")] == [
        "Kari K.", "Ola N."]  # pupils only, first name and last initial, as the page already shows them


def test_the_pupils_badges_name_the_school_and_the_host(app, school_visit):
    app.config["BADGE"] = True
    template, stylesheet, script = badge_parts(group_page(app, school_visit))
    assert template["data-people"] == "pupils" and stylesheet is not None and script is not None
    assert text(template.select_one("[data-badge=group]")) == "Bjerke videregående skole"
    assert text(template.select_one("[data-badge=host]")) == "Kari Ødegård"
    assert text(template.select_one("[data-badge=name]")) == ""
