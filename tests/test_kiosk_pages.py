import pytest

from tests.helpers import checkin_data, create_host, get_page, parse_page


@pytest.fixture
def host(db):
    """One host in the directory."""
    return create_host(db)


def test_welcome_page_offers_check_in(client):
    page = get_page(client, "/kiosk/")
    assert page.select_one("a.button[href='/kiosk/checkin']")


def test_root_redirects_to_the_kiosk(client):
    assert client.get("/").headers["Location"] == "/kiosk/"


def test_health_check_answers_with_database_and_backend(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "sms_backend": "fake", "overdue": 0}


def test_form_has_the_public_labels_each_tied_to_an_input(client):
    page = get_page(client, "/kiosk/checkin")
    labels = {label.text.strip(): label["for"] for label in page.select("label")}
    for text in ("Full name", "Mobile number", "Who are you visiting?", "Send me a confirmation by SMS"):
        assert page.select_one(f"#{labels[text]}"), text
    assert page.select_one("button[type=submit]").text.strip() == "Check in"


def test_r26_personal_fields_have_autocomplete_off(client):
    page = get_page(client, "/kiosk/checkin")
    assert page.select_one("form#checkin-form")["autocomplete"] == "off"
    for name in ("name", "phone", "host_query"):
        assert page.select_one(f"input[name={name}]")["autocomplete"] == "off"


def test_r35_confirmation_box_is_ticked_by_default_and_a_privacy_notice_is_shown(client):
    page = get_page(client, "/kiosk/checkin")
    assert page.select_one("input[name=confirm]").has_attr("checked")
    assert "do not keep your name or number" in page.select_one(".privacy").text


@pytest.mark.parametrize("url", ["/kiosk/", "/kiosk/checkin", "/kiosk/hosts?q=ka"])
def test_r24_kiosk_responses_are_not_stored(client, url):
    assert client.get(url).headers["Cache-Control"] == "no-store"


def test_r24_a_refused_check_in_is_not_stored_either(client):
    page = get_page(client, "/kiosk/checkin")
    response = client.post("/kiosk/checkin", data=checkin_data(page, name=""))
    assert response.headers["Cache-Control"] == "no-store"


def test_check_in_redirects_to_a_status_page_with_no_personal_data_in_the_url(client, host):
    page = get_page(client, "/kiosk/checkin")
    response = client.post("/kiosk/checkin", data=checkin_data(page, name="Ragnhild Berg", host_id=host.id))
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/kiosk/visits/")
    assert "Ragnhild" not in location and "41234" not in location


def test_status_page_shows_the_host_by_name_and_no_visitor_data(client, host, app):
    page = get_page(client, "/kiosk/checkin")
    location = client.post("/kiosk/checkin", data=checkin_data(page, host_id=host.id)).headers["Location"]
    app.extensions["dispatcher"].drain(timeout=5)
    status_page = get_page(client, location)
    assert "Kari Ødegård" in status_page.text
    assert "Ragnhild" not in status_page.text and "412 34 999" not in status_page.text
    assert client.get(location).headers["Cache-Control"] == "no-store"


def test_r25_check_in_rotates_the_session_cookie(app, client, host):
    page = get_page(client, "/kiosk/checkin")
    before = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    client.post("/kiosk/checkin", data=checkin_data(page, host_id=host.id))
    assert client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value != before


@pytest.mark.parametrize("field, data, message", [
    ("name", {"name": ""}, "Enter your full name."),
    ("name", {"name": "x" * 61}, "Your name is too long. Write at most 60 characters."),
    ("name", {"name": "Ragnhild\x1b[31m Berg"}, "Your name contains characters we cannot use."),
    ("phone", {"phone": ""}, "Enter your mobile number."),
    ("phone", {"phone": "22 12 34 56"}, "Enter a mobile number. We can only send text messages to mobile phones."),
    ("phone", {"phone": "070-123 45 67"}, "This looks like a number from Sweden. Add +46 in front of it."),
    ("host_query", {"host_id": ""}, "Choose the person you are visiting from the list."),
    ("host_query", {"host_id": "999"}, "Choose the person you are visiting from the list."),
    ("host_query", {"host_id": "'; DROP TABLE hosts"}, "Choose the person you are visiting from the list."),
])
def test_a_bad_field_gets_its_message_next_to_it_and_nothing_is_sent(client, host, sms_outbox, field, data, message):
    page = get_page(client, "/kiosk/checkin")
    response = client.post("/kiosk/checkin", data={**checkin_data(page, host_id=host.id), **data})
    assert response.status_code == 422
    result = parse_page(response)
    assert result.select_one(f"#{field}-error").text.strip() == message
    assert result.select_one(f"#{field}")["aria-invalid"] == "true"
    assert message in result.select_one(".error-summary").text
    assert sms_outbox == []


