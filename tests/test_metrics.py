"""Issue 13, metrics: /metrics in Prometheus's text format behind a bearer token; counts that move with check-ins,
SMS, refusals and purges; the counts of every gunicorn worker added up; no personal data in any label or file."""

import ast
import json
import os
import re
import runpy
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from twilio.request_validator import RequestValidator

from kiosk import create_app, metrics, retention
from kiosk.config import ConfigError
from kiosk.db import get_db
from kiosk.guard import abuse
from kiosk.sms import SmsSendError
from tests.deployment import Gunicorn, gunicorn_env, make_instance, post_form, tablet_session, wait_until
from tests.helpers import (
    CANARY_NAME,
    CANARY_PHONE,
    CANARY_PHONE_TYPED,
    create_host,
    create_school_visit,
    drain,
    messages,
    pair_tablet,
    post_check_in,
    register_visit,
    school_check_in,
    sweep_now,
)
from tests.twilio_fixtures import AUTH_TOKEN

ROOT = Path(__file__).parent.parent
TOKEN = "metrics-token-for-tests-0123456789abcdefghij"
CANARIES = [b"Kanarifugl", b"Nordmann", CANARY_PHONE.encode(), CANARY_PHONE[3:].encode(), CANARY_PHONE_TYPED.encode()]
HOST = "+4741234567"  # the conftest `host`
PUBLIC_URL = "https://kiosk.example.org"
# Every label of every metric, and the fixed set its values come from ("other" stands for anything else).
ALLOWED = {
    "velkommen_checkins": {"kind": metrics.KINDS, "outcome": metrics.OUTCOMES},
    "velkommen_sms": {"recipient": metrics.RECIPIENTS, "status": metrics.SMS_STATUSES},
    "velkommen_sms_retries": {"recipient": metrics.RECIPIENTS, "cause": metrics.RETRY_CAUSES},
    "velkommen_twilio_request_seconds": {"operation": metrics.TWILIO_OPERATIONS, "outcome": metrics.TWILIO_OUTCOMES},
    "velkommen_refusals": {"reason": metrics.REFUSAL_REASONS},
    "velkommen_escalations": {"cause": metrics.ESCALATION_CAUSES},
    "velkommen_replies": {"outcome": metrics.REPLY_OUTCOMES},
    "velkommen_purged": {"what": tuple(metrics.PURGED.values())},
    "velkommen_messages_past_deadline": {},
}


@pytest.fixture
def app(make_app):
    """An app with the fake SMS backend whose /metrics answers TOKEN."""
    return make_app(METRICS_TOKEN=TOKEN)


@pytest.fixture
def scraper(app):
    """A test client that is neither a tablet nor an admin, as Prometheus is."""
    return app.test_client()


def scrape(client, token=TOKEN):
    response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.data[:300]
    return response.get_data(as_text=True)


