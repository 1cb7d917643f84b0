"""Group check-in on the kiosk: today's visits by school, short names, one visit record and one host SMS."""

from datetime import date

import pytest

from kiosk.schools import visits as schools
from tests.helpers import (
    SCHOOL,
    create_host,
    create_school_visit,
    csrf_token,
    drain,
    get_page,
    member_ids,
    pair_tablet,
    parse_page,
    tablet_client,
)
from tests.helpers import school_check_in as check_in

TEACHER = "+4741234999"


@pytest.fixture
def host(db):
    """A host who reads English (the SMS texts below are the English source)."""
    return create_host(db, language="en")


@pytest.fixture
def visit_id(db, host):
    return create_school_visit(db, host)


def check_in_with_a_teacher_phone(app, client, db, host):
    """Check the whole group of a new visit, whose teacher gave TEACHER as mobile, in and wait for its SMS."""
    check_in(client, create_school_visit(db, host, teacher_phone=TEACHER))
    drain(app)


def test_the_welcome_screen_has_no_school_button_without_a_visit_today(client, db, host):
    create_school_visit(db, host, visit_date=date.fromordinal(schools.today().toordinal() + 1))
    assert "School visit" not in get_page(client, "/kiosk/").text


def test_the_welcome_screen_offers_todays_school_visits(client, visit_id):
    link = get_page(client, "/kiosk/").find("a", string="School visit")
    assert link["href"] == "/kiosk/school/"
    page = get_page(client, link["href"])
    assert [a.text for a in page.select(".school-visits a")] == [SCHOOL]


def test_the_group_page_shows_first_names_and_last_initials_only(client, visit_id):
    page = get_page(client, f"/kiosk/school/{visit_id}")
    names = [label.text for label in page.select("#school-people label")]
    assert names == ["Liv L. (teacher)", "Kari K. – 8B", "Ola N."]
    assert "Kanarifugl" not in page.text and "Nordmann" not in page.text
    assert page.select_one("label[for=school-search]").text == "Find a name"
    assert page.select_one("script[src$='school.js']")
    assert page.select_one("button[type=submit]").text == "Check in group"


def test_checking_in_a_group_sends_one_host_sms_and_shows_the_status_page(app, client, db, host, visit_id, sms_outbox):
    response = check_in(client, visit_id, count=2)
    assert response.status_code == 302 and response.location.startswith(f"/kiosk/school/{visit_id}/checked-in/")
    app.extensions["dispatcher"].drain(timeout=10)
    assert [(sms.to, sms.body) for sms in sms_outbox] == [(host.phone, f"{SCHOOL}: 2 of 3 have arrived at reception.")]
    record = next(db["visits"].rows)
    assert record["host_id"] == host.id and record["kiosk_id"] is not None
    assert set(record) == {"id", "host_id", "kiosk_id", "created_at", "expires_at", "reply_asked", "escalate_at",
                           "acknowledged_at", "ack_minutes", "location_id"}
    assert (record["reply_asked"], record["escalate_at"]) == (0, None)  # a group is not asked to reply
    assert get_page(client, response.location).select_one("h1")


def test_after_check_in_the_teacher_sees_how_many_arrived_who_is_missing_and_the_way_to_apprenticeships(
        app, client, visit_id):
    response = check_in(client, visit_id, count=2)  # Liv and Kari (teachers first); Ola is missing
    page = get_page(client, response.location)
    assert page.select_one("h1").text == f"{SCHOOL} is checked in"
    assert page.select_one("#arrivals-heading").text == "2 of 3 have arrived"
    assert [li.text for li in page.select("#missing li")] == ["Ola N."]
    assert "Nordmann" not in page.text  # first name and last initial only
    assert page.select_one("#to-apprenticeships")["href"] == f"/kiosk/school/{visit_id}/apprenticeships"
    assert page.select_one("#visit-status")["data-status-url"].startswith("/kiosk/visits/")  # the SMS status too
    drain(app)


