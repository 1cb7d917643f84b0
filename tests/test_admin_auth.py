"""Admin accounts and sign-in: Argon2id (R29), lockout (R30), server-side sessions (R22), `admin create`."""

from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from freezegun import freeze_time

from kiosk.admin import accounts
from kiosk.db import get_db
from tests.helpers import (
    ADMIN_PASSWORD,
    admin_client,
    create_admin,
    create_host,
    csrf_token,
    get_page,
    parse_page,
    sign_in,
)

OWASP_ARGON2ID = "$argon2id$v=19$m=19456,t=2,p=1$"




def stored_hash(db, username="ana"):
    return db.execute("SELECT password_hash FROM admins WHERE username = ?", [username]).fetchone()[0]


def sign_in_error(response):
    return parse_page(response).select_one(".error-summary li").text.strip()


# Passwords (R29)


def test_r29_a_password_is_stored_as_argon2id_with_owasp_parameters(db):
    create_admin(db)
    assert stored_hash(db).startswith(OWASP_ARGON2ID)
    assert ADMIN_PASSWORD not in stored_hash(db)


def test_r29_a_hash_with_weaker_parameters_is_replaced_at_sign_in(app, db, ctx):
    admin = create_admin(db)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(ADMIN_PASSWORD)
    db["admins"].update(admin.id, {"password_hash": weak})
    assert accounts.hasher.check_needs_rehash(weak)
    assert sign_in(app.test_client()).status_code == 302
    assert stored_hash(db).startswith(OWASP_ARGON2ID)
    assert accounts.authenticate(db, "ana", ADMIN_PASSWORD) == admin


@pytest.mark.parametrize("password", ["", "short", "eleven chrs"])
def test_r30_a_password_under_12_characters_is_refused(db, password):
    with pytest.raises(accounts.AccountError, match="at least 12 characters"):
        accounts.create_admin(db, "ana", password)
    assert db["admins"].count == 0


def test_a_username_is_taken_only_once_whatever_its_case(db):
    create_admin(db, username="ana")
    with pytest.raises(accounts.AccountError, match="already exists"):
        accounts.create_admin(db, " ANA ", ADMIN_PASSWORD)


# The sign-in page


def test_the_admin_area_sends_a_visitor_who_is_not_signed_in_to_the_sign_in_page(app):
    response = app.test_client().get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/login"


def test_the_sign_in_page_has_labelled_username_and_password_fields_and_a_sign_in_button(app):
    page = get_page(app.test_client(), "/admin/login")
    labels = {label.text.strip(): label["for"] for label in page.select("form label")}
    assert page.select_one(f"#{labels['Username']}")["autocomplete"] == "username"
    assert page.select_one(f"#{labels['Password']}")["type"] == "password"
    assert page.select_one("form button[type=submit]").text.strip() == "Sign in"


def test_a_right_password_signs_in_and_shows_the_admin_nav(app, db):
    create_admin(db)
    client = app.test_client()
    response = sign_in(client)
    assert response.headers["Location"] == "/admin/"
    page = get_page(client, "/admin/hosts")
    assert [a.text for a in page.select("nav a")] == ["Hosts", "School visits", "Kiosks", "Locations",
                                                   "Directory sync", "Statistics", "Audit log", "Settings"]
    assert page.select_one("form.sign-out button").text == "Sign out"


def test_r30_unknown_user_and_wrong_password_get_the_same_answer(app, db):
    create_admin(db)
    wrong_password = sign_in(app.test_client(), password="not the password at all")
    unknown_user = sign_in(app.test_client(), username="nobody")
    assert wrong_password.status_code == unknown_user.status_code == 422
    assert sign_in_error(wrong_password) == sign_in_error(unknown_user)