def value(text, name, **labels):
    """The value of one sample of a scrape's text; 0 for a sample not (yet) there."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def moved(before, after, name, **labels):
    return value(after, name, **labels) - value(before, name, **labels)


def exported_names():
    """Every sample name /metrics can show, read from kiosk/metrics.py itself."""
    names = {metrics.PAST_DEADLINE}
    for family in metrics.REGISTRY.collect():
        suffixes = ("_total",) if family.type == "counter" else ("_bucket", "_count", "_sum")
        names |= {family.name + suffix for suffix in suffixes}
    return names


# Who may read /metrics


def test_metrics_are_a_404_while_no_token_is_set(make_app):
    client = make_app().test_client()
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.parametrize("authorization", [
    None, "", "Bearer", "Bearer ", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}", TOKEN,
    f"Bearer {TOKEN.upper()}",
])
def test_metrics_without_the_right_bearer_token_are_refused(scraper, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = scraper.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert response.headers["Cache-Control"] == "no-store"
    assert b"velkommen_" not in response.data


def test_the_scheme_is_read_in_any_case_as_http_says(scraper):
    assert scraper.get("/metrics", headers={"Authorization": f"bEaReR {TOKEN}"}).status_code == 200


def test_a_refused_scrape_is_logged_without_the_token_it_sent(scraper, log_records):
    scraper.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"})
    lines = [record.getMessage() for record in log_records if record.name == "kiosk.metrics"]
    assert len(lines) == 1 and "refused" in lines[0]
    assert not [line for line in lines if TOKEN in line]


def test_with_the_token_metrics_are_prometheus_text_never_stored_and_need_no_session(scraper):
    response = scraper.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers  # no session, no tablet check, nothing that keeps a visitor
    families = {family.name for family in text_string_to_metric_families(response.get_data(as_text=True))}
    assert metrics.PAST_DEADLINE in families


def test_every_series_is_there_at_zero_before_anything_happened(scraper):
    """Prometheus's increase() misses the first count of a series that appears with it."""
    samples = {(sample.name, tuple(sorted(sample.labels.items())))
               for family in text_string_to_metric_families(scrape(scraper)) for sample in family.samples}
    for recipient in metrics.RECIPIENTS:
        for status in metrics.SMS_STATUSES:
            assert ("velkommen_sms_total", (("recipient", recipient), ("status", status))) in samples
    for reason in metrics.REFUSAL_REASONS:
        assert ("velkommen_refusals_total", (("reason", reason),)) in samples
    assert ("velkommen_twilio_request_seconds_count", (("operation", "send"), ("outcome", "error"))) in samples
    assert ("velkommen_purged_total", (("what", "consents"),)) in samples