def test_everyone_is_here_checks_in_all_who_have_not_arrived_in_one_sms(app, client, db, visit_id, sms_outbox):
    check_in(client, visit_id, count=1)
    drain(app)
    page = get_page(client, f"/kiosk/school/{visit_id}")
    assert [b.text for b in page.select("#school-group button[type=submit]")] == ["Check in group", "Everyone is here"]
    response = client.post(f"/kiosk/school/{visit_id}", data={"csrf_token": csrf_token(page), "everyone": "1"})
    assert response.status_code == 302
    drain(app)
    assert len(sms_outbox) == 2 and "2 more" in sms_outbox[-1].body and "3 of 3" in sms_outbox[-1].body
    arrived = get_page(client, response.location)
    assert arrived.select_one("#arrivals-heading").text == "3 of 3 have arrived"
    assert arrived.select_one("#missing") is None


def test_the_checked_in_page_is_only_for_the_tablet_that_checked_the_group_in(app, client, visit_id):
    location = check_in(client, visit_id).headers["Location"]
    other = app.test_client()
    pair_tablet(app, other, name="Other tablet")
    assert other.get(location).status_code == 404
    drain(app)


def test_one_arrival_is_singular(app, client, visit_id, sms_outbox):
    check_in(client, visit_id, count=1)
    app.extensions["dispatcher"].drain(timeout=10)
    assert sms_outbox[0].body == f"{SCHOOL}: 1 of 3 has arrived at reception."


def test_the_group_sms_is_in_the_hosts_language(app, client, db, sms_outbox):
    swedish = create_host(db, name="Sofia Öberg", phone="+46701234505", language="sv")
    check_in(client, create_school_visit(db, swedish), count=1)
    app.extensions["dispatcher"].drain(timeout=10)
    assert sms_outbox[0].body.startswith(f"{SCHOOL}: 1 av 3 ")


def test_late_arrivals_are_shown_and_get_a_short_host_sms(app, client, visit_id, sms_outbox):
    check_in(client, visit_id, count=2)
    page = get_page(client, f"/kiosk/school/{visit_id}")
    assert len(page.select("input[name=person][disabled][checked]")) == 2
    assert "already checked in" in page.text
    check_in(client, visit_id)
    app.extensions["dispatcher"].drain(timeout=10)
    assert sms_outbox[-1].body == f"{SCHOOL}: 1 more has arrived (3 of 3)."


def test_the_teacher_gets_an_sms_when_a_mobile_was_given(app, client, db, host, sms_outbox):
    check_in_with_a_teacher_phone(app, client, db, host)
    teacher = [sms for sms in sms_outbox if sms.to == TEACHER]
    assert len(teacher) == 1 and "3 of 3" in teacher[0].body
    assert len(sms_outbox) == 2


