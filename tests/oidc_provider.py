"""A real OpenID Connect provider for the tests: oidc-provider-mock (discovery, JWKS, authorization code with PKCE,
signed ID tokens) on 127.0.0.1, behind a hand that can change the ID token it hands out, as a provider with a bad
clock or an attacker's token would."""

import json
import threading
from collections.abc import Callable
from contextlib import contextmanager
from urllib.parse import urlsplit

import flask
import oidc_provider_mock
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

CLIENT_ID = "velkommen-admin"
CLIENT_SECRET = "canary-client-secret-0d9a7c"  # noqa: S105 (a test value, looked for in logs and pages)
GROUP = "velkommen-admins"


class Provider:
    """The provider's WSGI app and what the tests do to it. `tamper(claims)` rewrites each ID token: it returns
    the claims to sign with the provider's own key, or a string sent as the token itself. `token_responses` holds
    every answer of the token endpoint, as sent."""

    def __init__(self, users=()):
        self.app = oidc_provider_mock.app(require_nonce=True, user_claims=list(users))
        self.tamper: Callable[[dict], dict | str] | None = None
        self.token_responses: list[dict] = []
        self.discovery_issuer: str | None = None  # another issuer in the discovery document
        self.issuer = ""
        with self.app.test_request_context():
            self.app.preprocess_request()  # the mock's storage, with its signing key, lives on flask.g
            self.key = RSAKey.import_key(flask.g.oidc_provider_mock_storage.jwk.as_dict(is_private=True))

    def __call__(self, environ, start_response):
        response = Response.from_app(self.app, environ, buffered=True)
        path = Request(environ).path
        if path == "/.well-known/openid-configuration" and self.discovery_issuer:
            response.set_data(json.dumps({**json.loads(response.get_data()), "issuer": self.discovery_issuer}))
        if path == "/oauth2/token" and response.status_code == 200:
            body = json.loads(response.get_data())
            if self.tamper and "id_token" in body:
                body["id_token"] = self.rewrite(body["id_token"], self.tamper)
            self.token_responses.append(body)
            response.set_data(json.dumps(body))
        return response(environ, start_response)

    def rewrite(self, id_token, change):
        token = jwt.decode(id_token, self.key)
        claims = change(dict(token.claims))
        return claims if isinstance(claims, str) else self.sign(claims, header=token.header)

    def sign(self, claims, *, header=None, key=None):
        return jwt.encode(header or {"alg": "RS256"}, claims, key or self.key)

    def add_user(self, sub, **claims):
        assert self.browser().put(f"/users/{sub}", json=claims).status_code == 204

    def browser(self):
        """The person's browser on the provider's pages, in this process: only the app's own calls to the provider
        go over HTTP (and into the logs that tests/test_oidc.py reads)."""
        return Client(self)

    def reset(self):
        self.tamper = self.discovery_issuer = None
        self.token_responses.clear()

    def sign_in(self, authorize_url, sub=None):
        """What a person does on the provider's page: sign in as `sub`, or press Deny without one. Returns where the
        provider sends the browser back to (the app's callback with code and state, or an error)."""
        form = {"sub": sub} if sub else {"action": "deny"}
        answer = self.browser().post(path_of(authorize_url), data=form, base_url=self.issuer)
        assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
        return answer.headers["Location"]


@contextmanager
def running_provider(users=(), *, hostname="127.0.0.1"):
    """A Provider served on 127.0.0.1 in a background thread; its issuer is http://<hostname>:<port> (the browser
    tests name it "localhost", another site than the app's 127.0.0.1)."""
    provider = Provider(users)
    server = make_server("127.0.0.1", 0, provider, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    provider.issuer = f"http://{hostname}:{server.server_port}"
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()


def oidc_settings(provider, **settings):
    """App settings for signing in with `provider`: admins are the members of GROUP unless `settings` say else."""
    return {"OIDC_ISSUER": provider.issuer, "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_ADMIN_GROUP": GROUP, **settings}


def path_of(url):
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path
