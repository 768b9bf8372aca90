"""Service levels: tickets and their state history, outages, attainment, service credits (R13).

Everything measured here is a pure function of the stored history (ticket state changes,
outages) and of the configuration (calendars, targets, pause states, priority matrix): the
:class:`Attainment` rows are a cache, recomputed whenever that input changes.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q

from servicebook.agreements.models import Agreement, AgreementChildQuerySet, ServiceLevelTarget
from servicebook.core.models import EventModel, TimeStampedModel
from servicebook.core.money import CURRENCY_CHOICES, MONEY_DIGITS, MONEY_PLACES
from servicebook.core.periods import PERIOD_RE
from servicebook.core.tenancy import ScopedQuerySet

period_validator = RegexValidator(PERIOD_RE, "A period is a month written YYYY-MM.")

#: States that end the resolution clock. A ticket that leaves them again was reopened: the time
#: it spent resolved in between is not counted against the resolution target.
RESOLVED_STATES = ("Resolved", "Closed")
NEW_STATE = "New"


class TicketKind(models.TextChoices):
    INCIDENT = "incident", "Incident"
    REQUEST = "request", "Service request"


class TicketChannel(models.TextChoices):
    IMPORT = "import", "Imported"
    PORTAL = "portal", "Customer portal"


class Ticket(TimeStampedModel):
    """An incident or service request of a customer, measured against its agreement's targets.

    Tickets come from the provider's helpdesk (a ServiceNow export, a generic CSV, the API); the
    pair (``source``, ``number``) identifies one, so importing the same data twice changes
    nothing. ``priority`` is derived from impact × urgency through the agreement's priority
    matrix (the source's own priority and SLA flag are kept for comparison). The clocks are
    computed from the state history (:class:`TicketStateChange`), never stored.
    """

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="tickets")
    source = models.CharField(max_length=40, help_text="The system the ticket was imported from.")
    number = models.CharField(max_length=60)
    kind = models.CharField(max_length=10, choices=TicketKind.choices, default=TicketKind.INCIDENT)
    short_description = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=40, help_text="Latest state in the history.")
    active = models.BooleanField(default=True)
    impact = models.PositiveSmallIntegerField(null=True, blank=True)
    urgency = models.PositiveSmallIntegerField(null=True, blank=True)
    priority = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    source_priority = models.PositiveSmallIntegerField(null=True, blank=True)
    category = models.CharField(max_length=100, blank=True)
    assignment_group = models.CharField(max_length=100, blank=True)
    contact_type = models.CharField(max_length=40, blank=True)
    caller = models.CharField(max_length=100, blank=True)
    opened_at = models.DateTimeField(db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reassignment_count = models.PositiveIntegerField(default=0)
    reopen_count = models.PositiveIntegerField(default=0)
    source_made_sla = models.BooleanField(
        null=True, blank=True, help_text="The source system's own SLA flag, for comparison."
    )
    channel = models.CharField(
        max_length=10,
        choices=TicketChannel.choices,
        default=TicketChannel.IMPORT,
        help_text="How the ticket reached Servicebook: imported, or raised in the portal.",
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The person who raised it in the portal.",
    )

    objects = AgreementChildQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["source", "number"], name="ticket_source_number"),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=F("opened_at")),
                name="ticket_resolved_after_opened",
            ),
            models.CheckConstraint(
                condition=Q(priority__gte=1) & Q(priority__lte=5), name="ticket_priority_range"
            ),
        ]
        indexes = [
            models.Index(fields=["agreement", "opened_at"], name="ticket_agreement_opened"),
            # the portal's few tickets among a million imported ones (issue 14): partial, so
            # an import never maintains them; "my tickets" newest first, and "waiting for you"
            models.Index(
                fields=["opened_at"],
                condition=Q(channel=TicketChannel.PORTAL),
                name="ticket_portal_opened",
            ),
            models.Index(
                fields=["state", "updated_at"],
                condition=Q(channel=TicketChannel.PORTAL),
                name="ticket_portal_state",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} (P{self.priority})"

    def clean(self) -> None:
        if self.resolved_at and self.opened_at and self.resolved_at < self.opened_at:
            raise ValidationError({"resolved_at": "a ticket cannot be resolved before it opened"})


class TicketChildQuerySet(ScopedQuerySet):
    customer_path = "ticket__agreement__customer"


class TicketCommentQuerySet(TicketChildQuerySet):
    """Comments a user may read: a customer user never sees the provider's internal notes."""

    def scope_for_customer(self, customer):
        return super().scope_for_customer(customer).filter(internal=False)


class TicketStateChange(models.Model):
    """One row of a ticket's state history: from ``at`` on, the ticket was in ``state``.

    ``sequence`` orders the rows of one ticket (ServiceNow's ``sys_mod_count``). Pauses of the
    resolution clock and the first response are derived from these rows under the agreement's
    current rules, so a changed pause rule applies to past tickets too.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="history")
    sequence = models.PositiveIntegerField()
    at = models.DateTimeField()
    state = models.CharField(max_length=40)

    objects = TicketChildQuerySet.as_manager()

    class Meta:
        ordering = ["ticket", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "sequence"], name="ticket_history_sequence")
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} #{self.sequence} {self.state} at {self.at:%Y-%m-%d %H:%M}"


class OutageQuerySet(ScopedQuerySet):
    """Outages a customer user may see: their own agreements' and those of services they use."""

    customer_path = "agreement__customer"

    def scope_for_customer(self, customer):
        services = ServiceLevelTarget.objects.filter(
            agreement__customer=customer, service__isnull=False
        ).values("service")
        return self.filter(
            Q(agreement__customer=customer.pk) | Q(agreement__isnull=True, service__in=services)
        )


class Outage(TimeStampedModel):
    """A period during which a service was unavailable, planned (maintenance) or not.

    Without an agreement it affects every agreement with an availability target for the
    service; with one, only that agreement (e.g. one customer's site). An outage with no end is
    still going on. Agreements that exclude planned maintenance do not count planned outages
    against availability (they are taken out of the agreed service time instead).
    """

    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="+")
    agreement = models.ForeignKey(
        Agreement, null=True, blank=True, on_delete=models.PROTECT, related_name="outages"
    )
    reference = models.CharField(max_length=60, unique=True)
    start = models.DateTimeField()
    end = models.DateTimeField(null=True, blank=True)
    planned = models.BooleanField(default=False)
    description = models.CharField(max_length=200, blank=True)

    objects = OutageQuerySet.as_manager()

    class Meta:
        ordering = ["-start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gt=F("start")), name="outage_end_after_start"
            )
        ]

    def __str__(self) -> str:
        kind = "planned maintenance" if self.planned else "outage"
        return f"{self.reference} {kind} of {self.service}"

    def clean(self) -> None:
        if self.end and self.start and self.end <= self.start:
            raise ValidationError({"end": "an outage ends after it starts"})