def test_metrics_take_only_get(scraper):
    assert scraper.post("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 405


def test_a_metrics_token_too_short_to_be_safe_stops_start_up(tmp_path):
    with pytest.raises(ConfigError, match="KIOSK_METRICS_TOKEN must be at least 32 characters"):
        create_app({"SECRET_KEY": "x", "SMS_BACKEND": "fake", "DATABASE": str(tmp_path / "kiosk.db"),
                    "METRICS_TOKEN": "short"})


def test_the_metrics_token_is_read_from_the_environment_exactly_as_written(monkeypatch, tmp_path):
    token = "1" * 31 + "e9"  # JSON would read this as a number
    monkeypatch.setenv("KIOSK_SECRET_KEY", "x")
    monkeypatch.setenv("KIOSK_DATABASE", str(tmp_path / "kiosk.db"))
    monkeypatch.setenv("KIOSK_METRICS_TOKEN", token)
    assert create_app().config["METRICS_TOKEN"] == token


# What is counted


def test_a_check_in_counts_the_check_in_and_its_two_sms(client, scraper, host):
    before = scrape(scraper)
    assert post_check_in(client, host_id=host.id).status_code == 302
    drain(client.application)
    after = scrape(scraper)
    assert moved(before, after, "velkommen_checkins_total", kind="walk-in", outcome="checked_in") == 1
    assert moved(before, after, "velkommen_sms_total", recipient="host", status="sent") == 1
    assert moved(before, after, "velkommen_sms_total", recipient="visitor", status="sent") == 1
    assert moved(before, after, "velkommen_escalations_total", cause="host_failed") == 0


def test_a_host_sms_refused_for_good_counts_a_failure_and_an_escalation_to_reception(client, scraper, host, sms):
    sms.fail(to=HOST, code=21211)
    before = scrape(scraper)
    post_check_in(client, host_id=host.id)
    drain(client.application)
    after = scrape(scraper)
    assert moved(before, after, "velkommen_sms_total", recipient="host", status="failed") == 1
    assert moved(before, after, "velkommen_escalations_total", cause="host_failed") == 1
    assert moved(before, after, "velkommen_sms_total", recipient="reception", status="sent") == 1
    assert moved(before, after, "velkommen_sms_total", recipient="visitor", status="sent") == 1
    assert moved(before, after, "velkommen_sms_retries_total", recipient="host", cause="other") == 0


@pytest.mark.parametrize("code, status, cause", [
    (None, 503, "server_error"), (20429, 429, "rate_limited"), (None, None, "no_answer"),
    (30003, 400, "handset_unreachable"),
])
def test_an_sms_tried_again_counts_the_retry_by_its_cause(client, scraper, host, sms, code, status, cause):
    sms.fail(to=HOST, code=code, status=status)
    before = scrape(scraper)
    post_check_in(client, host_id=host.id)
    drain(client.application)
    after = scrape(scraper)
    assert moved(before, after, "velkommen_sms_retries_total", recipient="host", cause=cause) == 1
    assert moved(before, after, "velkommen_sms_total", recipient="host", status="sent") == 1


def test_a_school_group_check_in_counts_as_a_school_check_in(app, client, scraper, host):
    with app.app_context():
        visit_id = create_school_visit(get_db(), host)
    before = scrape(scraper)
    assert school_check_in(client, visit_id).status_code == 302
    drain(app)
    after = scrape(scraper)
    assert moved(before, after, "velkommen_checkins_total", kind="school", outcome="checked_in") == 1
    assert moved(before, after, "velkommen_checkins_total", kind="walk-in", outcome="checked_in") == 0


@pytest.mark.parametrize("extra, reason", [({"website": "http://spam.example"}, "honeypot"),
                                           ({"form_token": "forged"}, "bad_token")])
def test_a_refused_check_in_counts_its_reason(client, scraper, host, extra, reason):
    before = scrape(scraper)
    assert post_check_in(client, host_id=host.id, **extra).status_code == 400
    after = scrape(scraper)
    assert moved(before, after, "velkommen_refusals_total", reason=reason) == 1
    assert moved(before, after, "velkommen_checkins_total", kind="walk-in", outcome="refused") == 1
    assert moved(before, after, "velkommen_checkins_total", kind="walk-in", outcome="checked_in") == 0


def test_a_tablet_over_its_hourly_check_ins_counts_a_device_limit_refusal(make_app):
    app = make_app(METRICS_TOKEN=TOKEN, CHECKINS_PER_DEVICE_PER_HOUR=1)
    with app.app_context():
        host = create_host(get_db(), phone=HOST, language="en")
    client = app.test_client()
    pair_tablet(app, client)
    before = scrape(app.test_client())
    assert post_check_in(client, host_id=host.id).status_code == 302
    assert post_check_in(client, host_id=host.id, phone="412 34 998").status_code == 429
    drain(app)
    after = scrape(app.test_client())
    assert moved(before, after, "velkommen_refusals_total", reason="device_limit") == 1
    assert moved(before, after, "velkommen_checkins_total", kind="walk-in", outcome="checked_in") == 1


def test_every_reason_the_abuse_guard_gives_is_a_label_of_its_own():
    """The guard's reasons are literals in kiosk/guard/abuse.py: every one must be in metrics.REFUSAL_REASONS, or its
    refusals would be counted as "other"."""
    tree = ast.parse(Path(abuse.__file__).read_text())
    constants = {node.targets[0].id: node.value.value for node in tree.body
                 if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                 and isinstance(node.targets[0], ast.Name)}

    def literal(node):
        return node.value if isinstance(node, ast.Constant) else constants[node.id]

    limits = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "_checkin_limits")
    reasons = {literal(call.args[2]) for call in ast.walk(tree)
               if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "_refuse"}
    reasons |= {literal(call.args[3]) for call in ast.walk(limits)
                if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "Limit"}
    reasons.add(abuse.PREFIX_BLOCKED)
    assert len(reasons) >= 9
    assert reasons == set(metrics.REFUSAL_REASONS)


def test_a_purge_counts_what_it_deleted_under_fixed_names(app, db, host):
    visit_id = register_visit(app, db, host)
    drain(app)
    db.execute("UPDATE visits SET expires_at = '2000-01-01T00:00:00' WHERE id = ?", [visit_id])
    db.conn.commit()
    before = metrics.REGISTRY.get_sample_value("velkommen_purged_total", {"what": "visits"}) or 0
    with app.app_context():
        counts = retention.purge(get_db())
    assert counts["visit records"] == 1
    assert set(counts) == set(metrics.PURGED), "a purge rule without a label of its own would count as other"
    assert metrics.REGISTRY.get_sample_value("velkommen_purged_total", {"what": "visits"}) == before + 1
    assert scrape(app.test_client()).count('velkommen_purged_total{what="visits"}') == 1