def test_checking_in_nobody_sends_nothing(app, client, db, visit_id, sms_outbox):
    page = get_page(client, f"/kiosk/school/{visit_id}")
    response = client.post(f"/kiosk/school/{visit_id}", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 422
    assert "Tick at least one person" in parse_page(response).select_one("#error-summary").text
    assert db["visits"].count == 0 and sms_outbox == []


def test_without_javascript_checking_in_nobody_redirects_so_the_roster_is_not_behind_a_post(no_script_client,
                                                                                            visit_id):
    client = no_script_client
    page = get_page(client, f"/kiosk/school/{visit_id}")
    response = client.post(f"/kiosk/school/{visit_id}", data={"csrf_token": csrf_token(page)})
    assert (response.status_code, response.headers["Location"]) == (303, f"/kiosk/school/{visit_id}?nobody=1")
    assert "Tick at least one person" in get_page(client, response.headers["Location"]).text


def test_people_of_another_visit_cannot_be_checked_in(client, db, host, visit_id):
    other = create_school_visit(db, host, school="Other school")
    page = get_page(client, f"/kiosk/school/{other}")
    ids = member_ids(page)
    client.post(f"/kiosk/school/{visit_id}", data={"csrf_token": csrf_token(page), "person": ids})
    assert db.execute("SELECT count(*) FROM school_people WHERE arrived_at IS NOT NULL").fetchone()[0] == 0


def test_a_visit_on_another_day_is_not_offered(client, db, host):
    later = create_school_visit(db, host, visit_date=date.fromordinal(schools.today().toordinal() + 1))
    get_page(client, f"/kiosk/school/{later}", status=404)


@pytest.mark.parametrize("url", ["/kiosk/school/", "/kiosk/school/{id}"])
def test_an_unpaired_device_sees_no_school_data(unpaired_client, visit_id, url):
    response = unpaired_client.get(url.format(id=visit_id))
    assert response.status_code == 403
    assert b"Bjerke" not in response.data and b"Ola" not in response.data


def test_the_host_search_never_finds_pupils(app, visit_id):
    client = tablet_client(app)
    assert client.get("/kiosk/hosts?q=Kanarifugl").json == []
    assert client.get("/kiosk/hosts?q=Ola").json == []


def test_school_pages_are_not_cached(client, visit_id):
    assert client.get(f"/kiosk/school/{visit_id}").headers["Cache-Control"] == "no-store"


def test_reception_is_told_when_the_host_cannot_be_reached(app, client, host, visit_id, sms, sms_outbox):
    sms.fail(to=host.phone, code=21211)
    response = check_in(client, visit_id)
    app.extensions["dispatcher"].drain(timeout=10)
    assert [s.to for s in sms_outbox] == [app.config["RECEPTION_PHONE"]]
    assert SCHOOL in sms_outbox[0].body and host.name in sms_outbox[0].body
    status = client.get(get_page(client, response.location).select_one("#visit-status")["data-status-url"]).json
    assert status["reception"] == "sent" and status["final"]


def test_reception_is_told_when_the_host_was_removed(app, client, db, host, visit_id, sms_outbox):
    from kiosk.hosts.directory import delete_host

    delete_host(db, host.id)
    check_in(client, visit_id, count=1)
    app.extensions["dispatcher"].drain(timeout=10)
    assert [(s.to, s.body) for s in sms_outbox] == [(app.config["RECEPTION_PHONE"],
                                                    f"{SCHOOL}: 1 of 3 has arrived at reception.")]


def test_the_teacher_hears_the_host_was_told_only_after_the_host_sms_was_accepted(app, client, db, host, sms,
                                                                                  sms_outbox):
    sms.fail(to=host.phone, status=503)
    check_in_with_a_teacher_phone(app, client, db, host)
    assert [s.to for s in sms.attempts] == [host.phone, host.phone, TEACHER]
    assert sms_outbox[-1].body.endswith(f"and {host.name} has been told you are here.")


def test_the_teacher_hears_reception_was_told_when_the_host_cannot_be_reached(app, client, db, host, sms,
                                                                              sms_outbox):
    sms.fail(to=host.phone, code=21211)
    check_in_with_a_teacher_phone(app, client, db, host)
    assert [s.to for s in sms_outbox] == [app.config["RECEPTION_PHONE"], TEACHER]
    assert sms_outbox[-1].body.endswith("and reception has been told you are here.")


def test_when_the_school_visit_is_gone_the_checked_in_page_still_shows_the_sms_status(app, client, db, visit_id):
    """Deleted by an admin (or past midnight) between the check-in and the page: the teacher still sees who was told,
    never a dead end."""
    location = check_in(client, visit_id).headers["Location"]
    schools.delete_visit(db, visit_id)
    response = client.get(location)
    assert response.status_code == 302 and response.location.startswith("/kiosk/visits/")
    assert get_page(client, response.location).select_one("#visit-status")
    drain(app)
