"""Reading a host's reply (issue 14): on the way, in how many minutes, cannot come, or Twilio's keyword, in the
kiosk's ten languages. kiosk/messaging/replies.py; the webhook around it is in tests/test_host_replies.py."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.messaging.replies import COMING, DECLINED, KEYWORD, Reply, understand


@pytest.mark.parametrize("body", [
    "OK", "ok!", "Ok 👍", "👍", "kommer", "Kommer!", "on my way", "On my way!", "coming", "yes", "Ja", "jepp",
    "kjem", "kommer straks", "på vei", "på väg", "tulossa", "tulen", "komme gleich", "bin unterwegs", "już idę",
    "idę", "вже йду", "йду", "قادم", "في الطريق", "no problem", "No worries, coming", "nie ma problemu", "",
    "   ", "?", "Hvem er det?",
])
def test_a_reply_without_minutes_means_on_the_way(body):
    assert understand(body) == Reply(COMING, None)


@pytest.mark.parametrize("body, minutes", [
    ("5", 5), ("5 min", 5), ("5min", 5), ("10 minutter", 10), ("10 minuttar", 10), ("om 5", 5), ("kommer om 5 min", 5),
    ("OK, 10 minutes", 10), ("in 2 mins", 2), ("10 minuter", 10), ("10 minutters", 10), ("5 minuuttia", 5),
    ("in 5 Minuten", 5), ("za 5 minut", 5), ("за 5 хвилин", 5), ("٥ دقائق", 5), ("١٠", 10), ("0", None),
    ("5-10 min", 10), ("5–10", 10), ("1 time", 60), ("1 h", 60), ("2 timer", 120), ("1 tunti", 60),
    ("1 Stunde", 60), ("1 godzina", 60), ("1 година", 60), ("ok 15", 15), ("180", 180), ("181", None),
    ("2026", None), ("kl 10:30", None), ("14.15", None), ("at 10:30, 5 min", None),
])
def test_a_number_in_a_reply_is_the_minutes(body, minutes):
    assert understand(body) == Reply(COMING, minutes)


@pytest.mark.parametrize("body", [
    "Nei", "no", "No, in a meeting", "nope", "can't come", "Cannot make it", "I can’t, sorry", "kan ikke",
    "Kan ikke komme, er i møte", "kan ikkje", "kommer ikke", "Nej", "kan inte", "hinner inte", "Ei", "en pääse",
    "en ehdi", "nein", "kann nicht", "nie", "nie mogę", "nie dam rady", "ні", "не можу", "لا", "لا أستطيع",
    "kan ikke før 10:30", "can't, 20 min meeting",
])
def test_a_reply_that_says_no_means_cannot_come(body):
    assert understand(body).kind == DECLINED


@pytest.mark.parametrize("body", ["STOP", "stop", " Stop ", "STOPALL", "UNSUBSCRIBE", "cancel", "END", "QUIT",
                                  "START", "UNSTOP", "HELP", "help!", "INFO"])
def test_twilios_keywords_stay_twilios(body):
    assert understand(body) == Reply(KEYWORD)


def test_an_opt_out_type_from_twilio_is_a_keyword_whatever_the_words():
    # Advanced Opt-Out can be set up with words in other languages ("AVSLUTT"); Twilio then says so.
    assert understand("AVSLUTT", opt_out_type="STOP") == Reply(KEYWORD)


def test_a_keyword_inside_a_sentence_is_not_a_keyword():
    assert understand("stop by in 5") == Reply(COMING, 5)


@given(st.text(max_size=400))
def test_r38_any_text_is_understood_without_an_error(body):
    reply = understand(body)
    assert reply.kind in (COMING, DECLINED, KEYWORD)
    assert reply.minutes is None or 0 < reply.minutes <= 180