def test_a_host_sms_whose_worker_died_counts_a_failure_and_a_sweeper_escalation(app, db, host, scraper, tablet):
    visit_id = register_visit(app, db, host, kiosk_id=tablet.id, confirm=False)
    before = scrape(scraper)  # a first request starts the hourly purge, which sweeps too
    drain(app)
    db.execute("UPDATE messages SET status = 'sending', sid = NULL, owner = '999999999:1' WHERE visit_id = ?",
               [visit_id])
    db.conn.commit()
    assert sweep_now(app) == 1
    after = scrape(scraper)
    assert moved(before, after, "velkommen_sms_total", recipient="host", status="failed") == 1
    assert moved(before, after, "velkommen_escalations_total", cause="sweeper") == 1
    assert moved(before, after, "velkommen_sms_total", recipient="reception", status="sent") == 1


def test_messages_past_their_deadline_are_counted_from_the_database_at_each_scrape(app, db, host, scraper):
    visit_id = register_visit(app, db, host)
    drain(app)
    assert value(scrape(scraper), metrics.PAST_DEADLINE) == 0
    db.execute("UPDATE messages SET status = 'sending', deadline = '2000-01-01T00:00:00' WHERE visit_id = ?",
               [visit_id])
    db.conn.commit()
    assert value(scrape(scraper), metrics.PAST_DEADLINE) == 2
    assert scraper.get("/healthz").get_json()["overdue"] == 2  # the same count as the health check's


def sign(params, path):
    return RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + path, params)


def status_callback(client, sid, status):
    params = {"MessageSid": sid, "MessageStatus": status, "To": CANARY_PHONE, "AccountSid": "AC" + "0" * 32}
    return client.post("/webhooks/twilio/status", data=params,
                       headers={"X-Twilio-Signature": sign(params, "/webhooks/twilio/status")})


def test_twilios_status_callbacks_count_delivered_and_undelivered_once_each(make_app):
    app = make_app(METRICS_TOKEN=TOKEN, PUBLIC_URL=PUBLIC_URL, TWILIO_AUTH_TOKEN=AUTH_TOKEN)
    with app.app_context():
        db = get_db()
        visit_id = register_visit(app, db, create_host(db, phone=HOST, language="en"))
    drain(app)
    with app.app_context():
        sids = {recipient: row["sid"] for recipient, row in messages(get_db(), visit_id).items()}
    twilio, scraper = app.test_client(), app.test_client()
    before = scrape(scraper)
    for recipient, status in [("host", "undelivered"), ("visitor", "delivered"), ("visitor", "delivered")]:
        assert status_callback(twilio, sids[recipient], status).status_code == 204
    drain(app)
    after = scrape(scraper)
    assert moved(before, after, "velkommen_sms_total", recipient="host", status="undelivered") == 1
    assert moved(before, after, "velkommen_sms_total", recipient="visitor", status="delivered") == 1
    assert moved(before, after, "velkommen_escalations_total", cause="host_undelivered") == 1
    assert moved(before, after, "velkommen_sms_total", recipient="reception", status="sent") == 1


def test_each_call_to_twilio_is_timed_with_its_outcome(make_twilio_app, twilio_server):
    app = make_twilio_app(METRICS_TOKEN=TOKEN)
    scraper = app.test_client()
    before = scrape(scraper)
    app.extensions["sms"].send(HOST, "Hello", ref="v/host")
    twilio_server.fail(21211)
    with pytest.raises(SmsSendError):
        app.extensions["sms"].send(HOST, "Hello", ref="v/host")
    after = scrape(scraper)
    ok, error = {"operation": "send", "outcome": "ok"}, {"operation": "send", "outcome": "error"}
    assert moved(before, after, "velkommen_twilio_request_seconds_count", **ok) == 1
    assert moved(before, after, "velkommen_twilio_request_seconds_count", **error) == 1
    assert moved(before, after, "velkommen_twilio_request_seconds_bucket", le="+Inf", **ok) == 1
    assert moved(before, after, "velkommen_twilio_request_seconds_sum", **ok) > 0


# No personal data


