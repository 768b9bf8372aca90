"""REST API for requests for change, customer impacts and approvals, tasks, training, feeds."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from servicebook.catalog.models import Service
from servicebook.changes import selectors, services
from servicebook.changes.deliverables.api import ROUTES as DELIVERABLE_ROUTES
from servicebook.changes.filters import CHANGE_ORDERING, ChangeFilter
from servicebook.changes.models import (
    Approval,
    ChangeEvent,
    ChangeRequest,
    CustomerImpact,
    CustomerTask,
    Risk,
    ScheduleFeed,
    TrainingRecord,
)
from servicebook.core.api import (
    PermissionFirstMixin,
    ScopedWriteSerializer,
    ServiceBackedViewSet,
    StepActionMixin,
)
from servicebook.core.audience import shown_event
from servicebook.core.errors import PermissionDenied
from servicebook.core.roles import is_provider_staff
from servicebook.core.services import require_role
from servicebook.core.tenancy import customer_of
from servicebook.parties.models import Contact, Customer
from servicebook.policy import policy_for
from servicebook.web.serializers import CostAwareSerializer

#: the roles every provider-side write of a change needs (the services require the same)
CHANGE_MANAGERS = services.CHANGE_MANAGERS


def _steps(*pairs: tuple[str, str]) -> dict[str, tuple[tuple[str, ...], str]]:
    return {action: (CHANGE_MANAGERS, what) for action, what in pairs}


def refuse_unless_acting_for(user, customer: Customer | None, *, action: str) -> None:
    """Before the body is read: staff need a change manager's role, and a customer user acts for
    its own customer only (the service still checks the rest: contact, authority, status)."""
    if is_provider_staff(user):
        require_role(user, *CHANGE_MANAGERS, action=action)
        return
    own = customer_of(user)
    if own is None or customer is None or own.pk != customer.pk:
        raise PermissionDenied(f"{action}: only for your own organization")


class ScopedReadOnlyViewSet(PermissionFirstMixin, viewsets.ReadOnlyModelViewSet):
    """Reads scoped by ``visible_to``; writes are explicit actions that call services, each
    checked for its role before the body is read (``write_roles``)."""

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)


class CustomerImpactSerializer(serializers.ModelSerializer):
    change_reference = serializers.CharField(source="change.reference", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    clause_text = serializers.CharField(source="clause.text", read_only=True, default="")
    yearly_price_impact = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)
    price_accepted_by_name = serializers.CharField(
        source="price_accepted_by.name", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = CustomerImpact
        fields = [
            "id",
            "change",
            "change_reference",
            "customer",
            "customer_name",
            "agreement",
            "authorization",
            "clause",
            "clause_text",
            "notice_days",
            "repricing",
            "decision",
            "notified_at",
            "price_impact",
            "yearly_price_impact",
            "currency",
            "price_accepted_by",
            "price_accepted_by_name",
            "price_accepted_at",
        ]


class AudienceMixin(serializers.Serializer):
    """``actor`` label and ``note`` as the requesting user may see them (core.audience)."""

    def _shown(self, obj):
        request = self.context.get("request")
        return shown_event(obj, getattr(request, "user", None))

    def get_note(self, obj) -> str:
        return self._shown(obj).note


class ApprovalSerializer(AudienceMixin, serializers.ModelSerializer):
    contact_name = serializers.CharField(
        source="contact.name", read_only=True, default=None, allow_null=True
    )
    actor_name = serializers.SerializerMethodField()
    note = serializers.SerializerMethodField()

    def get_actor_name(self, obj) -> str | None:
        return None if obj.actor_id is None else self._shown(obj).actor

    class Meta:
        model = Approval
        fields = [
            "id",
            "change",
            "customer",
            "contact",
            "contact_name",
            "actor_name",
            "verdict",
            "value_at_stake",
            "currency",
            "after_the_fact",
            "note",
            "at",
        ]


class CustomerTaskSerializer(serializers.ModelSerializer):
    contact_name = serializers.CharField(
        source="contact.name", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = CustomerTask
        fields = [
            "id",
            "change",
            "customer",
            "kind",
            "title",
            "description",
            "script",
            "due_date",
            "contact",
            "contact_name",
            "done",
        ]


class ChangeRequestSerializer(CostAwareSerializer):
    service_names = serializers.SerializerMethodField()
    impacts = serializers.SerializerMethodField()
    approvals = serializers.SerializerMethodField()
    missing_approvals = serializers.SerializerMethodField()
    schedule_blockers = serializers.SerializerMethodField()

    class Meta:
        model = ChangeRequest
        fields = [
            "id",
            "reference",
            "title",
            "description",
            "change_type",
            "status",
            "services",
            "service_names",
            "risk",
            "service_impact",
            "cost_impact",
            "currency",
            "deployment_procedure",
            "planned_start",
            "planned_end",
            "approved_after_the_fact",
            "impacts",
            "approvals",
            "missing_approvals",
            "schedule_blockers",
            "created_at",
        ]
        cost_fields = ["cost_impact"]

    @property
    def _user(self):
        request = self.context.get("request")
        return getattr(request, "user", None)

    def get_service_names(self, obj) -> list[str]:
        return [s.name for s in obj.services.all()]

    def get_impacts(self, obj) -> list[dict]:
        impacts = selectors.impacts_for(self._user, obj)
        return CustomerImpactSerializer(impacts, many=True, context=self.context).data

    def get_approvals(self, obj) -> list[dict]:
        approvals = selectors.approvals_for(self._user, obj)
        return ApprovalSerializer(approvals, many=True, context=self.context).data

    def get_missing_approvals(self, obj) -> list[str]:
        return selectors.missing_for(self._user, obj)

    def get_schedule_blockers(self, obj) -> list[str]:
        return selectors.blockers_for(self._user, obj)


class ChangeRequestWriteSerializer(ScopedWriteSerializer):
    services = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Service.objects.all(), required=False
    )

    class Meta:
        model = ChangeRequest
        fields = [
            "title",
            "description",
            "change_type",
            "services",
            "deployment_procedure",
            "planned_start",
            "planned_end",
        ]
        validators = []


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class AssessSerializer(serializers.Serializer):
    risk = serializers.ChoiceField(choices=Risk.choices)
    service_impact = serializers.CharField(allow_blank=True)
    cost_impact = serializers.DecimalField(max_digits=18, decimal_places=2)


class VerdictSerializer(NoteSerializer):
    verdict = serializers.ChoiceField(choices=Approval.Verdict.choices)


class WindowSerializer(NoteSerializer):
    planned_start = serializers.DateTimeField()
    planned_end = serializers.DateTimeField()
    deployment_procedure = serializers.CharField(required=False, allow_blank=True, default=None)


class ChangeEventSerializer(AudienceMixin, serializers.ModelSerializer):
    """One step of a change's history: the actor and note as the requesting user may see them."""

    actor = serializers.SerializerMethodField()
    note = serializers.SerializerMethodField()

    def get_actor(self, obj) -> str:
        return self._shown(obj).actor

    class Meta:
        model = ChangeEvent
        fields = ["at", "actor", "action", "from_state", "to_state", "note", "customer"]


