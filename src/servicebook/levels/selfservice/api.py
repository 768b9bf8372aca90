"""REST API of ticket self-service (issue 15): ``/api/self-service/tickets/``.

Customer users raise tickets on their own agreements, read, comment and close them; provider
handlers (service managers, the admin) also move them and write internal notes. Who may act is
checked before the body is read (403); another customer's ticket is a 404.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from servicebook.agreements.models import Agreement
from servicebook.core.api import PermissionFirstMixin, ScopedInputSerializer
from servicebook.core.errors import PermissionDenied
from servicebook.levels.models import Ticket, TicketChannel, TicketComment, TicketEvent
from servicebook.levels.selfservice import services as portal

PARTY_ROLES = "provider_admin, service_manager, internal_customer, external_customer"


def _require_party(user, what: str) -> None:
    if not portal.may_raise(user):
        raise PermissionDenied(f"{what} needs one of these roles: {PARTY_ROLES}")


class TicketCommentSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()

    class Meta:
        model = TicketComment
        fields = ["id", "author", "text", "internal", "created"]

    def get_author(self, obj) -> str:
        return obj.author.get_full_name() or obj.author.get_username()


class TicketEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = TicketEvent
        fields = ["at", "action", "from_state", "to_state", "note"]


class PortalTicketSerializer(serializers.ModelSerializer):
    agreement_reference = serializers.CharField(source="agreement.reference", read_only=True)

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "agreement",
            "agreement_reference",
            "kind",
            "short_description",
            "state",
            "impact",
            "urgency",
            "priority",
            "caller",
            "opened_at",
            "resolved_at",
            "closed_at",
        ]


class PortalTicketDetailSerializer(PortalTicketSerializer):
    history = serializers.SerializerMethodField()
    comments = serializers.SerializerMethodField()
    events = TicketEventSerializer(many=True, read_only=True)

    class Meta(PortalTicketSerializer.Meta):
        fields = [*PortalTicketSerializer.Meta.fields, "history", "comments", "events"]

    def get_history(self, obj) -> list[dict]:
        return [
            {"sequence": h.sequence, "at": h.at.isoformat(), "state": h.state}
            for h in obj.history.order_by("sequence")
        ]

    def get_comments(self, obj) -> list[dict]:
        user = self.context["request"].user
        rows = TicketComment.objects.visible_to(user).filter(ticket=obj).select_related("author")
        return TicketCommentSerializer(rows, many=True).data


class RaiseSerializer(ScopedInputSerializer):
    agreement = serializers.PrimaryKeyRelatedField(queryset=Agreement.objects.all())
    kind = serializers.ChoiceField(choices=["incident", "request"])
    short_description = serializers.CharField(max_length=portal.MAX_SUMMARY)
    description = serializers.CharField(
        max_length=portal.MAX_TEXT, required=False, allow_blank=True, default=""
    )
    impact = serializers.IntegerField(min_value=1)
    urgency = serializers.IntegerField(min_value=1)


class TicketCommentInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=portal.MAX_TEXT)
    internal = serializers.BooleanField(required=False, default=False)


class TicketCloseSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class MoveSerializer(TicketCloseSerializer):
    to_state = serializers.ChoiceField(choices=list(portal.STATES))


class PortalTicketViewSet(
    PermissionFirstMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Tickets raised in the portal: raise (POST), read, ``comment``, ``close``, ``move``."""

    write_roles = {"move": (portal.HANDLERS, "Moving a ticket")}
    queryset = Ticket.objects.filter(channel=TicketChannel.PORTAL).select_related("agreement")
    serializer_class = PortalTicketSerializer
    filterset_fields = ["agreement", "state", "kind", "priority"]
    ordering_fields = ["opened_at", "priority", "number"]

    #: actions open to customer users and handlers: checked before the body is read
    party_actions = {"create": "Raising a ticket", "comment": "Commenting on a ticket"}
    party_actions |= {"close": "Closing a ticket"}

    def initial(self, request, *args, **kwargs):
        what = self.party_actions.get(getattr(self, "action", None) or "")
        if what and request.user.is_authenticated:
            _require_party(request.user, what)  # other staff: 403 whatever the body
            if self.detail:
                self.get_object()  # another customer's ticket: 404 before the body is read
        super().initial(request, *args, **kwargs)

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def get_serializer_class(self):
        if self.action == "retrieve":
            return PortalTicketDetailSerializer
        return super().get_serializer_class()

    def _answer(self, ticket, code=status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=ticket.pk)
        body = PortalTicketDetailSerializer(fresh, context=self.get_serializer_context()).data
        return Response(body, status=code)

    @extend_schema(request=RaiseSerializer, responses=PortalTicketDetailSerializer)
    def create(self, request):
        """Raise an incident or a service request on one of your customer's active agreements."""
        body = RaiseSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        ticket = portal.raise_ticket(actor=request.user, **body.validated_data)
        return self._answer(ticket, status.HTTP_201_CREATED)

    @extend_schema(request=TicketCommentInputSerializer, responses=TicketCommentSerializer)
    @action(detail=True, methods=["post"])
    def comment(self, request, pk=None):
        """Add a comment (``internal``: a staff-only note, for service managers)."""
        ticket = self.get_object()
        body = TicketCommentInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        comment = portal.comment_on_ticket(actor=request.user, ticket=ticket, **body.validated_data)
        return Response(TicketCommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=TicketCloseSerializer, responses=PortalTicketDetailSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close the ticket: the resolution clock stops."""
        ticket = self.get_object()
        body = TicketCloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        portal.close_ticket(actor=request.user, ticket=ticket, **body.validated_data)
        return self._answer(ticket)

    @extend_schema(request=MoveSerializer, responses=PortalTicketDetailSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Move the ticket to another state (service managers and the admin)."""
        ticket = self.get_object()
        body = MoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        portal.move_ticket(actor=request.user, ticket=ticket, **body.validated_data)
        return self._answer(ticket)


ROUTES = [("self-service/tickets", PortalTicketViewSet, "portalticket")]