def test_a_canary_check_in_leaves_its_name_and_number_out_of_every_label(client, scraper, host, sms):
    sms.fail(to=HOST, code=None, status=503)  # a retry too
    assert post_check_in(client, name=CANARY_NAME, phone=CANARY_PHONE_TYPED, host_id=host.id).status_code == 302
    drain(client.application)
    text = scrape(scraper)
    assert [canary for canary in CANARIES if canary in text.encode()] == []
    for family in text_string_to_metric_families(text):
        assert family.name in ALLOWED, family.name
        for sample in family.samples:
            for label, label_value in sample.labels.items():
                if label != "le":  # a histogram's bucket bound
                    assert label_value in {*ALLOWED[family.name][label], metrics.OTHER}, (sample.name, label)


def test_a_value_outside_its_fixed_set_is_counted_as_other_never_as_itself(scraper):
    metrics.refused(CANARY_NAME)
    metrics.sms_settled(CANARY_PHONE, CANARY_NAME)
    metrics.escalated(CANARY_PHONE_TYPED)
    metrics.checked_in(CANARY_NAME)
    metrics.purged({CANARY_NAME: 1})
    with metrics.twilio_call(CANARY_PHONE):
        pass
    text = scrape(scraper)
    assert [canary for canary in CANARIES if canary in text.encode()] == []
    assert value(text, "velkommen_refusals_total", reason="other") >= 1
    assert value(text, "velkommen_sms_total", recipient="other", status="other") >= 1


MULTIPROCESS_CHECK_IN = """
import sys
from kiosk import create_app
from kiosk.db import get_db
from tests.helpers import CANARY_NAME, CANARY_PHONE_TYPED, create_host, pair_tablet, post_check_in

app = create_app({"TESTING": True, "SECRET_KEY": "x", "SMS_BACKEND": "fake", "DATABASE": sys.argv[1],
                  "FORM_MIN_SECONDS": 0, "SWEEP_SECONDS": 0, "METRICS_TOKEN": sys.argv[2]})
with app.app_context():
    host = create_host(get_db(), language="en")
client = app.test_client()
pair_tablet(app, client)
assert post_check_in(client, name=CANARY_NAME, phone=CANARY_PHONE_TYPED, host_id=host.id).status_code == 302
assert app.extensions["dispatcher"].drain(timeout=10)
sys.stdout.write(client.get("/metrics", headers={"Authorization": "Bearer " + sys.argv[2]}).get_data(as_text=True))
"""


def test_in_multiprocess_mode_neither_the_scrape_nor_the_files_hold_a_canary(tmp_path):
    folder = tmp_path / "metrics"
    folder.mkdir()
    env = {key: setting for key, setting in os.environ.items() if not key.startswith(("KIOSK_", "TWILIO_"))}
    done = subprocess.run([sys.executable, "-c", MULTIPROCESS_CHECK_IN, str(tmp_path / "kiosk.db"), TOKEN], cwd=ROOT,
                          env={**env, "PROMETHEUS_MULTIPROC_DIR": str(folder)}, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    text = done.stdout.decode()
    assert value(text, "velkommen_checkins_total", kind="walk-in", outcome="checked_in") == 1
    assert value(text, "velkommen_sms_total", recipient="visitor", status="sent") == 1
    files = sorted(path.name for path in folder.iterdir())
    assert any(name.startswith("counter_") for name in files), files
    assert [canary for canary in CANARIES if canary in done.stdout] == []
    assert [(path.name, canary) for path in folder.iterdir() for canary in CANARIES
            if canary in path.read_bytes()] == []


# gunicorn: the hooks, and the counts of two workers


def gunicorn_config(monkeypatch, **env):
    """gunicorn.conf.py as read with `env`. The hooks set PROMETHEUS_MULTIPROC_DIR in this process: setenv first,
    so that monkeypatch puts back what was there before (nothing) after the test."""
    for key in ("PROMETHEUS_MULTIPROC_DIR", "KIOSK_DATABASE"):
        monkeypatch.setenv(key, "")
        monkeypatch.delenv(key)
    for key, setting in env.items():
        monkeypatch.setenv(key, setting)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


class Server:
    class log:  # noqa: N801 (gunicorn's server.log)
        @staticmethod
        def info(*args):
            pass


def test_gunicorn_keeps_the_metrics_beside_the_database_unless_told_otherwise(monkeypatch, tmp_path):
    config = gunicorn_config(monkeypatch, KIOSK_DATABASE=str(tmp_path / "instance" / "kiosk.db"))
    assert config["METRICS_DIR"] == str(tmp_path / "instance" / "metrics")
    assert config["raw_env"] == [f"PROMETHEUS_MULTIPROC_DIR={tmp_path / 'instance' / 'metrics'}"]
    told = gunicorn_config(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "elsewhere"))
    assert told["raw_env"] == [f"PROMETHEUS_MULTIPROC_DIR={tmp_path / 'elsewhere'}"]