def test_a_form_sent_by_script_with_a_mistake_keeps_what_the_visitor_typed(client, host):
    page = get_page(client, "/kiosk/checkin")
    response = client.post("/kiosk/checkin", data=checkin_data(page, name="Ragnhild Berg", phone="22 12 34 56",
                                                              host_id=host.id, host_query="Kari Ødegård"))
    result = parse_page(response)
    assert response.status_code == 422
    assert result.select_one("#name")["value"] == "Ragnhild Berg"
    assert result.select_one("#host_id")["value"] == str(host.id)


def test_without_javascript_a_mistake_redirects_to_a_form_that_shows_it_and_nothing_typed(no_script_client, host):
    # Issue 9, item 2: the answer to a plain POST becomes a history entry that Chromium keeps in its session files,
    # POST body included; after a redirect the entry is a plain GET.
    page = get_page(no_script_client, "/kiosk/checkin")
    response = no_script_client.post("/kiosk/checkin", data=checkin_data(
        page, name="Ragnhild Berg", phone="22 12 34 56", host_id=host.id, host_query="Kari Ødegård"))
    assert (response.status_code, response.headers["Location"]) == (303, "/kiosk/checkin")
    shown = no_script_client.get("/kiosk/checkin")
    result = parse_page(shown)
    assert "Enter a mobile number" in result.select_one("#phone-error").text
    assert result.select_one("#error-summary") is not None
    assert "Ragnhild" not in shown.get_data(as_text=True) and "22 12 34 56" not in shown.get_data(as_text=True)
    assert parse_page(no_script_client.get("/kiosk/checkin")).select_one("#phone-error") is None  # shown once


def test_r20_a_check_in_without_csrf_token_is_refused_and_sends_nothing(client, host, sms_outbox):
    response = client.post("/kiosk/checkin", data={"name": "Ragnhild Berg", "phone": "41234999", "host_id": host.id})
    assert response.status_code == 400
    assert "expired" in parse_page(response).select_one("h1").text
    assert sms_outbox == []


def test_host_search_answers_json_from_two_letters(client, host):
    assert client.get("/kiosk/hosts?q=k").json == []
    assert client.get("/kiosk/hosts?q=ka").json == [{"id": host.id, "name": "Kari Ødegård", "department": "Sales"}]


def test_host_search_never_sends_a_phone_number(client, host):
    body = client.get("/kiosk/hosts?q=kari").get_data(as_text=True)
    assert "+47" not in body and "41234567" not in body


def test_unknown_visit_is_not_found(client):
    assert client.get("/kiosk/visits/nope").status_code == 404
    assert client.get("/kiosk/visits/nope/status", headers={"Accept": "application/json"}).json == {
        "error": "Not Found"}


def test_r32_an_unexpected_error_shows_a_plain_page_without_a_traceback(app, client, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("kiosk.walkin.views.search_hosts", explode)
    response = client.get("/kiosk/hosts?q=kari")
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "secret internals" not in text and "Traceback" not in text
    assert "Sorry, something went wrong" in text


def test_health_check_says_503_when_the_database_cannot_be_read(app, client, tmp_path):
    app.config["DATABASE"] = str(tmp_path / "missing-folder" / "kiosk.db")
    app.extensions["db"].db = None  # drop this thread's kept connection
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "unreachable", "sms_backend": "fake"}


def test_a_host_name_typed_in_full_without_choosing_from_the_list_is_accepted(client, host, sms_outbox, app):
    page = get_page(client, "/kiosk/checkin")
    response = client.post("/kiosk/checkin", data=checkin_data(page, host_query="kari ødegård"))
    assert response.status_code == 302 and response.location.startswith("/kiosk/visits/")
    app.extensions["dispatcher"].drain(timeout=10)
    assert sms_outbox[0].to == host.phone


def test_part_of_a_name_still_asks_to_choose_from_the_list(client, host, sms_outbox):
    page = get_page(client, "/kiosk/checkin")
    response = client.post("/kiosk/checkin", data=checkin_data(page, host_query="Kari"))
    assert response.status_code == 422
    assert parse_page(response).select_one("#host_query-error").text.strip() == (
        "Choose the person you are visiting from the list.")
    assert sms_outbox == []


def test_the_nobody_found_message_is_on_the_page_for_everyone_to_see(client, host):
    page = get_page(client, "/kiosk/checkin")
    none = page.select_one("#host-none")
    assert none.has_attr("hidden") and "sr-only" not in none.get("class", [])  # shown by checkin.js
    assert none.text.strip() == "Nobody found. Try the surname, or choose reception below."
