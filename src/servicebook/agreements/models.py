"""Agreements: service level agreements with internal customers, contracts with external ones."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from servicebook.catalog.models import TIERED_MODELS, Offering, rate_field
from servicebook.catalog.pricing import charge_amount
from servicebook.core.models import EventModel, TimeStampedModel
from servicebook.core.money import CURRENCY_CHOICES, round_money
from servicebook.core.tenancy import ScopedQuerySet
from servicebook.parties.models import Customer
from servicebook.policy import policy_for


def default_pause_states() -> list[str]:
    return ["Awaiting User Info", "Awaiting Vendor", "Awaiting Problem", "Awaiting Evidence"]


class AgreementKind(models.TextChoices):
    SLA = "sla", "Service level agreement"
    CONTRACT = "contract", "Contract"


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    NEGOTIATION = "negotiation", "Negotiation"
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    TERMINATED = "terminated", "Terminated"


class Agreement(TimeStampedModel):
    """What the provider agreed to deliver to one customer, and at what price.

    Its kind is derived from the customer by the policy (R12): a service level agreement (not
    legally binding) for an internal customer, a legally binding contract for an external one.
    Amounts on lines are per month.
    """

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="agreements")
    reference = models.CharField(max_length=40)
    version = models.PositiveIntegerField(default=1)
    previous = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="amendment",
        help_text="The version this one amends (kept readable).",
    )
    due_diligence = models.ForeignKey(
        "parties.DueDiligence",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agreements",
        help_text="The due diligence (or waiver) this agreement was activated on.",
    )
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=AgreementKind.choices, editable=False)
    status = models.CharField(
        max_length=12, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    # Contract terms (R12): renewal and payment.
    auto_renew = models.BooleanField(default=False)
    renewal_months = models.PositiveIntegerField(null=True, blank=True)
    termination_notice_days = models.PositiveIntegerField(null=True, blank=True)
    payment_terms_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Days to pay an invoice (default: the customer's terms)."
    )
    credit_cap_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text="Service credits in a month are capped at this share of the monthly fee.",
    )
    # Mixed consideration (R3): what a month of the contract is worth and how it is settled.
    contract_value = models.DecimalField(
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
        help_text="Value of one month of the contract (default: the monthly price).",
    )
    consideration_cash = models.DecimalField(
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
        help_text="Monthly part settled in money; the rest is settled in kind.",
    )
    # Service level measurement rules (R13).
    pause_states = models.JSONField(
        default=default_pause_states,
        blank=True,
        help_text="Ticket states that pause the resolution clock.",
    )
    exclude_planned_maintenance = models.BooleanField(
        default=True, help_text="Planned maintenance does not count against availability."
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["customer__name", "reference"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="agreement_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["sla", "contract"]), name="agreement_kind_valid"
            ),
            models.UniqueConstraint(
                fields=["reference", "version"], name="agreement_reference_version_unique"
            ),
        ]

    def __str__(self) -> str:
        suffix = f" v{self.version}" if self.version > 1 else ""
        return f"{self.reference}{suffix} {self.title}"

    @property
    def policy(self):
        return policy_for(self.customer)

    @property
    def legally_binding(self) -> bool:
        return self.policy.legally_binding

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.customer_id:
            expected = self.policy.agreement_kind
            if self.kind and self.kind != expected:
                errors["kind"] = f"a {self.customer.kind} customer's agreement is a {expected}"
            if self.currency and self.currency != self.customer.billing_currency:
                errors["currency"] = (
                    f"must be the customer's billing currency {self.customer.billing_currency}"
                )
        if self.end_date and self.start_date and self.end_date < self.start_date:
            errors["end_date"] = "the end date is before the start date"
        if not isinstance(self.pause_states, list) or not all(
            isinstance(state, str) for state in self.pause_states
        ):
            errors["pause_states"] = "a list of ticket state names"
        if self.customer_id and not self.policy.penalties_apply and self.credit_cap_percent:
            errors["credit_cap_percent"] = "service credits apply to contracts only"
        if errors:
            raise ValidationError(errors)

    def monthly_price(self) -> Decimal:
        """The agreed price of all lines for one month."""
        return sum((line.monthly_price() for line in self.lines.all()), Decimal(0))

    def monthly_cost(self) -> Decimal | None:
        """The provider's cost of all lines for one month (None when a cost is unknown)."""
        costs = [line.monthly_cost() for line in self.lines.all()]
        if not costs or any(cost is None for cost in costs):
            return None
        return sum(costs, Decimal(0))

    def cost_unknown_reasons(self) -> list[str]:
        """Why the agreement's monthly cost is unknown (empty when it is known)."""
        return [reason for line in self.lines.all() if (reason := line.cost_unknown_reason())]

    def monthly_charge(self) -> Decimal | None:
        """What the customer is charged a month under its policy (cost-based or price-based)."""
        charges = [line.monthly_charge() for line in self.lines.all()]
        if not charges or any(charge is None for charge in charges):
            return None
        return sum(charges, Decimal(0))

    def in_kind_value(self) -> Decimal:
        """Monthly value settled in kind (services or products at their agreed unit value)."""
        return sum((item.value() for item in self.consideration_items.all()), Decimal(0))

    def lines_value(self) -> Decimal | None:
        """What the lines are worth a month: what the customer is charged for them under its
        policy (the agreed price for a contract; None when a cost to charge at is unknown)."""
        return self.monthly_charge() if self.lines.exists() else Decimal(0)

    def consideration_errors(self) -> list[str]:
        """Why the stated contract value, or cash plus in-kind items, do not match what the
        lines are worth a month, if they do not."""
        items = list(self.consideration_items.all())
        value_errors = self._value_errors()
        if self.consideration_cash is None and not items:
            return value_errors
        if items and not self.policy.accepts_in_kind:
            return ["this kind of customer does not settle in kind"]
        if self.contract_value is None:
            return ["a consideration split needs the contract value"]
        total = (self.consideration_cash or Decimal(0)) + self.in_kind_value()
        if total != self.contract_value:
            return [
                f"cash {self.consideration_cash or 0} + in kind {self.in_kind_value()} = {total}, "
                f"not the contract value {self.contract_value}",
                *value_errors,
            ]
        return value_errors

    def _value_errors(self) -> list[str]:
        if self.contract_value is None:
            return []
        worth = self.lines_value()
        if worth is None:
            return [
                f"the stated value {self.currency} {self.contract_value} cannot be checked: "
                "a line has no cost to charge at"
            ]
        if worth != self.contract_value:
            return [
                f"the stated value {self.currency} {self.contract_value} a month is not what the "
                f"lines are worth: {self.currency} {worth} a month"
            ]
        return []

    def business_calendar(self) -> Calendar | None:
        """The calendar the agreement's working days are counted in (R11 notice periods): the
        one most of its response and resolution targets are measured in, or None."""
        timed = [target for target in self.targets.all() if target.metric != Metric.AVAILABILITY]
        counts = Counter(target.calendar_id for target in timed)
        if not counts:
            return None
        chosen = counts.most_common(1)[0][0]
        return next(target.calendar for target in timed if target.calendar_id == chosen)

    def add_working_days(self, moment: dt.datetime, days: int) -> dt.datetime:
        """``moment`` plus ``days`` working days of the agreement's business calendar, at the
        same local time of day (Monday to Friday in UTC when the agreement has no calendar)."""
        calendar = self.business_calendar() or Calendar(
            name="Monday to Friday",
            time_zone="UTC",
            windows={str(day): [["00:00", "24:00"]] for day in range(5)},
        )
        return calendar.add_working_days(moment, days)

    def yearly_value(self) -> Decimal:
        """Twelve months of the customer's charge: what a signatory commits to."""
        monthly = self.monthly_charge()
        return round_money((monthly or Decimal(0)) * 12, self.currency)