def test_gunicorn_empties_the_metrics_folder_at_start_and_deletes_nothing_else(monkeypatch, tmp_path):
    folder = tmp_path / "metrics"
    folder.mkdir()
    stale = ["counter_123.db", "histogram_123.db", "gauge_livesum_9.db"]
    kept = ["kiosk.db", "counter_notes.txt", "README"]
    for name in stale + kept:
        (folder / name).write_bytes(b"x")
    config = gunicorn_config(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(folder))
    config["on_starting"](Server())
    assert sorted(path.name for path in folder.iterdir()) == sorted(kept)
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(folder)


def test_gunicorn_makes_the_metrics_folder_when_it_is_missing(monkeypatch, tmp_path):
    config = gunicorn_config(monkeypatch, KIOSK_DATABASE=str(tmp_path / "instance" / "kiosk.db"))
    config["on_starting"](Server())
    assert (tmp_path / "instance" / "metrics").is_dir()


def test_gunicorn_marks_a_worker_that_exited_as_dead_for_its_live_gauges(monkeypatch, tmp_path):
    folder = tmp_path / "metrics"
    folder.mkdir()
    for name in ["gauge_livesum_41.db", "gauge_liveall_41.db", "counter_41.db", "gauge_livesum_42.db"]:
        (folder / name).write_bytes(b"x")
    config = gunicorn_config(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(folder))
    config["child_exit"](Server(), type("Worker", (), {"pid": 41}))
    assert sorted(path.name for path in folder.iterdir()) == ["counter_41.db", "gauge_livesum_42.db"]


def per_worker_check_ins(folder):
    """{pid: check-ins} from each worker's own counter file."""
    counts = {}
    for path in folder.glob("counter_*.db"):
        samples = [sample for family in MultiProcessCollector.merge([str(path)], accumulate=False)
                   for sample in family.samples if sample.name == "velkommen_checkins_total"]
        counts[int(path.stem.split("_")[1])] = sum(sample.value for sample in samples)
    return counts


def scrape_over_http(url):
    response = requests.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["Cache-Control"] == "no-store"
    return response.text


def check_in_at_once(server, instance, phones):
    """Send a check-in for each of `phones` at the same time, as several tablets would."""
    with ThreadPoolExecutor(len(phones)) as pool:
        responses = list(pool.map(lambda phone: post_form(tablet_session(instance), server.url, name=CANARY_NAME,
                                                          phone=phone, host_id=instance.host_id), phones))
    assert [response.status_code for response in responses] == [302] * len(phones)