def _may_set_window(user, change) -> None:
    """Who may set the window, asked of the change before the body is read (the state is the
    service's to refuse, with the body's window)."""
    refusal = services.window_refusal(user, change)
    if isinstance(refusal, PermissionDenied):
        raise refusal


class ChangeRequestViewSet(StepActionMixin, ServiceBackedViewSet):
    """Requests for change (R11): lifecycle draft → assessment → awaiting approval → approved |
    rejected → scheduled → implemented → reviewed. Customer users see the changes that affect
    them (only their own part of each)."""

    queryset = ChangeRequest.objects.all()
    serializer_class = ChangeRequestSerializer
    write_serializer_class = ChangeRequestWriteSerializer
    # Checked before the body is read (403 whatever the body). ``window`` is absent on purpose:
    # an internal customer co-owns its deployment schedule; the action asks the service's rule
    # (``window_refusal``) on the change before reading the body.
    write_roles = _steps(
        ("create", "Raising a request for change"),
        ("update", "Changing a request for change"),
        ("partial_update", "Changing a request for change"),
        ("start_assessment", "Assessing a change"),
        ("assess", "Assessing a change"),
        ("submit", "Submitting a change for approval"),
        ("it_decision", "Authorizing a change for IT"),
        ("schedule", "Scheduling a change"),
        ("implement", "Implementing a change"),
        ("review", "Reviewing a change"),
    )
    filterset_class = ChangeFilter
    search_fields = ["reference", "title"]
    ordering_fields = CHANGE_ORDERING
    step_object = "change"
    step_answer_class = ChangeRequestSerializer

    def get_queryset(self):
        return selectors.changes_for(self.request.user)

    def create_object(self, data):
        # The service checks the role first, then refuses a change that names no service (400).
        return services.create_change(actor=self.request.user, **{"services": [], **data})

    def update_object(self, instance, data):
        return services.update_change(actor=self.request.user, change=instance, **data)

    @action(detail=True, methods=["post"], url_path="start-assessment")
    def start_assessment(self, request, pk=None):
        """draft → assessment: derive the affected customers from active agreements."""
        return self.step(request, services.start_assessment, NoteSerializer)

    @action(detail=True, methods=["post"], serializer_class=AssessSerializer)
    def assess(self, request, pk=None):
        """Record risk, service impact and the provider's cost of the change."""
        return self.step(request, services.assess_change, AssessSerializer)

    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """assessment → awaiting approval (customers notified where the contract says so)."""
        return self.step(request, services.submit_for_approval, NoteSerializer)

    @action(
        detail=True, methods=["post"], url_path="it-decision", serializer_class=VerdictSerializer
    )
    def it_decision(self, request, pk=None):
        """The IT change manager approves or rejects."""
        return self.step(request, services.record_it_decision, VerdictSerializer)

    @action(detail=True, methods=["post"], serializer_class=WindowSerializer)
    def window(self, request, pk=None):
        """Set the change window (internal customers co-own it)."""

        return self.step(request, services.set_schedule, WindowSerializer, refuse=_may_set_window)

    @action(detail=True, methods=["post"])
    def schedule(self, request, pk=None):
        """approved → scheduled (price accepted, notice respected, contacts trained)."""
        return self.step(request, services.schedule_change, NoteSerializer)

    @action(detail=True, methods=["post"])
    def implement(self, request, pk=None):
        return self.step(request, services.implement_change, NoteSerializer)

    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        return self.step(request, services.review_change, NoteSerializer)

    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """The change's events the user may see."""
        change = self.get_object()
        events = ChangeEvent.objects.visible_to(request.user).filter(change=change)
        serializer = ChangeEventSerializer(
            events.select_related("actor"), many=True, context=self.get_serializer_context()
        )
        return Response(serializer.data)


