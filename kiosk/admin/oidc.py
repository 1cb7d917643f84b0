"""Signing in to the admin area with an OpenID Connect provider (issue 12; the operator's guide is docs/oidc.md).

Authlib's Flask client does the protocol: discovery (issuer + /.well-known/openid-configuration), the
authorization code flow with PKCE (S256), state and nonce, the code exchange, and the ID token's signature against
the provider's JWKS. What is ours: the checks we ask of the ID token (iss, aud, exp, nonce: Authlib's defaults
leave out aud), where a sign-in under way is kept, and who may enter.

Where a sign-in under way is kept: Authlib keeps state, nonce and PKCE verifier in the Flask session, but the
session cookie is SameSite=Strict (R21), and the provider's redirect back to the callback is a navigation another
site started, on which a browser does not send a Strict cookie: the callback would find no state. So they go in a
cookie of their own for 10 minutes: signed, HttpOnly, Secure with a __Host- name, and SameSite=Lax, which a browser
sends on that top-level GET and on no request a third site makes in the background. The callback deletes it, so a
state works once; the provider takes a code once as well.
"""

import hmac
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import Flask, Response, current_app
from itsdangerous import BadData, URLSafeTimedSerializer
from joserfc.errors import BadSignatureError, ClaimError, ExpiredTokenError, JoseError

from kiosk.config import oidc_configured
from kiosk.i18n import admin_gettext as _a

PENDING_SECONDS = 600  # from the sign-in button to the provider's answer
TIMEOUT_SECONDS = 10  # each call to the provider: discovery, JWKS, the code exchange
GOOGLE_ISSUER = "https://accounts.google.com"
_SALT = "velkommen.admin.oidc-sign-in"
_UPPER = re.compile(r"[^A-Z0-9_]")


class SignInRefused(Exception):
    """Nobody is signed in; `reason` says why in upper-case words for the audit log, with no personal data and no
    token. `admin_id` is the admin the provider account is, when it is one already."""

    def __init__(self, reason: str, admin_id: int | None = None) -> None:
        super().__init__(reason)
        self.reason = _UPPER.sub("_", reason.upper())
        self.admin_id = admin_id


