"""Who an event shows to whom: the one audience-aware way to display an audit event.

Event rows (``EventModel``) record the user who acted and a free-text note. Shown as they are,
they would tell a customer user the names and notes of people from other customers affected by
the same change, demand or improvement. Every page, API and document that shows events asks
:func:`shown_event` instead:

- provider staff see everything: the actor's name and the note;
- a customer user sees its own organization's people by name, the provider's people (and the
  system) as "Provider", and nothing of other customers: no name and no note;
- anybody else (signed out) sees no names and no notes.

An event that concerns one customer (it has a ``customer`` other than the viewer's) is treated
like an action of that customer. Templates use ``{% load audience %}{% shown_event e as shown %}``;
API serializers use :class:`ShownActorField` and :class:`ShownNoteField`.
"""

from __future__ import annotations

from dataclasses import dataclass

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from servicebook.core.roles import is_provider_staff

PROVIDER = "Provider"
SYSTEM = "system"
OTHER_CUSTOMER = "Another customer"


@dataclass(frozen=True)
class ShownEvent:
    """What a viewer may see of one event: the actor's label, the note, and whether the event
    was an action of another customer (so its details are withheld)."""

    actor: str
    note: str
    withheld: bool = False


def person_name(user) -> str:
    """A user's display name: full name, else user name."""
    full = (user.get_full_name() or "").strip()
    return full or user.get_username()


def shown_event(event, viewer) -> ShownEvent:
    """The actor label and note ``viewer`` may see of ``event`` (see the module docstring)."""
    actor = getattr(event, "actor", None)
    note = getattr(event, "note", "") or ""
    if is_provider_staff(viewer):
        return ShownEvent(person_name(actor) if actor is not None else SYSTEM, note)
    authenticated = getattr(viewer, "is_authenticated", False)
    own = getattr(viewer, "customer_id", None) if authenticated else None
    actor_customer = getattr(actor, "customer_id", None)
    by_provider = actor_customer is None
    if own is None:  # signed out, or a user of no customer who is not staff: no names, no notes
        return ShownEvent(PROVIDER if by_provider else OTHER_CUSTOMER, "", True)
    concerns = getattr(event, "customer_id", None)
    if (not by_provider and actor_customer != own) or (concerns is not None and concerns != own):
        return ShownEvent(OTHER_CUSTOMER, "", True)
    if by_provider:
        return ShownEvent(PROVIDER, note)
    return ShownEvent(person_name(actor), note)


def shown_events(events, viewer) -> list[tuple[object, ShownEvent]]:
    """``[(event, shown), …]`` for a list of events (templates iterate over the pairs)."""
    return [(event, shown_event(event, viewer)) for event in events]


def _viewer(context) -> object | None:
    request = (context or {}).get("request")
    return getattr(request, "user", None)


@extend_schema_field(OpenApiTypes.STR)
class ShownActorField(serializers.Field):
    """API field: the event's actor label as the requesting user may see it (needs the request
    in the serializer's context)."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value) -> str:
        return shown_event(value, _viewer(self.context)).actor


@extend_schema_field(OpenApiTypes.STR)
class ShownNoteField(ShownActorField):
    """API field: the event's note as the requesting user may see it ("" when withheld)."""

    def to_representation(self, value) -> str:
        return shown_event(value, _viewer(self.context)).note
