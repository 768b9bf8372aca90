"""Single sign-on with the organization's OpenID Connect provider (decision 0019).

mozilla-django-oidc runs the authorization code flow (state, nonce, PKCE, the ID token's
signature); this module adds what Servicebook needs on top of it:

- the provider's endpoints, read from the issuer's discovery document when only
  ``SERVICEBOOK_OIDC_ISSUER`` is set (on first use, never at start-up: a provider that is down
  never stops local sign-in);
- who a person is: the provider's subject (``sub``), kept as a username ``sso-…``; a local
  account is never taken over through an e-mail address;
- what they may do, read from the groups claim at every sign-in: staff roles from the role
  groups, a customer from ``customer:<code>`` (its role is the one its kind's policy names). A
  person whose groups name no role, a customer and a staff role at once, more than one customer
  or an unknown customer is refused with the reason, and nothing is written.

Refusals count as failed sign-ins for django-axes, like a wrong password.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass

import jwt
import requests
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import transaction
from django.http import Http404
from django.shortcuts import render
from django.urls import path, reverse
from django.views.generic import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from servicebook.core.models import User
from servicebook.core.roles import CUSTOMER_ROLES, PROVIDER_ROLES, Role
from servicebook.parties.models import Customer

logger = logging.getLogger(__name__)

#: mozilla-django-oidc's endpoint settings and their names in a discovery document
DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
REFUSAL_KEY = "servicebook_sso_refusal"
_discovered: dict[str, dict] = {}


class SignOnRefused(PermissionDenied):
    """A sign-in the provider vouched for but Servicebook refuses, with the reason shown."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def configured() -> bool:
    """Whether single sign-on is on: a client id, with an issuer or with every endpoint."""
    if not settings.OIDC_RP_CLIENT_ID:
        return False
    return bool(settings.SERVICEBOOK_OIDC_ISSUER) or all(
        getattr(settings, name, "") for name in DISCOVERED
    )


def provider_name() -> str:
    """The name on the sign-in button, or "" when single sign-on is off."""
    return settings.SERVICEBOOK_OIDC_PROVIDER_NAME if configured() else ""


def discovery(issuer: str) -> dict:
    """The issuer's discovery document (fetched once per process)."""
    document = _discovered.get(issuer)
    if document is None:
        response = requests.get(
            f"{issuer}/.well-known/openid-configuration", timeout=settings.OIDC_TIMEOUT
        )
        response.raise_for_status()
        document = response.json()
        if str(document.get("issuer", "")).rstrip("/") != issuer:
            raise SuspiciousOperation(f"the discovery document of {issuer} names another issuer")
        _discovered[issuer] = document
    return document


def oidc_setting(attr, *default):
    """mozilla-django-oidc's settings, with the endpoints discovered when they are not set."""
    issuer = settings.SERVICEBOOK_OIDC_ISSUER
    if attr in DISCOVERED and issuer and not getattr(settings, attr, ""):
        return discovery(issuer)[DISCOVERED[attr]]
    return import_from_settings(attr, *default)


def lockout_parameters(request_or_attempt, credentials=None):
    """django-axes' lockout parameters: a failed single sign-on has no account name yet, so it
    counts toward its address alone (sharing one empty account name, every person's failures
    would lock single sign-on for everybody); every other sign-in as configured."""
    if getattr(request_or_attempt, "path_info", "") == reverse("sso-callback"):
        return ["ip_address"]
    return settings.SERVICEBOOK_SIGNIN_LOCKOUT_PARAMETERS


# --- claims → roles and customer -------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    roles: frozenset[str]
    customer: Customer | None


def role_groups() -> dict[str, str]:
    """Group name → role: the configured pairs, and every role under its own name."""
    mapping = {role.value: role.value for role in Role}
    for pair in settings.SERVICEBOOK_OIDC_ROLE_GROUPS.split(","):
        group, _, role = pair.partition("=")
        if group.strip() and role.strip():
            mapping[group.strip()] = role.strip()
    return mapping


def groups_of(claims: dict) -> list[str]:
    value = claims.get(settings.SERVICEBOOK_OIDC_GROUPS_CLAIM) or []
    if isinstance(value, str):
        value = [value]
    return [str(group).strip() for group in value if str(group).strip()]


