"""The provider, its customers (internal and external) and their contacts."""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from servicebook.core.countries import country_code, country_error
from servicebook.core.models import EventModel, TimeStampedModel
from servicebook.core.money import CURRENCY_CHOICES, MONEY_DIGITS, MONEY_PLACES
from servicebook.core.periods import is_period
from servicebook.core.tenancy import ScopedQuerySet
from servicebook.policy import KIND_CHOICES, HasPolicy

MAX_PAYMENT_TERMS_DAYS = 365


def money_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kwargs)


class Sector(models.TextChoices):
    COMMERCIAL = "commercial", "Commercial"
    NON_PROFIT = "non_profit", "Non-profit"
    GOVERNMENT = "government", "Government"


class Provider(TimeStampedModel):
    """The organization running this Servicebook: an IT department, shared-service centre or MSP.

    Its sector and enterprise financial policy decide what internal charging aims at and what
    external pricing must achieve (R5, R6).
    """

    name = models.CharField(max_length=200)
    sector = models.CharField(max_length=20, choices=Sector.choices, default=Sector.COMMERCIAL)
    base_currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    internal_margin = models.DecimalField(
        max_digits=6,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="Margin on internal charges the enterprise policy allows (0.05 = 5%; default 0).",
    )
    recovery_share = models.DecimalField(
        max_digits=6,
        decimal_places=4,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="Share of internal cost recovered from customers under partial recovery.",
    )
    minimum_margin = models.DecimalField(
        max_digits=6,
        decimal_places=4,
        default=Decimal("0.10"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="Minimum margin over cost an external request must earn to be profitable.",
    )
    discount_rate = models.DecimalField(
        max_digits=6,
        decimal_places=4,
        default=Decimal("0.08"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="Yearly discount rate for business cases (NPV).",
    )
    due_diligence_validity_months = models.PositiveSmallIntegerField(
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text="How long a completed (or waived) due diligence stays current.",
    )
    country = models.CharField(
        max_length=2,
        blank=True,
        validators=[country_code],
        help_text="The provider's home country (ISO 3166), e.g. FR.",
    )
    # What the law asks an invoice to say about its issuer (decision 0026).
    legal_name = models.CharField(max_length=200, blank=True, help_text="Registered legal name.")
    address = models.TextField(blank=True, help_text="Registered address, as printed on invoices.")
    registration_number = models.CharField(
        max_length=60, blank=True, help_text="Company registration number (e.g. SIREN, HRB)."
    )
    vat_number = models.CharField(
        max_length=20, blank=True, help_text="EU VAT number with its country prefix, e.g. FR…"
    )
    iban = models.CharField(max_length=40, blank=True, help_text="Bank account for payments.")
    bic = models.CharField(max_length=11, blank=True, help_text="The bank's BIC (SWIFT code).")
    parity_tolerance = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("5"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="The gap in customer service between internal and external customers "
        "tolerated before an improvement is proposed, in % of the better-served side's figure.",
    )
    low_satisfaction_score = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text="A satisfaction score at or below this proposes an improvement item.",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(internal_margin__gte=0) & Q(internal_margin__lte=1),
                name="provider_internal_margin_range",
            ),
            models.CheckConstraint(
                condition=Q(recovery_share__gte=0) & Q(recovery_share__lte=1),
                name="provider_recovery_share_range",
            ),
            models.CheckConstraint(
                condition=Q(due_diligence_validity_months__gte=1)
                & Q(due_diligence_validity_months__lte=120),
                name="provider_due_diligence_validity_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from servicebook.parties.legal import clean_identifiers

        errors = clean_identifiers(self, ("vat_number", "iban", "bic"))
        if errors:
            raise ValidationError(errors)

    @classmethod
    def current(cls) -> Provider:
        """The provider of this instance (Servicebook runs one provider per database)."""
        provider = cls.objects.order_by("pk").first()
        if provider is None:
            raise cls.DoesNotExist("no provider is set up yet: run `servicebook demo` or the admin")
        return provider


class ProviderSettingChange(models.Model):
    """One changed setting of the provider: which, from what to what, by whom and when. Written
    by ``parties.provider.update_provider_settings`` only (one row per changed field), never
    changed; the provider settings page lists them newest first."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="setting_changes")
    field = models.CharField(max_length=40)
    old_value = models.CharField(max_length=200, blank=True)
    new_value = models.CharField(max_length=200, blank=True)
    changed_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    note = models.TextField(blank=True, help_text="What the change did (e.g. who it affected).")

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.field}: {self.old_value} → {self.new_value}"


class CustomerStatus(models.TextChoices):
    PROSPECT = "prospect", "Prospect"
    DUE_DILIGENCE = "due_diligence", "Due diligence"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    TERMINATED = "terminated", "Terminated"


class StatusReason(models.TextChoices):
    NON_PAYMENT = "non_payment", "Refuses to pay"
    ILLEGAL_REQUEST = "illegal_request", "Requires something illegal"
    ILLEGAL_USE = "illegal_use", "Uses the service for illegal purposes"
    ENDED = "ended", "Relationship ended"
    DUE_DILIGENCE_FAILED = "due_diligence_failed", "Failed due diligence"


class FundingModel(models.TextChoices):
    CENTRAL_ALLOCATION = "central_allocation", "Central allocation (showback only)"
    SHOWBACK = "showback", "Showback (statement, no posting)"
    CHARGEBACK = "chargeback", "Chargeback (notional transfer)"
    PARTIAL_RECOVERY = "partial_recovery", "Partial recovery"


#: the customers the provider serves now: active ones and suspended ones (a suspended customer
#: is still under contract, billed and followed: see relationship health and the close)
SERVED_STATUSES = (CustomerStatus.ACTIVE, CustomerStatus.SUSPENDED)


class CustomerQuerySet(ScopedQuerySet):
    customer_path = "pk"

    def served(self) -> CustomerQuerySet:
        """The customers served now (``SERVED_STATUSES``)."""
        return self.filter(status__in=SERVED_STATUSES)


class Customer(HasPolicy, TimeStampedModel):
    """Somebody the provider serves: an internal department or an external legal entity.

    The kind decides almost every rule (see ``servicebook.policy``): funding, charging, cost
    disclosure, agreements, change authorization, improvement.
    """

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="customers")
    kind = models.CharField(max_length=10, choices=KIND_CHOICES)
    name = models.CharField(max_length=200)
    code = models.SlugField(max_length=40, unique=True, help_text="Short identifier, e.g. 'rnd'.")
    status = models.CharField(
        max_length=20, choices=CustomerStatus.choices, default=CustomerStatus.PROSPECT
    )
    status_reason = models.CharField(max_length=20, choices=StatusReason.choices, blank=True)
    description = models.TextField(blank=True)
    confidential = models.BooleanField(
        default=False, help_text="Works on confidential matters (extra care in data handling)."
    )
    # Internal customers: a department of the organization.
    business_unit = models.CharField(max_length=200, blank=True)
    cost_centre = models.CharField(max_length=40, blank=True)
    funding_model = models.CharField(max_length=20, choices=FundingModel.choices, blank=True)
    budget_per_period = money_field(
        null=True, blank=True, help_text="Monthly IT budget (base currency)."
    )
    exclusivity_commitment = models.BooleanField(
        default=False, help_text="Commits not to use external competitors."
    )
    # External customers: a separate legal entity under contract.
    legal_name = models.CharField(max_length=200, blank=True)
    registration_number = models.CharField(max_length=60, blank=True)
    jurisdiction = models.CharField(max_length=2, blank=True, validators=[country_code])
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, blank=True)
    payment_terms_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_PAYMENT_TERMS_DAYS)],
        help_text=f"Days an invoice is due after issue (0 to {MAX_PAYMENT_TERMS_DAYS}).",
    )
    credit_limit = money_field(null=True, blank=True)
    address = models.TextField(blank=True, help_text="Billing address, as printed on invoices.")
    vat_number = models.CharField(
        max_length=20,
        blank=True,
        help_text="EU VAT number with its country prefix (checked); another member state's "
        "number puts the customer's invoices under the reverse charge.",
    )
    relationship_owner = models.ForeignKey(
        "core.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_customers",
        help_text="The provider user who owns and manages the business relationship.",
    )
    # Relationship health (R14): a provider user flags a relationship in difficulty.
    in_difficulty = models.BooleanField(default=False)
    difficulty_reason = models.TextField(blank=True)

    objects = CustomerQuerySet.as_manager()

    #: What a user may set when creating a customer (forms and API share this list).
    EDITABLE_FIELDS = (
        "kind",
        "name",
        "code",
        "description",
        "confidential",
        "business_unit",
        "cost_centre",
        "funding_model",
        "budget_per_period",
        "exclusivity_commitment",
        "legal_name",
        "registration_number",
        "jurisdiction",
        "currency",
        "payment_terms_days",
        "credit_limit",
        "address",
        "vat_number",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["internal", "external"]), name="customer_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(budget_per_period__isnull=True) | Q(budget_per_period__gte=0),
                name="customer_budget_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(credit_limit__isnull=True) | Q(credit_limit__gte=0),
                name="customer_credit_limit_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(payment_terms_days__isnull=True)
                | Q(payment_terms_days__gte=0) & Q(payment_terms_days__lte=MAX_PAYMENT_TERMS_DAYS),
                name="customer_payment_terms_range",
            ),
            models.UniqueConstraint(fields=["provider", "name"], name="customer_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from servicebook.parties.legal import clean_identifiers

        errors = self.policy.validate_customer(self) if self.kind else {}
        for name, messages in clean_identifiers(self, ("vat_number",)).items():
            errors.setdefault(name, []).extend(messages)
        if self.status in (CustomerStatus.SUSPENDED, CustomerStatus.TERMINATED):
            if not self.status_reason:
                errors.setdefault("status_reason", []).append(
                    "a suspended or terminated customer needs a reason"
                )
        elif self.status_reason:
            errors.setdefault("status_reason", []).append(
                "only a suspended or terminated customer has a reason"
            )
        if errors:
            raise ValidationError(errors)


class CustomerEvent(EventModel):
    """One step in a customer's life (created, status changed, details changed)."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="events")

    objects = ScopedQuerySet.as_manager()


class ContactQuerySet(ScopedQuerySet):
    customer_path = "customer"


class Contact(TimeStampedModel):
    """A person at a customer the provider deals with, with roles and an authority limit.

    Only an approver whose authority limit covers an agreement's yearly value may sign it (R17).
    """

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    title = models.CharField(max_length=120, blank=True)
    is_requester = models.BooleanField(default=False, help_text="May request services.")
    is_approver = models.BooleanField(default=False, help_text="May approve and sign.")
    is_billing = models.BooleanField(default=False, help_text="Receives invoices/statements.")
    is_technical = models.BooleanField(default=False, help_text="Technical counterpart.")
    authority_limit = money_field(
        null=True, blank=True, help_text="Largest yearly value this contact may commit to."
    )
    active = models.BooleanField(default=True)
    user = models.OneToOneField(
        "core.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact",
        help_text="The sign-in of this person, when they use Servicebook themselves.",
    )

    objects = ContactQuerySet.as_manager()

    EDITABLE_FIELDS = (
        "name",
        "email",
        "phone",
        "title",
        "is_requester",
        "is_approver",
        "is_billing",
        "is_technical",
        "authority_limit",
        "active",
    )

    class Meta:
        ordering = ["customer__name", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(authority_limit__isnull=True) | Q(authority_limit__gte=0),
                name="contact_authority_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.customer})"

    @property
    def roles(self) -> list[str]:
        flags = (
            ("requester", self.is_requester),
            ("approver", self.is_approver),
            ("billing", self.is_billing),
            ("technical", self.is_technical),
        )
        return [name for name, on in flags if on]

    def clean(self) -> None:
        if self.is_approver and self.authority_limit is None:
            raise ValidationError({"authority_limit": "an approver needs an authority limit"})
        if self.user_id and self.user.customer_id != self.customer_id:
            raise ValidationError({"user": "the sign-in must belong to this contact's customer"})


# --- due diligence (R17) ------------------------------------------------------------------------


class DueDiligenceStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    WAIVED = "waived", "Not carried out (waived)"


class WaiverReason(models.TextChoices):
    NO_ACCESS = "no_access", "No access to the information"
    NO_TIME = "no_time", "No time"
    NOT_FUNDED = "not_funded", "The customer would not fund it"


class DueDiligence(TimeStampedModel):
    """The provider's check that a request is legitimate and comes from an authorized person,
    before agreeing to provide a service (R17); or the record that it was not carried out, and
    why. An agreement can become active only after a completed due diligence or a waiver.
    """

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="due_diligences")
    status = models.CharField(
        max_length=12, choices=DueDiligenceStatus.choices, default=DueDiligenceStatus.IN_PROGRESS
    )
    waiver_reason = models.CharField(max_length=12, choices=WaiverReason.choices, blank=True)
    waiver_explanation = models.TextField(blank=True)
    request_reason = models.TextField(
        blank=True,
        help_text="Why a new due diligence was requested (needed once the customer has had one).",
    )
    concluded_at = models.DateTimeField(null=True, blank=True)
    concluded_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["customer", "-created_at"]
        verbose_name_plural = "due diligences"
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="waived") | ~Q(waiver_reason=""),
                name="due_diligence_waiver_has_reason",
            ),
        ]

    def __str__(self) -> str:
        if self.status == DueDiligenceStatus.WAIVED:
            return f"Due diligence not carried out: {self.get_waiver_reason_display()}"
        return f"Due diligence {self.get_status_display().lower()}"

    @property
    def allows_agreements(self) -> bool:
        return self.status in (DueDiligenceStatus.COMPLETED, DueDiligenceStatus.WAIVED)

    def expires_on(self, validity_months: int | None = None) -> dt.date | None:
        """The first day this completed or waived due diligence is no longer current."""
        if not self.allows_agreements or self.concluded_at is None:
            return None
        if validity_months is None:
            validity_months = self.customer.provider.due_diligence_validity_months
        concluded = timezone.localdate(self.concluded_at)
        month = concluded.month - 1 + validity_months
        year, month = concluded.year + month // 12, month % 12 + 1
        day = min(concluded.day, calendar.monthrange(year, month)[1])
        return dt.date(year, month, day)