def test_under_gunicorn_the_counts_of_both_workers_add_up(monkeypatch, tmp_path, twilio_server):
    # One connection at a time per worker, so check-ins sent at once reach both workers.
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--threads 1 --worker-connections 1")
    instance = make_instance(tmp_path / "instance")
    env = gunicorn_env(instance, twilio_server.url, METRICS_TOKEN=TOKEN)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # gunicorn.conf.py's own choice: beside the database
    server = Gunicorn(env, tmp_path / "gunicorn.log")
    folder = instance.folder / "metrics"
    # The canary's number, then numbers of a prefix each (R5 would block ten of one prefix in an hour).
    phones = [CANARY_PHONE_TYPED] + [f"9{n:03d}{n:04d}" for n in range(1, 20)]
    try:
        sent = 0
        # Which worker takes a connection is the kernel's choice: batches of 4 at once until both have counted.
        while sent < len(phones) and len([n for n in per_worker_check_ins(folder).values() if n]) < 2:
            check_in_at_once(server, instance, phones[sent:sent + 4])
            sent += 4
        per_worker = per_worker_check_ins(folder)
        assert len([count for count in per_worker.values() if count]) == 2, per_worker
        assert set(per_worker) <= set(server.workers()) and sum(per_worker.values()) == sent
        wait_until(lambda: value(scrape_over_http(server.url), "velkommen_sms_total", recipient="visitor",
                                 status="sent") == sent, what="every visitor SMS to be counted")
        for _ in range(6):  # whichever worker answers, it adds up the files of both
            text = scrape_over_http(server.url)
            assert value(text, "velkommen_checkins_total", kind="walk-in", outcome="checked_in") == sent
            assert value(text, "velkommen_sms_total", recipient="host", status="sent") == sent
            ok = {"operation": "send", "outcome": "ok"}
            assert value(text, "velkommen_twilio_request_seconds_count", **ok) == 2 * sent
            assert value(text, "velkommen_twilio_request_seconds_bucket", le="+Inf", **ok) == 2 * sent
            assert value(text, "velkommen_twilio_request_seconds_sum", **ok) > 0
            assert [canary for canary in CANARIES if canary in text.encode()] == []
        assert [(path.name, canary) for path in folder.iterdir() for canary in CANARIES
                if canary in path.read_bytes()] == []
        assert requests.get(f"{server.url}/metrics", timeout=5).status_code == 401
    finally:
        log = server.stop()
    assert b"Metrics of the workers are kept in" in log


# The docs: the dashboard, the alert rules and the metrics they use


DOCS = ROOT / "docs"


def metric_names(expression):
    return set(re.findall(r"\bvelkommen_[a-z_]+", expression))


def test_the_grafana_dashboard_is_valid_json_with_a_panel_for_each_question():
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text())
    assert dashboard["title"] and dashboard["uid"] and dashboard["schemaVersion"] >= 30
    titles = " | ".join(panel["title"] for panel in dashboard["panels"]).lower()
    for question in ["check-ins per hour", "sms by status", "twilio latency p50 / p99", "refusals by reason",
                     "messages past deadline", "purged"]:
        assert question in titles
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["targets"] and set(panel["gridPos"]) == {"x", "y", "w", "h"}, panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}"


def test_every_metric_the_dashboard_uses_exists():
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text())
    used = set().union(*(metric_names(target["expr"]) for panel in dashboard["panels"] for target in panel["targets"]))
    assert used and used <= exported_names(), used - exported_names()
    assert "histogram_quantile(0.99" in json.dumps(dashboard) and "histogram_quantile(0.5" in json.dumps(dashboard)


class YamlSubset:
    """The YAML that docs/prometheus-alerts.yml uses, read without PyYAML: block mappings and sequences, plain and
    double-quoted scalars, `|` and `>-` block scalars, whole-line comments. Anything else fails an assertion."""

    def __init__(self, text):
        self.lines, self.pos = text.splitlines(), 0

    def read(self):
        document = self.node(0)
        assert self.peek() == (-1, ""), f"line {self.pos + 1} was not read"
        return document

    def peek(self):
        """The indent and text of the next line that holds something, or (-1, "") at the end."""
        while self.pos < len(self.lines) and self.lines[self.pos].strip() in ("", *self.comment()):
            self.pos += 1
        if self.pos == len(self.lines):
            return -1, ""
        line = self.lines[self.pos]
        return len(line) - len(line.lstrip(" ")), line.strip()

    def comment(self):
        line = self.lines[self.pos].strip()
        return (line,) if line.startswith("#") else ()

    def node(self, indent):
        return self.sequence(indent) if self.peek()[1].startswith("- ") else self.mapping(indent)

    def sequence(self, indent):
        items = []
        while self.peek()[0] == indent and self.peek()[1].startswith("- "):
            # The item's first key moves to the item's own indent, where its other keys are.
            self.lines[self.pos] = " " * (indent + 2) + self.peek()[1][2:]
            items.append(self.node(indent + 2))
        return items

    def mapping(self, indent):
        result = {}
        while self.peek()[0] == indent and not self.peek()[1].startswith("- "):
            key, colon, rest = self.peek()[1].partition(":")
            assert colon and key and key not in result, f"line {self.pos + 1}: {self.lines[self.pos]!r}"
            self.pos += 1
            result[key] = self.value(indent, rest.strip())
        assert self.peek()[0] <= indent, f"line {self.pos + 1}: indented too far"
        return result

    def value(self, indent, rest):
        if rest in ("|", ">-"):
            return self.block_scalar(indent, rest)
        if rest:
            return rest[1:-1] if rest[0] == rest[-1] == '"' else rest
        nested = self.peek()[0] > indent or self.peek()[1].startswith("- ")
        return self.node(self.peek()[0]) if nested else None

    @staticmethod
    def inside(line, indent):
        return not line.strip() or len(line) - len(line.lstrip()) > indent

    def block_scalar(self, indent, style):
        body = []
        while self.pos < len(self.lines) and self.inside(self.lines[self.pos], indent):
            body.append(self.lines[self.pos])
            self.pos += 1
        margin = min(len(line) - len(line.lstrip()) for line in body if line.strip())
        body = [line[margin:] for line in body]
        return "\n".join(body).strip() + "\n" if style == "|" else " ".join(line.strip() for line in body).strip()