class AgreementChildQuerySet(ScopedQuerySet):
    """Rows that belong to an agreement: scoped by the agreement's customer."""

    customer_path = "agreement__customer"


class AgreementLine(models.Model):
    """One offering in an agreement: how many units a month at which agreed unit price."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="lines")
    offering = models.ForeignKey(Offering, on_delete=models.PROTECT, related_name="agreement_lines")
    quantity = models.DecimalField(
        max_digits=14, decimal_places=4, validators=[MinValueValidator(Decimal(0))]
    )
    unit_price = rate_field(
        validators=[MinValueValidator(Decimal(0))],
        help_text="Agreed price per unit (per package, or per month if flat).",
    )
    description = models.CharField(max_length=200, blank=True)

    objects = AgreementChildQuerySet.as_manager()

    class Meta:
        ordering = ["agreement", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="line_price_positive"),
            models.UniqueConstraint(fields=["agreement", "offering"], name="line_offering_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.offering} × {self.quantity}"

    def clean(self) -> None:
        if self.offering_id and self.agreement_id:
            policy = self.agreement.policy
            if policy.charged_at_price and not self.priced_in_agreement_currency():
                raise ValidationError(
                    {
                        "offering": f"priced in {self.offering.currency}, "
                        f"the agreement is in {self.agreement.currency}"
                    }
                )
            if self.offering.service.offered_to not in policy.catalog_audiences:
                raise ValidationError(
                    {"offering": "this service is not offered to this kind of customer"}
                )

    def priced_in_agreement_currency(self) -> bool:
        """Whether the line's price is in the agreement's currency: the offering's own, or a
        unit price negotiated in the customer's currency for an offering of the provider's
        base currency that is not priced by tiers (its tiers are in the base currency).
        Its cost stays in the base currency (decision 0025)."""
        offering, agreement = self.offering, self.agreement
        if offering.currency == agreement.currency:
            return True
        return (
            offering.currency == agreement.customer.provider.base_currency
            and offering.charge_model not in TIERED_MODELS
        )

    def monthly_price(self) -> Decimal:
        """The agreed price of this line for one month, under the offering's charge model."""
        offering = self.offering
        tiers = [(t.lower_bound, t.unit_price) for t in offering.tiers.all()]
        amount = charge_amount(
            offering.charge_model,
            self.quantity,
            self.unit_price,
            package_size=offering.package_size,
            tiers=tiers,
        )
        return round_money(amount, self.agreement.currency)

    @property
    def cost_currency(self) -> str:
        """The currency of the offering's standard unit cost."""
        return self.offering.currency

    def cost_unknown_reason(self) -> str | None:
        """Why this line's cost (and margin) is unknown, or None when it is known (R6: a cost
        in another currency than the agreement is never labelled with the agreement's currency
        or compared 1:1 without an exchange rate; none can be recorded yet)."""
        if self.offering.standard_unit_cost is None:
            return f"{self.offering}: no standard unit cost is recorded"
        if self.cost_currency != self.agreement.currency:
            return (
                f"{self.offering}: its cost is in {self.cost_currency} and the agreement in "
                f"{self.agreement.currency}: cost and margin are unknown without an exchange "
                "rate (none is recorded)"
            )
        return None

    def monthly_cost(self) -> Decimal | None:
        """The provider's cost of this line for one month, in the agreement's currency (None
        when the cost is unknown or in another currency: see :meth:`cost_unknown_reason`)."""
        if self.cost_unknown_reason() is not None:
            return None
        cost = self.offering.standard_unit_cost
        return round_money(self.quantity * cost, self.agreement.currency)

    def monthly_charge(self) -> Decimal | None:
        """What the customer pays a month for this line under its policy."""
        policy = self.agreement.policy
        if policy.charged_at_cost:
            if self.cost_unknown_reason() is not None:
                return None  # charged at cost: no cost in the agreement's currency (R6)
            rate = policy.charge_rate(
                unit_cost=self.offering.standard_unit_cost,
                unit_price=self.unit_price,
                provider=self.agreement.customer.provider,
            )
            return (
                None if rate is None else round_money(self.quantity * rate, self.agreement.currency)
            )
        return self.monthly_price()