@dataclass(frozen=True)
class Pending:
    """A sign-in under way, as its cookie holds it."""

    state: str
    nonce: str
    verifier: str
    redirect_uri: str
    language: str | None  # the admin area's language, chosen before: the session cookie does not come back with it


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in: the issuer and its subject id name the admin, `label` (an e-mail address) is
    shown in the admin area only."""

    issuer: str
    subject: str
    label: str


def init_app(app: Flask) -> None:
    if not oidc_configured(app.config):
        return
    cfg = app.config
    oauth = OAuth(app)
    oauth.register(
        "oidc",
        client_id=cfg["OIDC_CLIENT_ID"],
        client_secret=cfg["OIDC_CLIENT_SECRET"],
        server_metadata_url=discovery_url(cfg["OIDC_ISSUER"]),
        client_kwargs={"scope": cfg["OIDC_SCOPES"], "code_challenge_method": "S256",
                       "default_timeout": TIMEOUT_SECONDS},
    )
    app.extensions["oidc"] = oauth.create_client("oidc")
    # Authlib logs the PKCE verifier at DEBUG; nothing of a sign-in but ids belongs in our logs (R31).
    logging.getLogger("authlib").setLevel(logging.WARNING)


def enabled() -> bool:
    return "oidc" in current_app.extensions


def discovery_url(issuer: str) -> str:
    return str(issuer).rstrip("/") + "/.well-known/openid-configuration"


def button_label() -> str:
    name = current_app.config["OIDC_NAME"]
    return _a("Sign in with %(provider)s", provider=name) if name else _a("Sign in with your company account")


# The sign-in: to the provider and back


def begin(redirect_uri: str, language: str | None) -> tuple[str, str]:
    """The provider's sign-in address, and the pending sign-in for set_pending_cookie. Raises SignInRefused when
    the provider cannot be reached or its discovery document is not for the configured issuer."""
    client = _client()
    try:
        _check_issuer(client)
        authorization = client.create_authorization_url(redirect_uri)
    except (requests.RequestException, ValueError, RuntimeError) as e:
        raise SignInRefused("PROVIDER_UNREACHABLE") from e
    pending = {"state": authorization["state"], "nonce": authorization["nonce"],
               "verifier": authorization["code_verifier"], "redirect_uri": redirect_uri, "language": language}
    return authorization["url"], _serializer().dumps(pending)


def pending(cookie: str | None) -> Pending | None:
    """The sign-in under way in this browser, or None: no cookie, older than 10 minutes, or not signed by us."""
    if not cookie:
        return None
    try:
        return Pending(**_serializer().loads(cookie, max_age=PENDING_SECONDS))
    except (BadData, TypeError):
        return None


def finish(sign_in: Pending | None, args: Mapping[str, str]) -> tuple[Identity, dict[str, Any]]:
    """The identity and the ID token's claims of the provider's answer (the callback's query), checked: its state
    is this browser's sign-in's, the code is exchanged with the PKCE verifier, the ID token is signed by the
    provider's key, issued by the issuer, for our client id, not expired, and carries our nonce. Who may enter is
    allowed()'s question. Raises SignInRefused."""
    if args.get("error"):  # cancelled, or not assigned to the app; some providers send no state with it
        raise SignInRefused("PROVIDER_DENIED")
    if sign_in is None or not hmac.compare_digest(sign_in.state.encode(), args.get("state", "").encode()):
        raise SignInRefused("STATE_MISMATCH")
    if not args.get("code"):
        raise SignInRefused("NO_CODE")
    issuer, claims = _exchange(sign_in, args["code"])
    label = next((str(claims[key]) for key in ("email", "preferred_username", "sub") if claims.get(key)), "")
    return Identity(issuer, str(claims["sub"]), label), claims


def _exchange(sign_in: Pending, code: str) -> tuple[str, dict[str, Any]]:
    """The issuer, and the claims of the ID token that the provider gives for this code, checked."""
    client = _client()
    try:
        issuer = _check_issuer(client)
        token = client.fetch_access_token(redirect_uri=sign_in.redirect_uri, code=code, code_verifier=sign_in.verifier)
        claims = client.parse_id_token(token, nonce=sign_in.nonce, claims_options=_claims_options(issuer))
    except requests.RequestException as e:
        raise SignInRefused("PROVIDER_UNREACHABLE") from e
    except ExpiredTokenError as e:
        raise SignInRefused("ID_TOKEN_EXPIRED") from e
    except ClaimError as e:
        raise SignInRefused(f"ID_TOKEN_{e.claim}") from e
    except BadSignatureError as e:
        raise SignInRefused("ID_TOKEN_SIGNATURE") from e
    except JoseError as e:
        raise SignInRefused("ID_TOKEN_INVALID") from e
    except AuthlibBaseError as e:  # the provider refused the code: used before, too old, another client's
        raise SignInRefused("CODE_REFUSED") from e
    except (ValueError, RuntimeError) as e:  # an answer that is not JSON, metadata without an endpoint
        raise SignInRefused("PROVIDER_ANSWER_INVALID") from e
    if claims is None:
        raise SignInRefused("NO_ID_TOKEN")
    return issuer, dict(claims)


def _client() -> Any:
    return current_app.extensions["oidc"]


def _check_issuer(client: Any) -> str:
    """The issuer of the provider's discovery document, which must be the configured one (OIDC Discovery 4.3)."""
    issuer = client.load_server_metadata().get("issuer")
    if not isinstance(issuer, str) or issuer.rstrip("/") != str(current_app.config["OIDC_ISSUER"]).rstrip("/"):
        raise SignInRefused("ISSUER_MISMATCH")
    return issuer


def _claims_options(issuer: str) -> dict[str, Any]:
    # Built anew for each token: Authlib takes hooks out of the options it is given.
    return {"iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": current_app.config["OIDC_CLIENT_ID"]},
            "exp": {"essential": True}, "sub": {"essential": True}}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def set_pending_cookie(response: Response, value: str) -> None:
    response.set_cookie(current_app.config["OIDC_COOKIE_NAME"], value, max_age=PENDING_SECONDS, path="/",
                        secure=current_app.config["COOKIE_SECURE"], httponly=True, samesite="Lax")


def clear_pending_cookie(response: Response) -> None:
    response.delete_cookie(current_app.config["OIDC_COOKIE_NAME"], path="/",
                           secure=current_app.config["COOKIE_SECURE"], httponly=True, samesite="Lax")


# Who may enter


