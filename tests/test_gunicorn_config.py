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


def test_a_draining_worker_is_not_killed_for_silence_before_its_graceful_timeout_ends():
    assert CONFIG["timeout"] > CONFIG["graceful_timeout"]


def test_workers_sweep_from_their_start_and_drain_their_sms_when_they_stop():
    assert callable(CONFIG["post_worker_init"]) and callable(CONFIG["worker_exit"])


def test_the_exit_hook_drains_for_the_graceful_timeout_less_its_margin():
    calls = []

    class Dispatcher:
        def shutdown(self, timeout):
            calls.append(timeout)
            return True

    class Log:
        def info(self, *args):
            calls.append(args[0] % args[1:])

    worker = type("Worker", (), {"pid": 7, "wsgi": type("App", (), {"extensions": {"dispatcher": Dispatcher()}})})
    CONFIG["worker_exit"](type("Server", (), {"log": Log()}), worker)
    assert calls == [CONFIG["graceful_timeout"] - CONFIG["DRAIN_MARGIN_SECONDS"],
                     "Worker 7 stopped with its SMS settled"]