class CheckType(models.TextChoices):
    IDENTITY = "identity", "Identity and legal standing"
    AUTHORITY = "authority", "Requester's authority"
    LEGALITY = "legality", "Legality of the requested use"
    JURISDICTION = "jurisdiction", "Jurisdiction and data protection"
    FINANCIAL = "financial", "Financial standing"


class CheckOutcome(models.TextChoices):
    PENDING = "pending", "Pending"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"


class DueDiligenceCheckQuerySet(ScopedQuerySet):
    customer_path = "due_diligence__customer"


class DueDiligenceCheck(models.Model):
    """One check of a due diligence, passed or failed with the evidence that supports it."""

    due_diligence = models.ForeignKey(DueDiligence, on_delete=models.CASCADE, related_name="checks")
    check_type = models.CharField(max_length=14, choices=CheckType.choices)
    outcome = models.CharField(
        max_length=8, choices=CheckOutcome.choices, default=CheckOutcome.PENDING
    )
    evidence = models.TextField(blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    checked_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = DueDiligenceCheckQuerySet.as_manager()

    class Meta:
        ordering = ["due_diligence", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["due_diligence", "check_type"], name="dd_check_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_check_type_display()}: {self.get_outcome_display().lower()}"


# --- internal customer commitments (R19) ----------------------------------------------------------


class Commitment(TimeStampedModel):
    """An internal customer's responsibility: to fund the service level it requires
    (an amount per month) or not to use external competitors while services are delivered as
    required (exclusivity). Both are dated; breaches are reported.
    """

    class Kind(models.TextChoices):
        FUNDING = "funding", "Funding"
        EXCLUSIVITY = "exclusivity", "Exclusivity"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="commitments")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount_per_period = money_field(null=True, blank=True)
    service_level = models.CharField(
        max_length=200, blank=True, help_text="The level of service this funding pays for."
    )
    starts = models.DateField()
    ends = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["customer", "kind", "-starts"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="funding") | Q(amount_per_period__gte=0),
                name="commitment_funding_has_amount",
            ),
            models.CheckConstraint(
                condition=Q(ends__isnull=True) | Q(ends__gte=F("starts")),
                name="commitment_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.FUNDING:
            return f"Funding {self.amount_per_period}/month from {self.starts}"
        return f"Exclusivity from {self.starts}"

    def clean(self) -> None:
        if self.customer_id and not self.customer.policy.has_commitments:
            raise ValidationError({"customer": "only internal customers make these commitments"})
        if self.kind == self.Kind.FUNDING and self.amount_per_period is None:
            raise ValidationError({"amount_per_period": "a funding commitment needs an amount"})

    def in_force(self, on: dt.date) -> bool:
        return self.starts <= on and (self.ends is None or on <= self.ends)


class BreachQuerySet(ScopedQuerySet):
    customer_path = "commitment__customer"


class CommitmentBreach(models.Model):
    """One breach of an internal customer's commitment, kept as history: a second breach
    adds a row, never overwrites the first. Reported by a person, or detected from the data
    (consumption over the funding commitment for a month; an external supplier recorded while
    an exclusivity commitment is in force)."""

    class Kind(models.TextChoices):
        REPORTED = "reported", "Reported"
        OVER_FUNDING = "over_funding", "Consumption over funding"
        EXTERNAL_SUPPLIER = "external_supplier", "External supplier used"

    commitment = models.ForeignKey(Commitment, on_delete=models.PROTECT, related_name="breaches")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    occurred_on = models.DateField(help_text="When the breach happened (or the month began).")
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    detail = models.TextField()
    detection_key = models.CharField(
        max_length=80,
        blank=True,
        help_text="For detected breaches: what was detected (one row per fact, e.g. a month).",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)

    objects = BreachQuerySet.as_manager()

    class Meta:
        ordering = ["commitment", "occurred_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["commitment", "detection_key"],
                condition=~Q(detection_key=""),
                name="breach_detected_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.occurred_on}: {self.detail}"

    @property
    def resolved(self) -> bool:
        return self.resolved_at is not None


class ExternalSupplier(TimeStampedModel):
    """An external supplier an internal customer uses for what one of the provider's services
    delivers: under an exclusivity commitment in force, recording it records a breach."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="external_suppliers"
    )
    service = models.ForeignKey(
        "catalog.Service",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The provider's service the supplier competes with.",
    )
    supplier = models.CharField(max_length=200)
    since = models.DateField()
    note = models.TextField(blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["customer", "-since"]

    def __str__(self) -> str:
        return f"{self.supplier} for {self.service} since {self.since}"


# --- strategy (R9) -----------------------------------------------------------------------------


class Objective(TimeStampedModel):
    """An objective of the organization that the provider and its internal customers share."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="objectives")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    customers = models.ManyToManyField(Customer, blank=True, related_name="objectives")

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


# --- feedback (R15) -----------------------------------------------------------------------------


class Feedback(TimeStampedModel):
    """A customer's satisfaction score (1-5) and comment on a service for a period, or design
    feedback on a pre-defined service (R10, R15). Feeds design and improvement.
    """

    class Topic(models.TextChoices):
        SATISFACTION = "satisfaction", "Satisfaction survey"
        DESIGN = "design", "Design feedback"
        COMPLAINT = "complaint", "Complaint"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="feedback")
    service = models.ForeignKey(
        "catalog.Service", on_delete=models.PROTECT, related_name="feedback"
    )
    period = models.CharField(max_length=7, help_text="YYYY-MM")
    topic = models.CharField(max_length=12, choices=Topic.choices, default=Topic.SATISFACTION)
    score = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(blank=True)
    respondent = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(
        null=True, blank=True, help_text="When a complaint was resolved (open while empty)."
    )
    answered_at = models.DateTimeField(
        null=True, blank=True, help_text="When the provider first answered a complaint."
    )
    answer = models.TextField(blank=True, help_text="The provider's first answer to a complaint.")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-period", "customer"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "service", "period", "respondent"],
                condition=Q(topic="satisfaction"),
                name="feedback_one_survey_answer_per_period",
            ),
            models.CheckConstraint(
                condition=~Q(topic="satisfaction") | Q(score__isnull=False),
                name="feedback_survey_has_score",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} on {self.service} ({self.period}): {self.score or '—'}"

    def clean(self) -> None:
        if not is_period(self.period):
            raise ValidationError({"period": "use YYYY-MM"})
        if self.topic == self.Topic.SATISFACTION and self.score is None:
            raise ValidationError({"score": "a survey answer needs a score from 1 to 5"})


# --- local law (R20) ----------------------------------------------------------------------------


class JurisdictionRule(models.Model):
    """Where a jurisdiction's rules allow customer data to be stored: e.g. SG → SG."""

    jurisdiction = models.CharField(max_length=2, unique=True, validators=[country_code])
    allowed_locations = models.JSONField(
        default=list, help_text="ISO country codes where data may be stored."
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["jurisdiction"]

    def __str__(self) -> str:
        return f"{self.jurisdiction}: data in {', '.join(self.allowed_locations) or 'nowhere'}"

    def clean(self) -> None:
        codes = self.allowed_locations
        if not isinstance(codes, list):
            raise ValidationError({"allowed_locations": "a list of ISO country codes, e.g. FR"})
        errors = [error for error in map(country_error, codes) if error]
        if errors:
            raise ValidationError({"allowed_locations": "; ".join(errors)})
