"""A real OpenID Connect provider on loopback for the single sign-on tests: oidc-provider-mock
(authlib under Flask) served by werkzeug in a thread of the test process, on a free port."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import oidc_provider_mock
import requests
import werkzeug.serving

CLIENT_ID = "servicebook-test"
CLIENT_SECRET = "servicebook-test-secret"


@contextmanager
def running_provider() -> Iterator[str]:
    """Start the provider on 127.0.0.1 and yield its issuer URL; stop it afterwards."""
    server = werkzeug.serving.make_server(
        "127.0.0.1", 0, oidc_provider_mock.app(require_nonce=True), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def set_claims(issuer: str, sub: str, **claims) -> None:
    """What the provider will say about ``sub`` (its user info and ID token claims)."""
    response = requests.put(f"{issuer}/users/{quote(sub, safe='')}", json=claims, timeout=10)
    assert response.status_code == 204, response.text


def sso_settings(settings, issuer: str, **extra) -> None:
    """Turn single sign-on on (pytest-django's ``settings`` fixture), discovering ``issuer``."""
    settings.SERVICEBOOK_OIDC_ISSUER = issuer
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.SERVICEBOOK_OIDC_PROVIDER_NAME = "Example Corp"
    settings.SERVICEBOOK_OIDC_ROLE_GROUPS = "it-finance=finance,it-service=service_manager"
    backend = "servicebook.web.sso.SignOnBackend"
    if backend not in settings.AUTHENTICATION_BACKENDS:
        settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, backend]
    for name, value in extra.items():
        setattr(settings, name, value)
