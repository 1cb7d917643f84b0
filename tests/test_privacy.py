"""Nothing about a walk-in visitor is kept: canary values are planted and every byte the app wrote is scanned."""

import logging

import pytest

from tests.helpers import (
    CANARY_NAME,
    CANARY_PHONE,
    CANARY_PHONE_TYPED,
    create_host,
    files_under,
    post_check_in,
    tablet_client,
)

CANARIES = [b"Kanarifugl", CANARY_PHONE.encode(), CANARY_PHONE[3:].encode(), b"999 99 999", b"9999 9999"]


def hits_in_files(paths):
    return [(str(path), canary) for path in paths for canary in CANARIES if canary in path.read_bytes()]


def hits_in_logs(records):
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    text = "\n".join(formatter.format(record) for record in records).encode()
    return [canary for canary in CANARIES if canary in text]


@pytest.fixture
def visited(log_records, instance_app):
    """Three canary check-ins (sent, host failing, refused form) through HTTP; returns the app after they settle."""
    app = instance_app  # made after log_records, so the logs are caught from the start
    with app.app_context():
        from kiosk.db import get_db
        host = create_host(get_db())
    client = tablet_client(app)
    post_check_in(client, name=CANARY_NAME, phone=CANARY_PHONE_TYPED, host_id=host.id)
    app.extensions["dispatcher"].drain(timeout=10)  # the first visit's SMS are out before the failures start
    app.extensions["sms"].fail(code=30003, times=5)
    post_check_in(client, name=CANARY_NAME, phone=CANARY_PHONE, host_id=host.id)
    post_check_in(client, name=CANARY_NAME, phone=CANARY_PHONE, host_id="")
    app.extensions["dispatcher"].drain(timeout=10)
    return app


def test_canaries_really_went_out_by_sms(visited):
    assert any(sms.to == CANARY_PHONE for sms in visited.extensions["sms"].outbox)
    assert any("Kanarifugl" in sms.body for sms in visited.extensions["sms"].outbox)


def test_r33_database_wal_and_instance_folder_hold_no_canary(visited, tmp_path):
    written = files_under(tmp_path / "instance")
    assert any(path.name.endswith("-wal") for path in written), "the scan must include the WAL"
    assert hits_in_files(written) == []


def test_r31_logs_hold_no_canary(visited, log_records):
    assert any(record.name == "kiosk.sms" for record in log_records), "the scan must see the SMS log lines"
    assert hits_in_logs(log_records) == []


def test_r31_logs_show_masked_numbers(visited, log_records):
    assert any("+47 9** ** *99" in record.getMessage() for record in log_records)


def test_the_scan_itself_finds_a_planted_canary(tmp_path):
    planted = tmp_path / "planted.db"
    planted.write_bytes(b"\x00SQLite" + CANARY_PHONE.encode())
    assert hits_in_files([planted]) == [(str(planted), CANARY_PHONE.encode()),
                                        (str(planted), CANARY_PHONE[3:].encode())]
