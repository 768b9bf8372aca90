"""What every page needs to draw the navigation for the signed-in user."""

from functools import cache

from django.apps import apps
from django.urls import NoReverseMatch, reverse

from servicebook.core.roles import ROLE_LABELS, is_provider_staff, roles_of
from servicebook.core.tenancy import customer_of
from servicebook.policy import user_may_see_cost, user_may_see_margin


@cache
def _navigation() -> tuple[tuple[str, tuple[tuple[str, str, bool], ...]], ...]:
    """Per app: (app label, ((label, url, shown to customer users), …)) from ``navigation``."""
    groups = []
    for config in apps.get_app_configs():
        entries = []
        for label, url_name, for_customers in getattr(config, "navigation", ()):
            try:
                entries.append((label, reverse(url_name), for_customers))
            except NoReverseMatch:
                continue
        if entries:
            groups.append((str(config.verbose_name), tuple(entries)))
    return tuple(groups)


def _menu(staff: bool) -> list[tuple[str, list[tuple[str, str]]]]:
    """The navigation a user sees: one entry, or a dropdown when an app offers several."""
    menu = []
    for group, entries in _navigation():
        shown = [(label, url) for label, url, for_customers in entries if staff or for_customers]
        if shown:
            menu.append((shown[0][0] if len(shown) == 1 else group, shown))
    return menu


def navigation(request):
    user = request.user
    if not user.is_authenticated:
        return {}
    staff = is_provider_staff(user)
    return {
        "is_provider_staff": staff,
        "my_customer": customer_of(user),
        "my_roles": sorted(ROLE_LABELS.get(role, role) for role in roles_of(user)),
        "can_see_cost": user_may_see_cost(user),
        "can_see_margin": user_may_see_margin(user),
        "nav_menu": _menu(staff),
    }
