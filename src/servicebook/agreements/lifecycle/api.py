"""The contract's whole life in the REST API: an agreement's term, its renewal and a
termination notice (actions on ``/api/agreements/<id>/``; decision 0023)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from servicebook.agreements.lifecycle import services
from servicebook.agreements.lifecycle.models import NoticeSide
from servicebook.agreements.lifecycle.selectors import term_of
from servicebook.core.api import ScopedInputSerializer
from servicebook.parties.models import Contact

RENEWER_ROLES = {
    "renew": (services.agreement_services.AGREEMENT_EDITORS, "Renewing an agreement"),
    "notice": (services.agreement_services.AGREEMENT_EDITORS, "Recording a notice"),
}


class TermNoticeSerializer(serializers.Serializer):
    given_by = serializers.CharField()
    given_on = serializers.DateField()
    effective = serializers.DateField()
    reason = serializers.CharField()
    contact = serializers.CharField(allow_null=True)


class TermReminderSerializer(serializers.Serializer):
    deadline = serializers.DateField()
    sent_on = serializers.DateField()
    recipients = serializers.IntegerField()


class TermSerializer(serializers.Serializer):
    """The agreement's term: dates, renewal, notice period and deadline, notice given."""

    agreement = serializers.IntegerField()
    version = serializers.IntegerField()
    status = serializers.CharField()
    start_date = serializers.DateField()
    end_date = serializers.DateField(allow_null=True)
    auto_renew = serializers.BooleanField()
    renewal_months = serializers.IntegerField(allow_null=True)
    notice_days = serializers.IntegerField()
    notice_period_binds = serializers.BooleanField()
    notice_deadline = serializers.DateField(allow_null=True)
    next_term = serializers.ListField(child=serializers.DateField(), allow_null=True)
    earliest_end_by_notice = serializers.DateField(allow_null=True)
    termination_notice = TermNoticeSerializer(allow_null=True)
    reminders = TermReminderSerializer(many=True)
    renewable = serializers.BooleanField()


class NoticeInputSerializer(ScopedInputSerializer):
    given_by = serializers.ChoiceField(choices=NoticeSide.choices)
    reason = serializers.CharField()
    effective = serializers.DateField(required=False, allow_null=True, default=None)
    given_on = serializers.DateField(required=False, allow_null=True, default=None)
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), required=False, allow_null=True, default=None
    )


class LifecycleActions:
    """Mixed into the agreement viewset: ``term`` (GET), ``renew`` and ``notice`` (POST)."""

    @extend_schema(responses=TermSerializer)
    @action(detail=True, methods=["get"], serializer_class=TermSerializer)
    def term(self, request, pk=None):
        """The agreement's term: end date, notice deadline, next term, notice given."""
        return Response(TermSerializer(term_of(self.get_object()).as_dict()).data)

    @extend_schema(request=None, responses=TermSerializer)
    @action(detail=True, methods=["post"], serializer_class=serializers.Serializer)
    def renew(self, request, pk=None):
        """Draft the next term as a new version (to negotiate, sign and activate); answers the
        new version's term."""
        new = services.renew_agreement(actor=request.user, agreement=self.get_object())
        return Response(TermSerializer(term_of(new).as_dict()).data, status=201)

    @extend_schema(request=NoticeInputSerializer, responses=TermSerializer)
    @action(detail=True, methods=["post"], serializer_class=NoticeInputSerializer)
    def notice(self, request, pk=None):
        """Record a termination notice by either side (refused inside the notice period)."""
        agreement = self.get_object()
        data = self._input(NoticeInputSerializer)
        services.give_notice(
            actor=request.user,
            agreement=agreement,
            given_by=data["given_by"],
            reason=data["reason"],
            effective=data.get("effective"),
            contact=data.get("contact"),
            on=data.get("given_on"),
        )
        agreement.refresh_from_db()
        return Response(TermSerializer(term_of(agreement).as_dict()).data)