class PriorityMatrixSetting(TimeStampedModel):
    """An agreement's own impact × urgency → priority matrix (default: the usual 3 × 3 grid).

    ``cells`` is a list of ``[impact, urgency, priority]`` triples forming a full grid.
    """

    agreement = models.OneToOneField(
        Agreement, on_delete=models.CASCADE, related_name="priority_matrix"
    )
    cells = models.JSONField()

    objects = AgreementChildQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Priority matrix of {self.agreement.reference}"

    def to_engine(self):
        from servicebook.levels.clock import PriorityMatrix

        if not isinstance(self.cells, list) or not all(
            isinstance(c, list | tuple) and len(c) == 3 for c in self.cells
        ):
            raise ValueError("cells must be a list of [impact, urgency, priority] triples")
        return PriorityMatrix({(c[0], c[1]): c[2] for c in self.cells})

    def clean(self) -> None:
        try:
            self.to_engine()
        except (ValueError, TypeError) as error:
            raise ValidationError({"cells": str(error)}) from None


class Attainment(models.Model):
    """What was measured for one target of an agreement in one month (the cached result).

    Time targets: the share of the month's decided tickets of the target's priority answered
    (or resolved) within the threshold; availability: the share of agreed service time the
    service was up. ``met`` is empty when nothing could be measured. ``fingerprint`` identifies
    the history and configuration the row was computed from.
    """

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="attainments")
    target = models.ForeignKey(
        ServiceLevelTarget, on_delete=models.CASCADE, related_name="attainments"
    )
    period = models.CharField(max_length=7, validators=[period_validator])
    metric = models.CharField(max_length=20)
    measured_percent = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    target_percent = models.DecimalField(max_digits=6, decimal_places=3)
    met = models.BooleanField(null=True, blank=True)
    tickets_total = models.PositiveIntegerField(default=0)
    tickets_breached = models.PositiveIntegerField(default=0)
    tickets_pending = models.PositiveIntegerField(
        default=0, help_text="Open tickets still within their target (not yet decided)."
    )
    agreed_seconds = models.BigIntegerField(default=0)
    down_seconds = models.BigIntegerField(default=0)
    breaching_tickets = models.JSONField(default=list, blank=True)
    computed_at = models.DateTimeField()

    objects = AgreementChildQuerySet.as_manager()

    class Meta:
        ordering = ["agreement", "period", "target"]
        constraints = [
            models.UniqueConstraint(fields=["target", "period"], name="attainment_target_period")
        ]

    def __str__(self) -> str:
        state = {True: "met", False: "breached", None: "no data"}[self.met]
        return f"{self.target} {self.period}: {state}"