def test_r30_an_unknown_user_still_costs_one_hash_verification(app, db, ctx, monkeypatch):
    class CountingHasher:
        def __init__(self, real):
            self.real, self.verified = real, 0

        def verify(self, *args):
            self.verified += 1
            return self.real.verify(*args)

        def __getattr__(self, name):
            return getattr(self.real, name)

    counting = CountingHasher(accounts.hasher)
    monkeypatch.setattr(accounts, "hasher", counting)
    assert accounts.authenticate(db, "nobody", ADMIN_PASSWORD) is None
    assert counting.verified == 1


def test_r30_forty_parallel_wrong_passwords_get_no_more_than_ten_password_checks(app, db, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    admin = create_admin(db)
    real_hash = db["admins"].get(admin.id)["password_hash"]
    checked = []
    real_verify = accounts._verify
    monkeypatch.setattr(accounts, "_verify", lambda h, p: (h == real_hash and checked.append(1), real_verify(h, p))[1])

    def attempt(_):
        with app.app_context():
            return accounts.authenticate(get_db(), "ana", "not the password at all")

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(attempt, range(40))) == {None}
    assert len(checked) == 10


def test_r30_ten_failed_sign_ins_lock_the_account_even_against_the_right_password(app, db):
    create_admin(db)
    for _ in range(10):
        sign_in(app.test_client(), password="not the password at all")
    locked = sign_in(app.test_client())  # a new client: the lock is on the account, not the browser
    assert locked.status_code == 422
    assert sign_in_error(locked) == sign_in_error(sign_in(app.test_client(), username="nobody"))


def test_r30_the_lock_grows_with_each_failure_after_it_ends(app, db, ctx):
    create_admin(db)
    with freeze_time("2025-03-03 09:00:00") as clock:
        for _ in range(10):
            accounts.authenticate(db, "ana", "wrong password here")
        assert db["admins"].get(1)["locked_until"] == "2025-03-03T09:01:00+00:00"
        clock.tick(timedelta(seconds=61))
        accounts.authenticate(db, "ana", "wrong password here")
        assert db["admins"].get(1)["locked_until"] == "2025-03-03T09:03:01+00:00"


def test_r30_a_sign_in_after_the_lock_ends_works_and_resets_the_count(app, db, ctx):
    admin = create_admin(db)
    with freeze_time("2025-03-03 09:00:00") as clock:
        for _ in range(10):
            accounts.authenticate(db, "ana", "wrong password here")
        assert accounts.authenticate(db, "ana", ADMIN_PASSWORD) is None
        clock.tick(timedelta(minutes=1, seconds=1))
        assert accounts.authenticate(db, "ana", ADMIN_PASSWORD) == admin
    assert db["admins"].get(admin.id)["failed_logins"] == 0
    assert db["admins"].get(admin.id)["locked_until"] is None


def test_r30_the_limit_comes_from_login_max_failures(make_app):
    app = make_app(LOGIN_MAX_FAILURES=3)
    with app.app_context():
        create_admin(get_db())
        for _ in range(3):
            accounts.authenticate(get_db(), "ana", "wrong password here")
    assert sign_in(app.test_client()).status_code == 422


# Sessions (R22)


def test_r22_the_database_holds_only_a_hash_of_the_session_token(app, db):
    client = admin_client(app)
    token = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert token is not None
    row = db["admin_sessions"].rows.__next__()
    assert len(row["token_hash"]) == 64 and row["admin_id"] == 1


def test_r22_signing_in_starts_a_new_session_so_an_earlier_csrf_token_is_void(app, db):
    create_admin(db)
    client = app.test_client()
    old_token = csrf_token(get_page(client, "/admin/login"))
    client.post("/admin/login", data={"csrf_token": old_token, "username": "ana", "password": ADMIN_PASSWORD})
    response = client.post("/admin/hosts/new", data={"csrf_token": old_token, "name": "X", "phone": "41234567"})
    assert response.status_code == 400


