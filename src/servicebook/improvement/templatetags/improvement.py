"""Template questions about improvement for pages of other apps (the customer page's links)."""

from django import template

from servicebook.improvement import services

register = template.Library()


@register.filter
def may_register_improvement(user) -> bool:
    """Offer "Register an improvement" only to those the service lets register one."""
    return services.may_edit(user)