class LevelsState(models.Model):
    """The fingerprint of the input an agreement's attainment cache was computed from."""

    agreement = models.OneToOneField(
        Agreement, on_delete=models.CASCADE, related_name="levels_state"
    )
    fingerprint = models.CharField(max_length=64)
    as_of = models.DateTimeField()
    computed_at = models.DateTimeField()

    objects = AgreementChildQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.agreement.reference} computed {self.computed_at:%Y-%m-%d %H:%M}"


class CreditStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPLIED = "applied", "Applied"


class Credit(TimeStampedModel):
    """A service credit a contract's customer earned for a missed target in one month (R12).

    ``credit_percent`` of the agreement's monthly fee, from the target's credit schedule (the
    highest matching tier); a month's credits together are capped at the agreement's
    ``credit_cap_percent`` of the fee (``capped`` marks reduced rows). Pending credits are put on
    the invoice by the period close, which marks them applied with the invoice number; applied
    credits never change again.
    """

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="credits")
    target = models.ForeignKey(ServiceLevelTarget, on_delete=models.PROTECT, related_name="credits")
    period = models.CharField(max_length=7, validators=[period_validator])
    attainment_percent = models.DecimalField(max_digits=7, decimal_places=3)
    credit_percent = models.DecimalField(max_digits=5, decimal_places=2)
    amount = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    capped = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=CreditStatus.choices, default=CreditStatus.PENDING
    )
    applied_reference = models.CharField(max_length=60, blank=True)

    objects = AgreementChildQuerySet.as_manager()

    class Meta:
        ordering = ["agreement", "period", "target"]
        constraints = [
            models.UniqueConstraint(fields=["target", "period"], name="credit_target_period"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="credit_amount_positive"),
            models.CheckConstraint(
                condition=Q(status="pending") | ~Q(applied_reference=""),
                name="credit_applied_has_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agreement.reference} {self.period} credit {self.currency} {self.amount}"

    def clean(self) -> None:
        if self.amount is not None and self.amount < Decimal(0):
            raise ValidationError({"amount": "a credit is not negative"})
        if self.status == CreditStatus.APPLIED and not self.applied_reference:
            raise ValidationError({"applied_reference": "an applied credit names its invoice"})


class CreditEventQuerySet(ScopedQuerySet):
    customer_path = "credit__agreement__customer"


class CreditEvent(EventModel):
    """One step of a credit's life: earned, recomputed, applied to an invoice."""

    credit = models.ForeignKey(Credit, on_delete=models.CASCADE, related_name="events")

    objects = CreditEventQuerySet.as_manager()


class ImportBatch(models.Model):
    """One ticket or outage import: who ran it, on what, and what it did (the audit row)."""

    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    what = models.CharField(max_length=20, default="tickets")
    format = models.CharField(max_length=20)
    source = models.CharField(max_length=40)
    filename = models.CharField(max_length=300, blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    rejects_path = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.what} import {self.at:%Y-%m-%d %H:%M} ({self.format})"


# --- customer self-service (issue 15) ----------------------------------------------------------


class TicketComment(models.Model):
    """A message on a ticket, by a customer user or by provider staff.

    ``internal`` notes are the provider's own: staff read them, customer users never do (their
    queryset leaves them out, so no page, API answer or count can show one).
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ticket_comments"
    )
    text = models.TextField()
    internal = models.BooleanField(default=False, help_text="A staff-only note.")
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = TicketCommentQuerySet.as_manager()

    class Meta:
        ordering = ["ticket", "created", "pk"]

    def __str__(self) -> str:
        return f"Comment on {self.ticket.number} by {self.author} at {self.created:%Y-%m-%d %H:%M}"


class TicketEvent(EventModel):
    """One step a person took on a ticket raised in the portal (raised, state changed, closed):
    who did it and why. The clock reads :class:`TicketStateChange`; this row is the audit."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")

    objects = TicketChildQuerySet.as_manager()


class AssignmentGroup(models.Model):
    """A team tickets are assigned to (by the name the helpdesk uses), with the person who
    answers for it: the owner is warned when one of its tickets nears its SLA target."""

    name = models.CharField(max_length=100, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_assignment_groups",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TicketAlert(models.Model):
    """A warning sent once for one ticket and target (``at_risk``: 75% of the target used)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="alerts")
    target = models.ForeignKey(ServiceLevelTarget, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, default="at_risk")
    sent_at = models.DateTimeField(auto_now_add=True)

    objects = TicketChildQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "target", "kind"], name="ticket_alert_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} alert on {self.ticket.number}"
