"""What every page needs to draw the navigation for the signed-in user."""

from functools import cache

from django.apps import apps
from django.urls import NoReverseMatch, reverse

from servicebook.core.roles import is_provider_staff, roles_of
from servicebook.core.tenancy import customer_of
from servicebook.policy import user_may_see_cost, user_may_see_margin


@cache
def _navigation() -> tuple[tuple[str, str, bool], ...]:
    """(label, url, shown to customer users) from each installed app's ``navigation``."""
    entries = []
    for config in apps.get_app_configs():
        for label, url_name, for_customers in getattr(config, "navigation", ()):
            try:
                entries.append((label, reverse(url_name), for_customers))
            except NoReverseMatch:
                continue
    return tuple(entries)


def navigation(request):
    user = request.user
    if not user.is_authenticated:
        return {}
    staff = is_provider_staff(user)
    return {
        "is_provider_staff": staff,
        "my_customer": customer_of(user),
        "my_roles": sorted(roles_of(user)),
        "can_see_cost": user_may_see_cost(user),
        "can_see_margin": user_may_see_margin(user),
        "nav_items": [
            (label, url) for label, url, for_customers in _navigation() if staff or for_customers
        ],
    }
