"""Requests for change (R11): affected customers, approvals, customer tasks, training, schedule.

A change names the services it touches; the customers affected are those with an active
agreement covering one of them. How each affected customer takes part is the customer's policy
(``servicebook.policy``): an internal customer co-authorizes with the IT change manager, adds its
own build/test/deployment tasks and co-owns the schedule; an external customer does exactly what
its contract's change clauses document (approval or notice, price impact accepted before
scheduling, scripted deployment steps by trained contacts).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q

from servicebook.core.models import EventModel, TimeStampedModel
from servicebook.core.money import CURRENCY_CHOICES, MONEY_DIGITS, MONEY_PLACES
from servicebook.core.tenancy import ScopedQuerySet


def money_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kwargs)


class ChangeType(models.TextChoices):
    STANDARD = "standard", "Standard (pre-approved)"
    NORMAL = "normal", "Normal"
    EMERGENCY = "emergency", "Emergency"


class ChangeStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ASSESSMENT = "assessment", "Assessment"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SCHEDULED = "scheduled", "Scheduled"
    IMPLEMENTED = "implemented", "Implemented"
    REVIEWED = "reviewed", "Reviewed"


class Risk(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class ChangeRequestQuerySet(ScopedQuerySet):
    """A customer user sees the changes that affect its customer (through an impact row)."""

    customer_path = "impacts__customer"

    def scope_for_customer(self, customer):
        affected = CustomerImpact.objects.filter(customer=customer).values("change_id")
        return self.filter(pk__in=affected)


class ChangeRequest(TimeStampedModel):
    """A request for change (RFC) to one or more services.

    Its type decides how much authorization it needs: a standard change is pre-approved, a
    normal change is approved before it is scheduled, an emergency change may be scheduled and
    implemented first and approved after the fact (recorded as such). ``cost_impact`` is the
    provider's cost of the change in its base currency (never shown to external customers).
    """

    reference = models.CharField(max_length=20, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    change_type = models.CharField(
        max_length=10, choices=ChangeType.choices, default=ChangeType.NORMAL
    )
    status = models.CharField(
        max_length=20, choices=ChangeStatus.choices, default=ChangeStatus.DRAFT
    )
    services = models.ManyToManyField("catalog.Service", related_name="change_requests")
    # Impact assessment.
    risk = models.CharField(max_length=10, choices=Risk.choices, blank=True)
    service_impact = models.TextField(blank=True, help_text="What users will notice, and when.")
    cost_impact = money_field(
        null=True, blank=True, help_text="The provider's cost of the change (base currency)."
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    # Deployment (co-owned with internal customers).
    deployment_procedure = models.TextField(blank=True)
    planned_start = models.DateTimeField(null=True, blank=True)
    planned_end = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_after_the_fact = models.BooleanField(
        default=False, help_text="An emergency change whose approvals came after it was scheduled."
    )

    objects = ChangeRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_start__isnull=True)
                | Q(planned_end__isnull=True)
                | Q(planned_end__gt=F("planned_start")),
                name="change_window_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ChangeStatus.values), name="change_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(change_type__in=ChangeType.values), name="change_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def clean(self) -> None:
        if self.planned_start and self.planned_end and self.planned_end <= self.planned_start:
            raise ValidationError({"planned_end": "the change window must end after it starts"})


class Authorization(models.TextChoices):
    """How one affected customer takes part in authorizing a change (from its policy)."""

    CO_AUTHORIZE = "co_authorize", "Co-authorizes with the IT change manager"
    APPROVAL = "approval", "Approval required by contract"
    NOTIFICATION = "notification", "Notification within the contract's notice period"
    PRE_APPROVED = "pre_approved", "Pre-approved (standard change)"


class Decision(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    NOTIFIED = "notified", "Notified"
    NOT_REQUIRED = "not_required", "Not required"


class CustomerImpact(models.Model):
    """One customer affected by a change, through one of its active agreements.

    Records how the customer authorizes the change (its policy, and for an external customer the
    contract clause that governs it), the customer's decision, the notice given, and for a
    contract that reprices changes the monthly price impact and its acceptance.
    """

    change = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="impacts")
    customer = models.ForeignKey(
        "parties.Customer", on_delete=models.PROTECT, related_name="change_impacts"
    )
    agreement = models.ForeignKey(
        "agreements.Agreement", on_delete=models.PROTECT, related_name="change_impacts"
    )
    authorization = models.CharField(max_length=20, choices=Authorization.choices)
    clause = models.ForeignKey(
        "agreements.ChangeClause",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="change_impacts",
    )
    notice_days = models.PositiveIntegerField(default=0)
    repricing = models.CharField(max_length=10, default="none")
    decision = models.CharField(max_length=20, choices=Decision.choices, default=Decision.PENDING)
    notified_at = models.DateTimeField(null=True, blank=True)
    price_impact = money_field(
        null=True, blank=True, help_text="Change of the monthly price under the contract."
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    price_accepted_by = models.ForeignKey(
        "parties.Contact", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    price_accepted_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["change", "customer__name"]
        constraints = [
            models.UniqueConstraint(fields=["change", "customer"], name="impact_one_per_customer"),
            models.CheckConstraint(
                condition=Q(price_accepted_at__isnull=True) | Q(price_accepted_by__isnull=False),
                name="impact_price_acceptance_has_contact",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.change.reference} → {self.customer}"

    @property
    def needs_decision(self) -> bool:
        return self.authorization in (Authorization.CO_AUTHORIZE, Authorization.APPROVAL)

    @property
    def has_price_impact(self) -> bool:
        return bool(self.price_impact)

    @property
    def yearly_price_impact(self) -> Decimal:
        return (self.price_impact or Decimal(0)) * 12

    def clean(self) -> None:
        if (
            self.agreement_id
            and self.customer_id
            and self.agreement.customer_id != self.customer_id
        ):
            raise ValidationError({"agreement": "the agreement belongs to another customer"})


class ApprovalQuerySet(ScopedQuerySet):
    """A customer user sees its own customer's decisions and the IT change manager's."""

    def scope_for_customer(self, customer):
        visible = ChangeRequest.objects.scope_for_customer(customer).values("pk")
        return self.filter(Q(customer=customer.pk) | Q(customer__isnull=True, change__in=visible))


class Approval(models.Model):
    """One authorization decision on a change: by the IT change manager (no customer) or by a
    customer's contact with the approver role and enough authority (R17). ``after_the_fact``
    marks an emergency change approved after it was scheduled.
    """

    class Verdict(models.TextChoices):
        APPROVE = "approve", "Approve"
        REJECT = "reject", "Reject"

    change = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="approvals")
    customer = models.ForeignKey(
        "parties.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    contact = models.ForeignKey(
        "parties.Contact", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    value_at_stake = money_field(null=True, blank=True)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, blank=True)
    after_the_fact = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    objects = ApprovalQuerySet.as_manager()

    class Meta:
        ordering = ["change", "at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["change"],
                condition=Q(customer__isnull=True),
                name="approval_one_it_decision",
            ),
            models.UniqueConstraint(
                fields=["change", "customer"],
                condition=Q(customer__isnull=False),
                name="approval_one_per_customer",
            ),
            models.CheckConstraint(
                condition=Q(customer__isnull=True) | Q(contact__isnull=False),
                name="approval_customer_needs_contact",
            ),
        ]

    def __str__(self) -> str:
        who = self.contact.name if self.contact_id else "IT change manager"
        return f"{who}: {self.verdict}"


class TaskKind(models.TextChoices):
    BUILD = "build", "Build"
    TEST = "test", "Test"
    DEPLOYMENT = "deployment", "Deployment"


class CustomerTask(models.Model):
    """Work a customer does for a change: an internal customer's own build, test or deployment
    task, or an external customer's scripted deployment step performed by a trained contact.
    """

    change = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="tasks")
    customer = models.ForeignKey(
        "parties.Customer", on_delete=models.PROTECT, related_name="change_tasks"
    )
    kind = models.CharField(max_length=12, choices=TaskKind.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    script = models.TextField(blank=True, help_text="The exact steps the customer performs.")
    due_date = models.DateField(null=True, blank=True)
    contact = models.ForeignKey(
        "parties.Contact", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    done = models.BooleanField(default=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["change", "customer__name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=TaskKind.values), name="customer_task_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

    def clean(self) -> None:
        if self.contact_id and self.customer_id and self.contact.customer_id != self.customer_id:
            raise ValidationError({"contact": "the contact belongs to another customer"})


class TrainingRecordQuerySet(ScopedQuerySet):
    customer_path = "contact__customer"


class TrainingRecord(models.Model):
    """A customer contact trained for its deployment steps of a change (R11, external)."""

    change = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="trainings")
    contact = models.ForeignKey(
        "parties.Contact", on_delete=models.PROTECT, related_name="change_trainings"
    )
    completed_on = models.DateField()
    topic = models.CharField(max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = TrainingRecordQuerySet.as_manager()

    class Meta:
        ordering = ["change", "completed_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["change", "contact"], name="training_once_per_change"),
        ]

    def __str__(self) -> str:
        return f"{self.contact.name} trained {self.completed_on:%Y-%m-%d}"


class ChangeEventQuerySet(ScopedQuerySet):
    """A customer user sees the change-wide steps and its own customer's, never another's."""

    def scope_for_customer(self, customer):
        visible = ChangeRequest.objects.scope_for_customer(customer).values("pk")
        return self.filter(change__in=visible).filter(
            Q(customer=customer.pk) | Q(customer__isnull=True)
        )


class ChangeEvent(EventModel):
    """One step in a change's life (who, when, from → to, why). ``customer`` is set on steps
    that concern one affected customer, so other customers never see them.
    """

    change = models.ForeignKey(ChangeRequest, on_delete=models.PROTECT, related_name="events")
    customer = models.ForeignKey(
        "parties.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ChangeEventQuerySet.as_manager()


class ScheduleFeed(models.Model):
    """A customer's change schedule as an iCalendar feed, behind a secret, rotatable URL token."""

    customer = models.OneToOneField(
        "parties.Customer", on_delete=models.CASCADE, related_name="change_feed"
    )
    token = models.CharField(
        max_length=64,
        unique=True,
        validators=[RegexValidator(r"^[A-Za-z0-9_-]{32,64}$", "a URL-safe secret of 32+ chars")],
    )
    rotated_at = models.DateTimeField(auto_now=True)
    rotated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["customer__name"]

    def __str__(self) -> str:
        return f"Change schedule feed of {self.customer}"


# Deliverables and their acceptance (decision 0023); imported here so Django registers them.
from servicebook.changes.deliverables.models import Deliverable, DeliverableEvent  # noqa: E402, F401