@dataclass(frozen=True)
class Admission:
    """Why an account may enter: as an installation admin (its location None), or as one location's admin (the
    location's name, from OIDC_LOCATION_GROUPS); by_group False when only its e-mail domain let it in."""

    location: str | None = None
    by_group: bool = True


def allowed(claims: Mapping[str, Any], cfg: Mapping[str, Any]) -> Admission:
    """Let in a member of OIDC_ADMIN_GROUP (the `groups` or `roles` claim) as an installation admin, a member of one
    of OIDC_LOCATION_GROUPS as that location's admin, or an account whose e-mail domain is in OIDC_ALLOWED_DOMAINS
    and whose e-mail the provider does not call unverified; with none of these settings, nobody. Raises
    SignInRefused."""
    group = cfg["OIDC_ADMIN_GROUP"]
    groups = _strings(claims.get("groups")) | _strings(claims.get("roles"))
    if group and group in groups:
        return Admission()
    places = sorted(name for name, place_group in cfg.get("OIDC_LOCATION_GROUPS", {}).items() if place_group in groups)
    if len(places) > 1:
        raise SignInRefused("SEVERAL_LOCATIONS")  # which one would be a guess: IT must choose
    if places:
        return Admission(places[0])
    domains = cfg["OIDC_ALLOWED_DOMAINS"]
    email = claims.get("email")
    domain = email.rpartition("@")[2].lower() if isinstance(email, str) and "@" in email else None
    if domains and domain in domains:
        if str(claims.get("email_verified", "")).lower() == "false":
            raise SignInRefused("EMAIL_UNVERIFIED")
        # A personal Google account can carry a work address; only a Workspace account has `hd`, its domain.
        if str(cfg["OIDC_ISSUER"]).rstrip("/") != GOOGLE_ISSUER or claims.get("hd") in domains:
            return Admission(by_group=False)
    if (group or cfg.get("OIDC_LOCATION_GROUPS")) and "groups" in _strings(claims.get("_claim_names")):
        raise SignInRefused("GROUPS_OVERAGE")  # Entra ID lists no groups when there are more than 200
    raise SignInRefused("NOT_ALLOWED")


def _strings(value: object) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, Mapping):
        return {str(key) for key in value}
    if isinstance(value, list | tuple):
        return {item for item in value if isinstance(item, str)}
    return set()


def refusal_message(reason: str) -> str:
    """What the sign-in page says about a refused sign-in, in plain words; the reason itself goes to the log."""
    cfg = current_app.config
    if reason == "NOT_ALLOWED":
        if cfg["OIDC_ADMIN_GROUP"]:
            return _a("Your account is not allowed into the admin area. Ask IT to add you to the group "
                      "%(group)s.", group=cfg["OIDC_ADMIN_GROUP"])
        return _a("Your account is not allowed into the admin area. Sign in with an account of %(domains)s, or ask "
                  "IT for access.", domains=", ".join(cfg["OIDC_ALLOWED_DOMAINS"]))
    messages = {
        "EMAIL_UNVERIFIED": _a("Your e-mail address is not verified with the sign-in service, so it cannot let you "
                               "into the admin area. Ask IT for help."),
        "SEVERAL_LOCATIONS": _a("Your account is in the admin groups of more than one location, so the admin area "
                                "cannot tell which one you manage. Ask IT to keep you in one."),
        "UNKNOWN_LOCATION": _a("Your account’s group names a location this installation does not have. Ask IT to "
                               "check the location groups of the sign-in settings."),
        "GROUPS_OVERAGE": _a("Your account is in too many groups for the sign-in service to list them, so the "
                             "admin area cannot see whether you may enter. Ask IT to send only the groups assigned "
                             "to this app, or to give you its admin role."),
        "STATE_MISMATCH": _a("This sign-in took too long, was started in another window, or was already used. "
                             "Please sign in again."),
        "PROVIDER_DENIED": _a("The sign-in service did not sign you in: the sign-in was cancelled, or your account "
                              "may not use this app. Try again, or ask IT."),
        "PROVIDER_UNREACHABLE": _a("The sign-in service cannot be reached just now. Try again in a minute; if it "
                                   "goes on, ask IT."),
    }
    return messages.get(reason) or _a(
        "The answer from the sign-in service could not be trusted, so you are not signed in. Please try again; if "
        "it goes on, ask IT to check the sign-in settings (the app's log says why).")