class ConsiderationItem(models.Model):
    """Part of a contract settled in kind: e.g. air tickets at their agreed unit value."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="consideration_items"
    )
    description = models.CharField(max_length=200)
    unit_value = models.DecimalField(
        max_digits=18, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    quantity = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0.0001"))],
        help_text="Units delivered per month.",
    )

    objects = AgreementChildQuerySet.as_manager()

    class Meta:
        ordering = ["agreement", "pk"]

    def __str__(self) -> str:
        return f"{self.description}: {self.quantity.normalize():f} × {self.unit_value}"

    def value(self) -> Decimal:
        return round_money(self.unit_value * self.quantity, self.agreement.currency)


class AgreementSignature(models.Model):
    """A customer contact's signature on an agreement version: only an approver whose
    authority limit covers the agreement's yearly value may sign.
    """

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="signatures")
    contact = models.ForeignKey("parties.Contact", on_delete=models.PROTECT, related_name="+")
    yearly_value = models.DecimalField(max_digits=18, decimal_places=2)
    signed_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = AgreementChildQuerySet.as_manager()

    class Meta:
        ordering = ["agreement", "signed_at"]

    def __str__(self) -> str:
        return f"Signed by {self.contact.name} ({self.signed_at:%Y-%m-%d})"


class Outcome(models.Model):
    """A business outcome an external customer wants from the agreement: the provider
    records it so the service can be designed to perform as expected."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="outcomes")
    description = models.CharField(max_length=300)
    measure = models.CharField(max_length=200, blank=True, help_text="How it is measured.")

    objects = AgreementChildQuerySet.as_manager()

    class Meta:
        ordering = ["agreement", "pk"]

    def __str__(self) -> str:
        return self.description

    def clean(self) -> None:
        if self.agreement_id and not self.agreement.policy.records_outcomes:
            raise ValidationError(
                {"agreement": "internal customers share the organization's objectives instead"}
            )


