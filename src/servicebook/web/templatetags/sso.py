"""``{% sso_provider_name as name %}``: the single sign-on button's provider, "" when it is off."""

from django import template

from servicebook.web import sso

register = template.Library()


@register.simple_tag
def sso_provider_name() -> str:
    return sso.provider_name()
