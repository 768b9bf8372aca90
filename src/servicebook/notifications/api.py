"""API of My work and notifications: every reader sees their own alone."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from servicebook.core.api import PermissionFirstMixin
from servicebook.core.params import MAX_ID
from servicebook.notifications import selectors, services
from servicebook.notifications.kinds import Channel, Kind
from servicebook.notifications.models import Notification


class WorkItemSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Kind.choices)
    title = serializers.CharField()
    link = serializers.CharField()
    since = serializers.DateTimeField()
    customer = serializers.CharField()


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "subject", "body", "link", "created_at", "read_at", "delivery"]
        read_only_fields = fields


class ChannelsSerializer(serializers.Serializer):
    """The channel per kind; a PUT may name only the kinds it changes."""

    def get_fields(self):
        return {
            kind.value: serializers.ChoiceField(choices=Channel.choices, required=False)
            for kind in Kind
        }

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(Kind.values))
        if unknown:
            raise serializers.ValidationError(
                {name: [f"no kind of notification is called {name!r}"] for name in unknown[:10]}
            )
        if not attrs:
            raise serializers.ValidationError(
                {"non_field_errors": ["name at least one kind of notification and its channel"]}
            )
        return attrs


class ReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=1000,
    )


class MyWorkViewSet(viewsets.ViewSet):
    """What waits for the signed-in user, oldest first."""

    @extend_schema(responses=WorkItemSerializer(many=True))
    def list(self, request):
        items = selectors.my_work(request.user)
        return Response(WorkItemSerializer(items, many=True).data)


class NotificationViewSet(PermissionFirstMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The signed-in user's notifications, newest first; mark them read; choose channels."""

    serializer_class = NotificationSerializer
    filterset_fields = ["kind"]
    ordering_fields = ["created_at"]
    search_fields = ["subject"]

    def get_queryset(self):
        return Notification.objects.visible_to(self.request.user)

    @extend_schema(request=ReadSerializer, responses={200: ReadSerializer})
    @action(detail=False, methods=["post"])
    def read(self, request):
        """Mark read the notifications ``ids`` (all unread ones without ``ids``)."""
        body = ReadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        count = services.mark_read(user=request.user, ids=body.validated_data.get("ids"))
        return Response({"marked": count}, status=status.HTTP_200_OK)

    @extend_schema(methods=["GET"], responses=ChannelsSerializer)
    @extend_schema(methods=["PUT"], request=ChannelsSerializer, responses=ChannelsSerializer)
    @action(detail=False, methods=["get", "put"])
    def channels(self, request):
        """The channel per kind of notification: ``email``, ``inbox`` or ``digest``."""
        if request.method == "PUT":
            body = ChannelsSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            services.set_channels(user=request.user, channels=body.validated_data)
        return Response(selectors.channels_of(request.user))


ROUTES = [
    ("my-work", MyWorkViewSet, "my-work"),
    ("notifications", NotificationViewSet, "notification"),
]