class ContactChoiceSerializer(NoteSerializer):
    """Customer users act as themselves; staff name the contact they record for."""

    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), required=False, allow_null=True, default=None
    )

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        fields["contact"].queryset = Contact.objects.visible_to(getattr(request, "user", None))
        return fields


class DecisionSerializer(ContactChoiceSerializer):
    verdict = serializers.ChoiceField(choices=Approval.Verdict.choices)


class PriceImpactSerializer(NoteSerializer):
    price_impact = serializers.DecimalField(max_digits=18, decimal_places=2)


def _acting_for(action: str):
    """``refuse_unless_acting_for`` the impact's customer, as a step's ``refuse``."""

    def refuse(user, impact) -> None:
        refuse_unless_acting_for(user, impact.customer, action=action)

    return refuse


class CustomerImpactViewSet(StepActionMixin, ScopedReadOnlyViewSet):
    """Each customer affected by a change: how it authorizes, its decision, its price impact."""

    queryset = CustomerImpact.objects.select_related(
        "change", "customer", "clause", "price_accepted_by"
    )
    serializer_class = CustomerImpactSerializer
    filterset_fields = ["change", "customer", "decision", "authorization"]
    # ``decide`` and ``accept_price`` are the customer's own (or a change manager recording for
    # it): they ask ``refuse_unless_acting_for`` on the impact before reading the body.
    write_roles = _steps(("price_impact", "Quoting a price impact"))
    step_object = "impact"
    step_answer_class = CustomerImpactSerializer

    @action(detail=True, methods=["post"], url_path="price-impact")
    def price_impact(self, request, pk=None):
        """Quote the monthly price impact (contracts whose clause reprices the change)."""
        return self.step(request, services.set_price_impact, PriceImpactSerializer)

    @action(detail=True, methods=["post"], serializer_class=DecisionSerializer)
    def decide(self, request, pk=None):
        """The customer approves or rejects (R11 by policy, R16, R17)."""
        refuse = _acting_for("Approving a change")
        return self.step(
            request, services.record_customer_decision, DecisionSerializer, refuse=refuse
        )

    @action(detail=True, methods=["post"], url_path="accept-price")
    def accept_price(self, request, pk=None):
        """The customer accepts the new price (needed before scheduling)."""
        refuse = _acting_for("Accepting a price impact")
        return self.step(
            request, services.accept_price_impact, ContactChoiceSerializer, refuse=refuse
        )


