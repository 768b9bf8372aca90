"""The improvement register and service reviews.

An :class:`Improvement` is one item of the continual improvement register: what to make better
for which customers and services, why (the driver the customer's policy allows), the measurable
result expected by a date, the actions and their owners, and the result measured afterwards.
Customers take part in the detail of a plan as their policy says (``policy.py``): internal
customers always, external customers only when their relationship is flagged in difficulty and
the provider invites them (a :class:`Participant` row with ``invited`` set).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from servicebook.core.models import EventModel, TimeStampedModel
from servicebook.core.money import CURRENCY_CHOICES, MONEY_DIGITS, MONEY_PLACES
from servicebook.core.periods import is_period
from servicebook.core.tenancy import ScopedQuerySet
from servicebook.policy import POLICIES, policy_for


class ImprovementSource(models.TextChoices):
    SERVICE_LEVEL_BREACH = "service_level_breach", "Service level breach"
    FEEDBACK = "feedback", "Customer feedback"
    COST_REVIEW = "cost_review", "Cost review"
    COMPETITIVE_REVIEW = "competitive_review", "Competitive review"
    CUSTOMER_REQUEST = "customer_request", "Customer request"
    SERVICE_PARITY = "service_parity", "Customer service gap between kinds"


class ImprovementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PROPOSED = "proposed", "Proposed"
    APPROVED = "approved", "Approved"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    VERIFIED = "verified", "Verified"
    DROPPED = "dropped", "Dropped"


#: Steps that end an item's life: nothing changes afterwards.
FINAL_STATUSES = frozenset({ImprovementStatus.VERIFIED, ImprovementStatus.DROPPED})
#: Statuses in which the plan (expectation, customers, services) may still be edited.
PLANNING_STATUSES = frozenset({ImprovementStatus.DRAFT, ImprovementStatus.PROPOSED})

#: How each driver the policies name reads in the register (R14).
DRIVER_LABELS = {
    "business_impact": "Impact on the business",
    "cost_quality_balance": "Balance of cost and quality",
    "business_objectives": "Helping the business unit meet its objectives",
    "retention": "Retaining the customer",
    "competitiveness": "Staying competitive",
    "cost_reduction": "Cutting cost at competitive service levels",
}
#: Every driver any policy allows, in policy order (the policy decides which applies to whom).
DRIVER_CHOICES = [
    (driver, DRIVER_LABELS.get(driver, driver.replace("_", " ").capitalize()))
    for policy in POLICIES.values()
    for driver in policy.improvement_drivers
]
#: The driver that links an improvement to an organization objective (R9, R14).
OBJECTIVES_DRIVER = "business_objectives"
#: The driver of the item proposed automatically for repeated contract breaches.
RETENTION_DRIVER = "retention"


class Direction(models.TextChoices):
    AT_LEAST = "at_least", "At least (higher is better)"
    AT_MOST = "at_most", "At most (lower is better)"


def money_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kwargs)


def measure_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True, **kwargs)


class ImprovementQuerySet(ScopedQuerySet):
    """Customer users see the items that concern their customer (lead or also concerned)."""

    customer_path = "customer"

    def scope_for_customer(self, customer):
        concerned = Improvement.customers.through.objects.filter(customer_id=customer.pk)
        return self.filter(Q(customer_id=customer.pk) | Q(pk__in=concerned.values("improvement")))


class Improvement(TimeStampedModel):
    """An improvement item of the register: something to make better for customers.

    ``customer`` is the lead relationship whose policy decides the allowed drivers; ``customers``
    lists every customer concerned (the lead included) and ``services`` the services concerned.
    Items raised automatically (a missed target of an internal agreement, R13; repeated
    contract breaches, R14) start as drafts; a service manager proposes them, the customers who
    take part approve the plan, and the item goes approved → in progress → done → verified (with
    the result measured against the expectation), or is dropped. A breach produces one item per
    target and month, however many tickets breached.
    """

    title = models.CharField(max_length=200)
    customer = models.ForeignKey(
        "parties.Customer", on_delete=models.PROTECT, related_name="improvements"
    )
    customers = models.ManyToManyField(
        "parties.Customer",
        blank=True,
        related_name="concerned_improvements",
        help_text="Every customer concerned (the lead customer included).",
    )
    services = models.ManyToManyField("catalog.Service", blank=True, related_name="improvements")
    agreement = models.ForeignKey(
        "agreements.Agreement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="improvements",
    )
    target = models.ForeignKey(
        "agreements.ServiceLevelTarget",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="improvements",
    )
    period = models.CharField(max_length=7, blank=True)
    source = models.CharField(max_length=30, choices=ImprovementSource.choices)
    status = models.CharField(
        max_length=12, choices=ImprovementStatus.choices, default=ImprovementStatus.DRAFT
    )
    description = models.TextField(blank=True)
    driver = models.CharField(
        max_length=30,
        choices=DRIVER_CHOICES,
        blank=True,
        help_text="Why: one of the drivers the customer's policy allows.",
    )
    objective = models.ForeignKey(
        "parties.Objective",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="improvements",
        help_text="The organization objective the improvement helps meet (internal customers).",
    )
    # The expected result: a measurable target and a date.
    expected_measure = models.CharField(
        max_length=200,
        blank=True,
        help_text="What is measured, e.g. 'P1 incidents resolved within 4 business hours (%)'.",
    )
    expected_direction = models.CharField(
        max_length=8, choices=Direction.choices, default=Direction.AT_LEAST
    )
    baseline_value = measure_field(help_text="The value measured before the improvement.")
    expected_value = measure_field(help_text="The value to reach.")
    expected_by = models.DateField(null=True, blank=True)
    # The result measured after the fact.
    measured_value = measure_field()
    measured_on = models.DateField(null=True, blank=True)
    result_note = models.TextField(blank=True)
    # Money: the provider's cost of the improvement (cost: never shown to external customers),
    # the customer's profitability when the item was raised (staff only) and the price impact.
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, blank=True)
    estimated_cost = money_field(
        null=True, blank=True, help_text="The provider's cost of the improvement."
    )
    price_impact = money_field(
        null=True,
        blank=True,
        help_text="Change to the customer's monthly price (negative: cheaper).",
    )
    customer_profitability = models.DecimalField(
        max_digits=7,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="The customer's margin (%) in the finance reports when recorded (staff only).",
    )
    profitability_period = models.CharField(max_length=7, blank=True)
    internal_notes = models.TextField(blank=True, help_text="Provider staff only.")
    feedback = models.ForeignKey(
        "parties.Feedback",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="improvements",
        help_text="The feedback (low score or complaint) this item was proposed from.",
    )

    objects = ImprovementQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["target", "period"],
                condition=Q(source="service_level_breach"),
                name="improvement_once_per_breach",
            ),
            models.UniqueConstraint(
                fields=["agreement", "period"],
                condition=Q(source="service_level_breach", target__isnull=True),
                name="improvement_once_per_retention_window",
            ),
            models.UniqueConstraint(
                fields=["feedback"],
                condition=Q(feedback__isnull=False),
                name="improvement_once_per_feedback",
            ),
            models.UniqueConstraint(
                fields=["period", "expected_measure"],
                condition=Q(source="service_parity"),
                name="improvement_once_per_parity_gap",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "dropped"])
                | (
                    Q(expected_value__isnull=False)
                    & Q(expected_by__isnull=False)
                    & ~Q(driver="")
                    & ~Q(expected_measure="")
                ),
                name="improvement_plan_has_expectation",
            ),
            models.CheckConstraint(
                condition=~Q(status="verified") | Q(measured_value__isnull=False),
                name="improvement_verified_has_result",
            ),
            models.CheckConstraint(
                condition=Q(estimated_cost__isnull=True) | Q(estimated_cost__gte=0),
                name="improvement_cost_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def policy(self):
        return policy_for(self.customer)

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def result_met(self) -> bool | None:
        """Whether the measured result reached the expectation (None until measured)."""
        if self.measured_value is None or self.expected_value is None:
            return None
        if self.expected_direction == Direction.AT_MOST:
            return self.measured_value <= self.expected_value
        return self.measured_value >= self.expected_value

    @property
    def result_gap(self) -> Decimal | None:
        """Measured minus expected (same unit as the measure)."""
        if self.measured_value is None or self.expected_value is None:
            return None
        return self.measured_value - self.expected_value

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}

        def add(field: str, message: str) -> None:
            errors.setdefault(field, []).append(message)

        agreement = self.agreement if self.agreement_id else None
        if agreement and self.customer_id and agreement.customer_id != self.customer_id:
            add("agreement", "belongs to another customer")
        if self.source == ImprovementSource.SERVICE_LEVEL_BREACH and not (
            (self.target_id or self.agreement_id) and self.period
        ):
            add("target", "a breach item names its target (or contract) and period")
        if self.period and not is_period(self.period):
            add("period", "use YYYY-MM")
        if self.customer_id:
            policy = policy_for(self.customer)
            if self.driver and self.driver not in policy.improvement_drivers:
                allowed = ", ".join(DRIVER_LABELS.get(d, d) for d in policy.improvement_drivers)
                add(
                    "driver",
                    f"not a driver for {self.customer.name}: its policy allows {allowed}",
                )
            if self.objective_id:
                if not policy.shares_objectives:
                    add(
                        "objective",
                        f"{self.customer.name} does not share the organization's objectives: "
                        "record its desired outcomes on the agreement instead",
                    )
                elif not self.objective.customers.filter(pk=self.customer_id).exists():
                    add("objective", f"not an objective {self.customer.name} is linked to")
            elif self.driver == OBJECTIVES_DRIVER:
                add("objective", "name the organization objective the improvement helps meet")
            if self.customer_profitability is not None and not policy.charge_is_revenue:
                add(
                    "customer_profitability",
                    "profitability is recorded for customers that bring revenue only",
                )
        if self.status not in (ImprovementStatus.DRAFT, ImprovementStatus.DROPPED):
            for name in ("driver", "expected_measure", "expected_value", "expected_by"):
                if getattr(self, name) in (None, ""):
                    add(name, "a proposed plan states its driver and expected result")
        if (self.estimated_cost is not None or self.price_impact is not None) and not self.currency:
            add("currency", "give the currency of the amounts")
        if errors:
            raise ValidationError(errors)


class ImprovementEventQuerySet(ScopedQuerySet):
    customer_path = "improvement__customer"

    def scope_for_customer(self, customer):
        return self.filter(improvement__in=Improvement.objects.scope_for_customer(customer))


class ImprovementEvent(EventModel):
    """One step in an improvement item's life (raised, proposed, approved, invited, …)."""

    improvement = models.ForeignKey(Improvement, on_delete=models.CASCADE, related_name="events")

    objects = ImprovementEventQuerySet.as_manager()


