"""API token authentication, throttled per address (docs/decisions/0009-sign-in-throttling.md).

A wrong ``Authorization: Token …`` is counted per address; once an address passes
``SERVICEBOOK_TOKEN_FAILURE_LIMIT`` failures, token authentication from it is refused (429) for
the sign-in cool-off. Valid tokens are never counted or slowed down. (Kept apart from the views:
DRF imports this class while its own views load.)
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


def cool_off_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def _failure_key(request) -> str:
    return f"servicebook:token-failures:{request.META.get('REMOTE_ADDR', '')}"


class ThrottledTokenAuthentication(TokenAuthentication):
    """Token authentication that refuses an address after too many invalid tokens."""

    def authenticate(self, request):
        key = _failure_key(request)
        limit = settings.SERVICEBOOK_TOKEN_FAILURE_LIMIT
        if limit and cache.get(key, 0) >= limit and request.headers.get("Authorization"):
            raise exceptions.Throttled(
                wait=cool_off_seconds(),
                detail=f"Too many invalid API tokens from this address: try again in "
                f"{max(1, cool_off_seconds() // 60)} minutes.",
            )
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            timeout = cool_off_seconds()
            if not cache.add(key, 1, timeout):
                try:
                    cache.incr(key)
                except ValueError:  # expired between add and incr
                    cache.add(key, 1, timeout)
            raise