class ApprovalViewSet(ScopedReadOnlyViewSet):
    queryset = Approval.objects.select_related("contact", "actor")
    serializer_class = ApprovalSerializer
    filterset_fields = ["change", "customer", "verdict"]


class CustomerTaskWriteSerializer(ScopedWriteSerializer):
    class Meta:
        model = CustomerTask
        fields = [
            "change",
            "customer",
            "kind",
            "title",
            "description",
            "script",
            "due_date",
            "contact",
        ]
        validators = []

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        fields["change"].queryset = ChangeRequest.objects.visible_to(getattr(request, "user", None))
        return fields


class CustomerTaskViewSet(StepActionMixin, ServiceBackedViewSet):
    """Customer tasks: an internal customer's build/test/deployment work, an external customer's
    scripted deployment steps."""

    queryset = CustomerTask.objects.select_related("contact")
    serializer_class = CustomerTaskSerializer
    write_serializer_class = CustomerTaskWriteSerializer
    filterset_fields = ["change", "customer", "kind", "done"]
    http_method_names = ["get", "post", "head", "options"]
    step_object = "task"
    step_answer_class = CustomerTaskSerializer

    def initial(self, request, *args, **kwargs):
        """Who may add a task, before the body is read: a change manager, or a user of a
        customer whose policy lets it add its own tasks (an internal customer); the service
        then checks the task is for the user's own organization. ``done`` asks the service's
        rule on the task itself."""
        super().initial(request, *args, **kwargs)
        if self.action != "create":
            return
        user = request.user
        if is_provider_staff(user):
            require_role(user, *CHANGE_MANAGERS, action="Adding a customer task")
            return
        own = customer_of(user)
        if own is None or not policy_for(own).adds_change_tasks:
            raise PermissionDenied(
                "Adding a task: your contract documents your part in changes; "
                "the provider scripts your deployment steps"
            )

    def create_object(self, data):
        return services.add_customer_task(actor=self.request.user, **data)

    @action(detail=True, methods=["post"])
    def done(self, request, pk=None):
        return self.step(request, services.complete_customer_task)


class TrainingRecordSerializer(ScopedWriteSerializer):
    contact_name = serializers.CharField(source="contact.name", read_only=True)

    class Meta:
        model = TrainingRecord
        fields = ["id", "change", "contact", "contact_name", "completed_on", "topic"]


class TrainingRecordViewSet(ServiceBackedViewSet):
    """Training of customer contacts for their deployment steps."""

    queryset = TrainingRecord.objects.select_related("contact")
    serializer_class = TrainingRecordSerializer
    write_serializer_class = TrainingRecordSerializer
    write_roles = _steps(("create", "Recording a training"))
    filterset_fields = ["change", "contact"]
    http_method_names = ["get", "post", "head", "options"]

    def create_object(self, data):
        return services.record_training(actor=self.request.user, **data)


class ScheduleFeedSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = ScheduleFeed
        fields = ["id", "customer", "customer_name", "url", "rotated_at"]

    def get_url(self, obj) -> str:
        path = reverse("changes:feed", args=[obj.token])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class RotateSerializer(serializers.Serializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        fields["customer"].queryset = Customer.objects.visible_to(getattr(request, "user", None))
        return fields


class ScheduleFeedViewSet(ScopedReadOnlyViewSet):
    """Per-customer iCalendar feeds of the change schedule (secret, rotatable URLs)."""

    queryset = ScheduleFeed.objects.select_related("customer")
    serializer_class = ScheduleFeedSerializer
    filterset_fields = ["customer"]

    @action(detail=False, methods=["post"], serializer_class=RotateSerializer)
    def rotate(self, request):
        """Create or replace the customer's secret feed URL."""
        if is_provider_staff(request.user):  # a customer user rotates its own (the service)
            require_role(request.user, *CHANGE_MANAGERS, action="Rotating a schedule feed")
        serializer = RotateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        feed = services.rotate_feed(actor=request.user, **serializer.validated_data)
        return Response(ScheduleFeedSerializer(feed, context={"request": request}).data)


ROUTES = [
    ("changes", ChangeRequestViewSet, "changerequest"),
    ("change-impacts", CustomerImpactViewSet, "customerimpact"),
    ("change-approvals", ApprovalViewSet, "approval"),
    ("change-tasks", CustomerTaskViewSet, "customertask"),
    ("change-trainings", TrainingRecordViewSet, "trainingrecord"),
    ("change-feeds", ScheduleFeedViewSet, "schedulefeed"),
    *DELIVERABLE_ROUTES,  # decision 0023
]