class JurisdictionAcknowledgement(models.Model):
    """The customer's recorded acknowledgement that obeying its local law on where data is
    stored is its own legal responsibility, for a service whose data locations conflict with
    its jurisdiction's rules."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="acknowledgements"
    )
    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey("parties.Contact", on_delete=models.PROTECT, related_name="+")
    statement = models.TextField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = AgreementChildQuerySet.as_manager()

    class Meta:
        ordering = ["agreement", "recorded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "service"], name="acknowledgement_once_per_service"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact.name} acknowledged data locations of {self.service}"


class AgreementEvent(EventModel):
    """One step in an agreement's life (created, status changed, line added, amended)."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="events")

    objects = AgreementChildQuerySet.as_manager()


class CalendarQuerySet(ScopedQuerySet):
    """Calendars are provider configuration: customer users see those of their own targets."""

    customer_path = "targets__agreement__customer"

    def scope_for_customer(self, customer):
        return super().scope_for_customer(customer).distinct()


class Calendar(TimeStampedModel):
    """Business hours a service level is measured in: a time zone, working windows per weekday
    (several a day, e.g. 08:00-12:00 and 13:00-17:00), public holidays of a country (and
    subdivision) from the ``holidays`` package, and the calendar's own closed dates.

    ``windows`` maps weekday ("0" = Monday … "6") to a list of ``["HH:MM", "HH:MM"]`` pairs;
    ``"24:00"`` ends a day. ``extra_holidays`` lists ``"YYYY-MM-DD"`` dates.
    """

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="Europe/Paris")
    windows = models.JSONField(default=dict)
    holiday_country = models.CharField(max_length=2, blank=True)
    holiday_subdivision = models.CharField(max_length=10, blank=True)
    extra_holidays = models.JSONField(default=list, blank=True)
    holiday_names = models.JSONField(
        default=dict, blank=True, help_text="Names of the calendar's own closed dates, by date."
    )

    objects = CalendarQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def to_engine(self):
        """The calendar as the SLA engine's pure value (raises ValueError if malformed)."""
        from servicebook.agreements.calendar import Calendar as EngineCalendar
        from servicebook.agreements.calendar import parse_window

        if not isinstance(self.windows, dict):
            raise ValueError("windows must map weekday numbers to lists of [start, end] times")
        windows = {
            int(day): [parse_window(start, end) for start, end in spans]
            for day, spans in self.windows.items()
        }
        return EngineCalendar(
            tz=self.time_zone,
            windows=windows,
            holiday_country=self.holiday_country or None,
            holiday_subdivision=self.holiday_subdivision or None,
            extra_holidays=frozenset(_dates(self.extra_holidays)),
        )

    def clean(self) -> None:
        try:
            self.to_engine()
        except (ValueError, TypeError, KeyError) as error:
            raise ValidationError({"windows": str(error)}) from None
        names = self.holiday_names
        if not isinstance(names, dict) or not all(
            isinstance(key, str) and isinstance(value, str) and len(value) <= 100
            for key, value in names.items()
        ):
            raise ValidationError(
                {"holiday_names": "a mapping of YYYY-MM-DD dates to names of up to 100 characters"}
            )

    def own_date_name(self, day: dt.date) -> str:
        """The name given to one of the calendar's own closed dates (empty when unnamed)."""
        names = self.holiday_names if isinstance(self.holiday_names, dict) else {}
        return names.get(day.isoformat(), "")

    def is_working_day(self, days: list[dt.date]) -> list[bool]:
        """Whether each local date has business time (a working window, not a holiday), as the
        service level clock counts it."""
        from servicebook.agreements.calendar import business_seconds  # the kernel (no Django)

        zone = ZoneInfo(self.time_zone)

        def epoch(day: dt.date) -> int:
            return int(dt.datetime.combine(day, dt.time(0), zone).timestamp())

        starts = [epoch(day) for day in days]
        ends = [epoch(day + dt.timedelta(days=1)) for day in days]
        return [bool(seconds > 0) for seconds in business_seconds(self.to_engine(), starts, ends)]

    def add_working_days(self, moment: dt.datetime, days: int) -> dt.datetime:
        """``moment`` plus ``days`` working days, at the same local time of day (UTC result).

        Notified on Friday 10:00 with five working days' notice, the earliest start is the next
        Friday 10:00, or later when a public holiday or closed date falls in between.
        """
        if days <= 0:
            return moment
        zone = ZoneInfo(self.time_zone)
        local = moment.astimezone(zone)
        day, counted = local.date(), 0
        for _ in range(0, 5 * 366, 31):  # five years at most
            batch = [day + dt.timedelta(days=offset) for offset in range(1, 32)]
            for candidate, working in zip(batch, self.is_working_day(batch), strict=True):
                counted += working
                if counted >= days:
                    at = dt.datetime.combine(candidate, local.time(), zone)
                    return at.astimezone(dt.UTC)
            day = batch[-1]
        raise ValueError(f"{self.name} has no {days} working days within five years")


