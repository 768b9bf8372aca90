"""What every page needs to draw the navigation for the signed-in user."""

from servicebook.core.roles import is_provider_staff, roles_of
from servicebook.core.tenancy import customer_of
from servicebook.policy import user_may_see_cost, user_may_see_margin


def navigation(request):
    user = request.user
    if not user.is_authenticated:
        return {}
    return {
        "is_provider_staff": is_provider_staff(user),
        "my_customer": customer_of(user),
        "my_roles": sorted(roles_of(user)),
        "can_see_cost": user_may_see_cost(user),
        "can_see_margin": user_may_see_margin(user),
    }
