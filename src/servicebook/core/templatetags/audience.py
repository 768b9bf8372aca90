"""``{% shown_event event as shown %}``: an event as the signed-in user may see it.

``shown.actor`` is the actor's label and ``shown.note`` the note (empty when withheld); see
:mod:`servicebook.core.audience`.
"""

from __future__ import annotations

from django import template

from servicebook.core.audience import ShownEvent
from servicebook.core.audience import shown_event as _shown_event

register = template.Library()


@register.simple_tag(takes_context=True)
def shown_event(context, event) -> ShownEvent:
    request = context.get("request")
    viewer = getattr(request, "user", None) or context.get("user")
    return _shown_event(event, viewer)