def _dates(values) -> list[dt.date]:
    if not isinstance(values, list):
        raise ValueError("extra_holidays must be a list of YYYY-MM-DD dates")
    try:
        return [dt.date.fromisoformat(value) for value in values]
    except (TypeError, ValueError):
        raise ValueError("extra_holidays must be a list of YYYY-MM-DD dates") from None


class Metric(models.TextChoices):
    RESPONSE_TIME = "response_time", "Response time"
    RESOLUTION_TIME = "resolution_time", "Resolution time"
    AVAILABILITY = "availability", "Availability"


class ServiceLevelTarget(models.Model):
    """A measured promise of an agreement.

    Time metrics: ``attainment_percent`` of the period's tickets of ``priority`` must be answered
    or resolved within ``threshold_minutes`` of business time under ``calendar``. Availability:
    the service (of ``service``) must be up ``attainment_percent`` of the calendar's time.
    """

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="targets")
    metric = models.CharField(max_length=20, choices=Metric.choices)
    service = models.ForeignKey(
        "catalog.Service", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    priority = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text="1 Critical … 4 Low; empty for availability.",
    )
    threshold_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Business minutes allowed (response/resolution)."
    )
    attainment_percent = models.DecimalField(
        max_digits=6,
        decimal_places=3,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text="Share of tickets within the threshold, or availability, to attain.",
    )
    calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, related_name="targets")

    objects = AgreementChildQuerySet.as_manager()

    class Meta:
        ordering = ["agreement", "metric", "priority"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "metric", "priority", "service"],
                name="target_unique_per_agreement",
            ),
        ]

    def __str__(self) -> str:
        if self.metric == Metric.AVAILABILITY:
            return f"Availability ≥ {self.attainment_percent}%"
        hours = Decimal(self.threshold_minutes or 0) / 60
        return (
            f"P{self.priority} {self.get_metric_display().lower()} ≤ {hours.normalize():f} h "
            f"for {self.attainment_percent}%"
        )

    def clean(self) -> None:
        errors = {}
        if self.metric == Metric.AVAILABILITY:
            if self.priority is not None or self.threshold_minutes is not None:
                errors["metric"] = "availability has no priority or time threshold"
            if self.service_id is None:
                errors["service"] = "availability is measured for one service"
        else:
            if self.priority is None:
                errors["priority"] = "response and resolution targets are per priority"
            if not self.threshold_minutes:
                errors["threshold_minutes"] = "response and resolution targets need a threshold"
        if errors:
            raise ValidationError(errors)