class ParticipantQuerySet(ScopedQuerySet):
    customer_path = "contact__customer"


class Participant(models.Model):
    """A customer's person taking part in the detail of an improvement plan.

    Internal customers' contacts are members as of right; an external customer's contact joins
    only by invitation while the relationship is flagged in difficulty (``invited``).
    """

    improvement = models.ForeignKey(
        Improvement, on_delete=models.CASCADE, related_name="participants"
    )
    contact = models.ForeignKey(
        "parties.Contact", on_delete=models.PROTECT, related_name="improvement_roles"
    )
    invited = models.BooleanField(
        default=False, help_text="Invited into the plan while the relationship is in difficulty."
    )
    note = models.CharField(max_length=300, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    objects = ParticipantQuerySet.as_manager()

    class Meta:
        ordering = ["improvement", "added_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["improvement", "contact"], name="improvement_participant_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.contact.name}{' (invited)' if self.invited else ''}"


class ActionQuerySet(ScopedQuerySet):
    customer_path = "improvement__customer"

    def scope_for_customer(self, customer):
        return self.filter(improvement__in=Improvement.objects.scope_for_customer(customer))


class Action(TimeStampedModel):
    """One action of an improvement plan, with its owner (a provider user or a customer's
    contact taking part in the plan) and due date. Internal: never shown to a customer that only
    sees expected results."""

    improvement = models.ForeignKey(Improvement, on_delete=models.CASCADE, related_name="actions")
    description = models.CharField(max_length=300)
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="improvement_actions",
    )
    owner_contact = models.ForeignKey(
        "parties.Contact",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="improvement_actions",
    )
    due = models.DateField(null=True, blank=True)
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)

    objects = ActionQuerySet.as_manager()

    class Meta:
        ordering = ["improvement", "due", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(owner_user__isnull=False) & Q(owner_contact__isnull=True))
                | (Q(owner_user__isnull=True) & Q(owner_contact__isnull=False)),
                name="improvement_action_one_owner",
            ),
            models.CheckConstraint(
                condition=Q(done=False) | Q(done_at__isnull=False),
                name="improvement_action_done_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def owner_name(self) -> str:
        if self.owner_contact_id:
            return self.owner_contact.name
        if self.owner_user_id:
            return self.owner_user.get_full_name() or self.owner_user.username
        return ""

    def clean(self) -> None:
        if bool(self.owner_user_id) == bool(self.owner_contact_id):
            raise ValidationError({"owner_user": "an action has one owner: a user or a contact"})
        if self.owner_user_id and self.owner_user.customer_id is not None:
            raise ValidationError({"owner_user": "a customer's person owns an action as a contact"})


class CommentQuerySet(ScopedQuerySet):
    customer_path = "action__improvement__customer"

    def scope_for_customer(self, customer):
        return self.filter(action__in=Action.objects.scope_for_customer(customer))


class Comment(models.Model):
    """A remark on an action by provider staff or a customer taking part in the plan."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    at = models.DateTimeField(auto_now_add=True)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["action", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.author} on {self.action}: {self.body[:40]}"


class PlanApproval(models.Model):
    """A customer's approval of an improvement plan, through one of its contacts."""

    improvement = models.ForeignKey(Improvement, on_delete=models.CASCADE, related_name="approvals")
    customer = models.ForeignKey(
        "parties.Customer", on_delete=models.PROTECT, related_name="improvement_approvals"
    )
    contact = models.ForeignKey("parties.Contact", on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["improvement", "at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["improvement", "customer"], name="improvement_approval_once_per_customer"
            )
        ]

    def __str__(self) -> str:
        return f"{self.contact.name} approved {self.improvement}"


class ReviewStatus(models.TextChoices):
    PREPARED = "prepared", "Prepared"
    HELD = "held", "Held"


class ServiceReview(TimeStampedModel):
    """A service review meeting with one customer about one period: the pack prepared for it
    (service levels, charges, satisfaction, improvements) and, once held, its minutes."""

    customer = models.ForeignKey(
        "parties.Customer", on_delete=models.PROTECT, related_name="service_reviews"
    )
    period = models.CharField(max_length=7)
    status = models.CharField(
        max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PREPARED
    )
    meeting_on = models.DateField(null=True, blank=True)
    minutes = models.TextField(blank=True)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-period", "customer__name"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "period"], name="service_review_once"),
            models.CheckConstraint(
                condition=Q(status="prepared") | Q(meeting_on__isnull=False),
                name="service_review_held_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"Service review {self.customer} {self.period}"

    def clean(self) -> None:
        if not is_period(self.period):
            raise ValidationError({"period": "use YYYY-MM"})
        if self.status == ReviewStatus.HELD and self.meeting_on is None:
            raise ValidationError({"meeting_on": "a held review has its meeting date"})


class ServiceReviewEventQuerySet(ScopedQuerySet):
    customer_path = "review__customer"


class ServiceReviewEvent(EventModel):
    """One step of a service review: prepared, held (with minutes)."""

    review = models.ForeignKey(ServiceReview, on_delete=models.CASCADE, related_name="events")

    objects = ServiceReviewEventQuerySet.as_manager()


class HealthRanking(models.Model):
    """The relationship health of every active or suspended customer for one period, ranked and
    kept (issue 14): the health list, its API and the provider dashboard read the kept ranking
    instead of ranking 10,000 customers on every request. ``improvement.ranking`` ranks again
    when the ranking is older than ``SERVICEBOOK_HEALTH_MAX_AGE`` seconds, was ranked on an
    earlier day, or was marked ``stale`` by a change to what health is computed from."""

    period = models.CharField(max_length=7, unique=True)
    ranked_at = models.DateTimeField()
    as_of = models.DateField(help_text="the day overdue invoices were counted on")
    customers = models.PositiveIntegerField(default=0)
    took_ms = models.PositiveIntegerField(default=0, help_text="how long the ranking took")
    stale = models.BooleanField(default=False)

    class Meta:
        ordering = ["period"]

    def __str__(self) -> str:
        return f"health ranking {self.period} at {self.ranked_at:%Y-%m-%d %H:%M}"


class HealthRank(models.Model):
    """One customer's place in a :class:`HealthRanking`: what the ranking sorts and filters by
    as columns, the rest of its health (``improvement.selectors.Health``) as ``figures``."""

    ranking = models.ForeignKey(HealthRanking, on_delete=models.CASCADE, related_name="ranks")
    customer = models.ForeignKey("parties.Customer", on_delete=models.CASCADE, related_name="+")
    rating_order = models.PositiveSmallIntegerField(help_text="0 at risk, 1 watch, 2 good")
    score = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200)
    open_breaches = models.PositiveIntegerField(default=0)
    open_complaints = models.PositiveIntegerField(default=0)
    figures = models.JSONField(default=dict)

    class Meta:
        ordering = ["ranking", "rating_order", "-score", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["ranking", "customer"], name="health_rank_once_per_customer"
            )
        ]
        indexes = [
            models.Index(
                fields=["ranking", "rating_order", "-score", "name"], name="health_rank_worst_first"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} in {self.ranking}"
