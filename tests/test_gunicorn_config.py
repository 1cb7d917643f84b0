import runpy
from pathlib import Path

CONFIG = runpy.run_path(str(Path(__file__).parent.parent / "gunicorn.conf.py"))


def test_two_threaded_workers_share_the_database():
    assert (CONFIG["workers"], CONFIG["worker_class"], CONFIG["threads"]) == (2, "gthread", 4)


def test_demo_binds_to_localhost_port_8000():
    assert CONFIG["bind"] == "127.0.0.1:8000"


def test_r31_there_is_no_access_log():
    assert CONFIG["accesslog"] is None


def test_workers_get_time_to_finish_sending_when_they_stop():
    assert CONFIG["graceful_timeout"] >= 30