def test_r22_sixteen_idle_minutes_end_the_session(app, db):
    with freeze_time("2025-03-03 09:00:00") as clock:
        client = admin_client(app)
        clock.tick(timedelta(minutes=14))
        assert client.get("/admin/hosts").status_code == 200
        clock.tick(timedelta(minutes=16))
        response = client.get("/admin/hosts")
        assert response.headers["Location"] == "/admin/login"
        assert "Your session has ended." in get_page(client, "/admin/login").text
    assert db["admin_sessions"].count == 0


def test_r22_a_session_ends_after_12_hours_even_when_in_use(app, db):
    with freeze_time("2025-03-03 08:00:00") as clock:
        client = admin_client(app)
        for _ in range(71):  # a request every 10 minutes for 11 h 50 min
            clock.tick(timedelta(minutes=10))
            assert client.get("/admin/hosts").status_code == 200
        clock.tick(timedelta(minutes=20))
        response = client.get("/admin/hosts")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/login"


def test_r22_signing_out_ends_the_session_on_the_server_so_an_old_cookie_is_refused(app, db):
    client = admin_client(app)
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    old_cookie = client.get_cookie(cookie_name).value
    page = get_page(client, "/admin/hosts")
    response = client.post("/admin/logout", data={"csrf_token": csrf_token(page.select_one("form.sign-out"))})
    assert response.headers["Location"] == "/admin/login"
    assert db["admin_sessions"].count == 0
    client.set_cookie(cookie_name, old_cookie)
    response = client.get("/admin/hosts")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/login"


def test_r22_after_signing_out_the_back_button_shows_no_admin_data(app, db):
    create_host(db, name="Synnøve Backknapp")
    client = admin_client(app)
    page = get_page(client, "/admin/hosts")
    client.post("/admin/logout", data={"csrf_token": csrf_token(page.select_one("form.sign-out"))})
    response = client.get("/admin/hosts")
    assert response.status_code == 302
    assert "Backknapp" not in response.get_data(as_text=True)


def test_sign_in_and_out_are_in_the_audit_log(app, db):
    client = admin_client(app)
    page = get_page(client, "/admin/hosts")
    client.post("/admin/logout", data={"csrf_token": csrf_token(page.select_one("form.sign-out"))})
    actions = [row["action"] for row in db["audit_events"].rows_where(order_by="id")]
    assert actions == ["sign_in", "sign_out"]


# The `admin create` command


def test_admin_create_asks_for_the_password_twice(runner, db):
    result = runner.invoke(args=["admin", "create", "Ana"], input=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Created the admin account ana." in result.output
    assert ADMIN_PASSWORD not in result.output
    assert stored_hash(db).startswith(OWASP_ARGON2ID)


def test_admin_create_reads_the_password_from_stdin(runner, db, ctx):
    result = runner.invoke(args=["admin", "create", "ana", "--password-stdin"], input=f"{ADMIN_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert accounts.authenticate(db, "ana", ADMIN_PASSWORD) is not None


def test_admin_create_refuses_a_short_password(runner, db):
    result = runner.invoke(args=["admin", "create", "ana", "--password-stdin"], input="too short\n")
    assert result.exit_code == 1
    assert "The password must have at least 12 characters." in result.output
    assert db["admins"].count == 0


def test_admin_create_refuses_two_different_passwords(runner, db):
    result = runner.invoke(args=["admin", "create", "ana"], input=f"{ADMIN_PASSWORD}\nsomething else here\n")
    assert result.exit_code != 0
    assert "do not match" in result.output
    assert db["admins"].count == 0


def test_admin_create_refuses_an_existing_username(runner, db):
    create_admin(db)
    result = runner.invoke(args=["admin", "create", "ana", "--password-stdin"], input=f"{ADMIN_PASSWORD}\n")
    assert result.exit_code == 1
    assert "An admin called ana already exists." in result.output


def test_admin_create_is_in_the_readme():
    assert "`admin create USERNAME [--location NAME]`" in (Path(__file__).parent.parent / "README.md").read_text()