def parse_yaml(text):
    return YamlSubset(text).read()


def test_the_yaml_reader_of_these_tests_reads_nesting_and_block_scalars():
    assert parse_yaml("a:\n  - b: 1\n    c: |\n      x\n        y\n  - b: \"2\"\nd: >-\n  p\n  q\n") == {
        "a": [{"b": "1", "c": "x\n  y\n"}, {"b": "2"}], "d": "p q"}


def test_the_yaml_reader_of_these_tests_reads_the_alert_rules_as_pyyaml_does():
    yaml = pytest.importorskip("yaml")  # only where PyYAML happens to be installed
    text = (DOCS / "prometheus-alerts.yml").read_text()
    assert parse_yaml(text) == yaml.safe_load(text)


def alert_rules():
    document = parse_yaml((DOCS / "prometheus-alerts.yml").read_text())
    [group] = document["groups"]
    return {rule["alert"]: rule for rule in group["rules"]}


def test_the_alert_rules_watch_the_sms_failure_rate_and_messages_past_deadline():
    rules = alert_rules()
    assert set(rules) == {"VelkommenSmsFailureRateHigh", "VelkommenMessagesPastDeadline"}
    failure = rules["VelkommenSmsFailureRateHigh"]
    assert 'status=~"failed|undelivered"' in failure["expr"] and 'status=~"sent|failed"' in failure["expr"]
    assert "[15m]" in failure["expr"] and "> 0.10" in failure["expr"]
    deadline = rules["VelkommenMessagesPastDeadline"]
    assert deadline["expr"] == "max(velkommen_messages_past_deadline) > 0" and deadline["for"] == "10m"
    for rule in rules.values():
        assert rule["labels"]["severity"] and rule["annotations"]["summary"] and rule["annotations"]["description"]
        assert re.fullmatch(r"\d+[smh]", rule["for"])


def test_every_metric_the_alert_rules_use_exists():
    used = set().union(*(metric_names(rule["expr"]) for rule in alert_rules().values()))
    assert used and used <= exported_names(), used - exported_names()


def test_the_monitoring_guide_explains_every_metric_and_links_the_dashboard_and_rules():
    guide = (DOCS / "monitoring.md").read_text()
    for family in [*ALLOWED]:
        assert f"`{family}" in guide, family
    assert "grafana-dashboard.json" in guide and "prometheus-alerts.yml" in guide and "KIOSK_METRICS_TOKEN" in guide


def test_the_readme_points_operators_to_the_monitoring_guide():
    readme = (ROOT / "README.md").read_text()
    deploying = readme.split("## Deploying", 1)[1].split("\n## ", 1)[0]
    assert "docs/monitoring.md" in deploying


def test_no_test_leaves_this_process_in_multiprocess_mode():
    """Last in this file: the hook tests above set PROMETHEUS_MULTIPROC_DIR, and must have taken it back."""
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