class CreditTierQuerySet(ScopedQuerySet):
    customer_path = "target__agreement__customer"


class CreditTier(models.Model):
    """A step of a contract's service credit schedule: when attainment of ``target`` in a
    month falls below ``below_percent``, the customer is credited ``credit_percent`` of the
    monthly fee (the highest matching tier applies; the agreement caps the month's total).
    """

    target = models.ForeignKey(
        ServiceLevelTarget, on_delete=models.CASCADE, related_name="credit_tiers"
    )
    below_percent = models.DecimalField(
        max_digits=6,
        decimal_places=3,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    credit_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )

    objects = CreditTierQuerySet.as_manager()

    class Meta:
        ordering = ["target", "-below_percent"]
        constraints = [
            models.UniqueConstraint(fields=["target", "below_percent"], name="credit_tier_unique"),
        ]

    def __str__(self) -> str:
        return f"below {self.below_percent}%: {self.credit_percent}% credit"

    def clean(self) -> None:
        if self.target_id and not self.target.agreement.policy.penalties_apply:
            raise ValidationError(
                {"target": "service credits apply to contracts, not service level agreements"}
            )


class ChangeClause(models.Model):
    """What an external contract says about changes: which changes the customer must
    approve, the notice it gets otherwise, and how a change reprices the contract.
    """

    class Repricing(models.TextChoices):
        NONE = "none", "No price change"
        QUOTE = "quote", "Price impact quoted, customer must accept"
        PER_UNIT = "per_unit", "New unit prices apply from the change date"

    class Scope(models.TextChoices):
        ANY = "any", "Any change to a contracted service"
        MAJOR = "major", "Major changes (normal and emergency)"
        EMERGENCY = "emergency", "Emergency changes"

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="clauses")
    scope = models.CharField(max_length=12, choices=Scope.choices, default=Scope.MAJOR)
    requires_approval = models.BooleanField(default=True)
    notice_days = models.PositiveIntegerField(default=10)
    repricing = models.CharField(max_length=10, choices=Repricing.choices, default=Repricing.NONE)
    text = models.TextField(blank=True, help_text="The clause as written in the contract.")

    objects = AgreementChildQuerySet.as_manager()

    class Meta:
        ordering = ["agreement", "scope"]

    def __str__(self) -> str:
        action = "approval" if self.requires_approval else f"{self.notice_days} days' notice"
        return f"{self.get_scope_display()}: {action}"

    def clean(self) -> None:
        if self.agreement_id and not self.agreement.policy.legally_binding:
            raise ValidationError(
                {"agreement": "change clauses belong to contracts; internal customers co-authorize"}
            )


# Customer orders (issue 15) live in their own module; imported here so Django registers them.
# The contract's whole life (decision 0023): reminders sent and termination notices.
from servicebook.agreements.lifecycle.models import RenewalReminder, TerminationNotice  # noqa: E402, F401
from servicebook.agreements.orders.models import Order, OrderEvent  # noqa: E402, F401