def access_from(claims: dict) -> Access:
    """The roles (and, for a customer's person, the customer) the claims give, or a refusal."""
    groups = groups_of(claims)
    claim = settings.SERVICEBOOK_OIDC_GROUPS_CLAIM
    prefix = settings.SERVICEBOOK_OIDC_CUSTOMER_PREFIX
    codes = sorted({g[len(prefix) :] for g in groups if prefix and g.startswith(prefix)})
    mapping = role_groups()
    roles = {mapping[group] for group in groups if group in mapping}
    unknown = roles - {role.value for role in Role}
    if unknown:
        raise SignOnRefused(
            f"Servicebook's single sign-on settings name a role that does not exist "
            f"({', '.join(sorted(unknown))}): ask the administrator to correct "
            "SERVICEBOOK_OIDC_ROLE_GROUPS."
        )
    staff = roles & PROVIDER_ROLES
    if len(codes) > 1:
        raise SignOnRefused(
            f"Your groups name more than one customer ({', '.join(codes)}): a customer's person "
            "belongs to exactly one."
        )
    if codes and staff:
        raise SignOnRefused(
            f"Your groups name both a customer ({codes[0]}) and a staff role "
            f"({', '.join(sorted(staff))}): a customer's person never holds a staff role. "
            "Ask your administrator to remove one of the two groups."
        )
    if codes:
        customer = Customer.objects.filter(code=codes[0]).first()
        if customer is None:
            raise SignOnRefused(
                f"No customer has the code “{codes[0]}” (from your group {prefix}{codes[0]}): "
                "ask the provider to check the customer's code or your groups."
            )
        return Access(frozenset({customer.policy.user_role}), customer)
    if staff:
        return Access(frozenset(staff), None)
    if roles & CUSTOMER_ROLES:
        raise SignOnRefused(
            f"Your groups give a customer role but name no customer: a customer's person needs "
            f"the group {prefix}<customer code>."
        )
    raise SignOnRefused(
        f"You have no role in Servicebook: none of your groups (claim “{claim}”) names a role "
        "or a customer. Ask your administrator for access."
    )


def username_for(claims: dict) -> str:
    """A stable username from the provider's subject (opaque, so hashed; fits every database)."""
    digest = hashlib.sha256(str(claims["sub"]).encode()).digest()
    return "sso-" + base64.b32encode(digest).decode().lower()[:20]


def _setting_property(name: str):
    return property(lambda self: oidc_setting(name, None))


class SignOnBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend, keyed by subject, with roles and customer from the claims."""

    get_settings = staticmethod(oidc_setting)
    # read when a sign-in needs them, not when Django builds the backend for a password sign-in
    OIDC_OP_TOKEN_ENDPOINT = _setting_property("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = _setting_property("OIDC_OP_USER_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = _setting_property("OIDC_OP_JWKS_ENDPOINT")
    OIDC_RP_CLIENT_ID = _setting_property("OIDC_RP_CLIENT_ID")
    OIDC_RP_CLIENT_SECRET = _setting_property("OIDC_RP_CLIENT_SECRET")
    OIDC_RP_SIGN_ALGO = _setting_property("OIDC_RP_SIGN_ALGO")
    OIDC_RP_IDP_SIGN_KEY = _setting_property("OIDC_RP_IDP_SIGN_KEY")

    def __init__(self, *args, **kwargs):
        self.UserModel = User

    def authenticate(self, request, **kwargs):
        if request is None or not configured() or request.path != reverse("sso-callback"):
            return None
        try:
            return super().authenticate(request, **kwargs)
        except SignOnRefused as refusal:
            request.session[REFUSAL_KEY] = refusal.reason
            raise
        except (requests.RequestException, SuspiciousOperation, ValueError, KeyError) as error:
            logger.warning("single sign-on failed: %s", error)
            reason = (
                f"The sign-in with {settings.SERVICEBOOK_OIDC_PROVIDER_NAME} could not be "
                "completed (the provider could not be reached or its answer was not valid). "
                "Try again; if it keeps failing, tell your administrator."
            )
            request.session[REFUSAL_KEY] = reason
            raise SignOnRefused(reason) from error

    def retrieve_matching_jwk(self, token):
        """The provider's signing key for ``token``: by its key id, or the only key there is
        (some providers publish one key without an id)."""
        response = requests.get(self.OIDC_OP_JWKS_ENDPOINT, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        header = jwt.get_unverified_header(token)
        keys = [
            key
            for key in response.json().get("keys", [])
            if key.get("use", "sig") == "sig"
            and key.get("alg", header.get("alg")) == header.get("alg")
        ]
        if "kid" in header:
            keys = [key for key in keys if key.get("kid") == header["kid"]]
        if len(keys) != 1:
            raise SuspiciousOperation("no single signing key of the provider matches the ID token")
        return jwt.PyJWK(keys[0])

    def get_userinfo(self, access_token, id_token, payload):
        """The ID token's claims, completed by the user info endpoint's (same subject)."""
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if settings.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("the ID token was issued to another client")
        issuer = settings.SERVICEBOOK_OIDC_ISSUER
        if issuer and str(payload.get("iss", "")).rstrip("/") != issuer:
            raise SuspiciousOperation("the ID token comes from another issuer")
        info = super().get_userinfo(access_token, id_token, payload)
        if info.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("the user info is about another subject")
        return {**payload, **info}

    @transaction.atomic
    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        if not claims.get("sub"):
            raise SignOnRefused("The provider sent no subject (sub) for you.")
        access = access_from(claims)
        user = User.objects.filter(username=username_for(claims)).first()
        if user is None:
            user = User(username=username_for(claims))
            user.set_unusable_password()
        elif not user.is_active:
            raise SignOnRefused(
                "Your Servicebook account is deactivated: ask the administrator to reactivate it."
            )
        self.update_profile(user, claims)
        user.customer = access.customer
        if access.customer is not None:  # a customer's person is never staff, not even by hand
            user.is_staff = user.is_superuser = False
        user.save()
        groups = [Group.objects.get_or_create(name=role)[0] for role in sorted(access.roles)]
        user.groups.set(groups)
        return user

    @staticmethod
    def update_profile(user: User, claims: dict) -> None:
        user.email = str(claims.get("email") or user.email)[:254]
        given, family = claims.get("given_name"), claims.get("family_name")
        if not (given or family) and claims.get("name"):
            given, _, family = str(claims["name"]).partition(" ")
        user.first_name = str(given or user.first_name)[:150]
        user.last_name = str(family or user.last_name)[:150]


# --- pages ------------------------------------------------------------------------------------


def refused(request, reason: str, status: int = 403):
    """The refusal page (in the layout) with the reason and the way back to sign-in."""
    context = {
        "status": status,
        "refusal_title": "Sign-in refused" if status == 403 else "Sign-in unavailable",
        "reason": reason,
        "hint": "You can still sign in with a Servicebook account, if you have one.",
    }
    return render(request, "web/refusal.html", context, status=status)


class SignOnStart(OIDCAuthenticationRequestView):
    """``/sso/start/``: off the site to the provider (404 while single sign-on is off)."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, **kwargs):
        View.__init__(self, **kwargs)  # the endpoint is read in get(), not when the view is built

    def get(self, request):
        if not configured():
            raise Http404("Single sign-on is not set up.")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = oidc_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except (requests.RequestException, SuspiciousOperation, ValueError, KeyError) as error:
            logger.warning("single sign-on discovery failed: %s", error)
            return refused(
                request,
                f"{settings.SERVICEBOOK_OIDC_PROVIDER_NAME} cannot be reached right now: "
                "try again in a moment.",
                status=503,
            )
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


class SignOnCallback(OIDCAuthenticationCallbackView):
    """``/sso/callback/``: back from the provider; signed in, or refused with the reason."""

    get_settings = staticmethod(oidc_setting)

    def get(self, request):
        if not configured():
            raise Http404("Single sign-on is not set up.")
        return super().get(request)

    def login_failure(self):
        reason = self.request.session.pop(REFUSAL_KEY, None)
        if not reason and self.request.GET.get("error"):
            reason = (
                f"{settings.SERVICEBOOK_OIDC_PROVIDER_NAME} did not sign you in "
                f"({self.request.GET.get('error_description') or self.request.GET['error']})."
            )
        return refused(
            self.request,
            reason or "This sign-in has expired or was started in another browser: start again.",
        )


urlpatterns = [
    path("start/", SignOnStart.as_view(), name="sso-start"),
    path("callback/", SignOnCallback.as_view(), name="sso-callback"),
]
