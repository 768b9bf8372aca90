"""Reads of the improvement app: who sees how much of a plan, relationship health, the service
review pack, the provider dashboard and the repeated contract breaches (R8, R13, R14, R15).

Money figures come from the finance app's own selectors and documents (statements, invoices,
reports): nothing here recomputes money another way.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Avg,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Prefetch,
    Q,
    Sum,
)
from django.utils import timezone

from servicebook.core.charts import chart_json
from servicebook.core.periods import first_day, period_of, periods_ending, previous_period
from servicebook.core.roles import is_provider_staff
from servicebook.improvement.models import (
    DRIVER_LABELS,
    Action,
    Improvement,
    ImprovementStatus,
    Participant,
    PlanApproval,
)
from servicebook.parties.models import Customer, CustomerEvent, Feedback
from servicebook.parties.rows import CustomerRow
from servicebook.policy import POLICIES, policy_for

#: What a user sees of an improvement item.
FULL = "full"  # provider staff: everything, internal notes and profitability included
DETAIL = "detail"  # a customer taking part: the plan, actions, comments, members, approvals
RESULTS = "results"  # a customer not taking part: expected results and progress only

#: Months of history the health view and the retention rule look back on.
WINDOW_MONTHS = 3
#: Breached months within the window that make a contract's breaches "repeated" (R14).
REPEATED_BREACH_MONTHS = 2
OPEN_STATUSES = [
    ImprovementStatus.DRAFT,
    ImprovementStatus.PROPOSED,
    ImprovementStatus.APPROVED,
    ImprovementStatus.IN_PROGRESS,
    ImprovementStatus.DONE,
]


# --- periods ------------------------------------------------------------------------------------


def current_period(today: dt.date | None = None) -> str:
    return period_of(today or timezone.localdate())


# --- involvement (R14) ---------------------------------------------------------------------------


def takes_part(customer: Customer, improvement: Improvement, invited: bool | None = None) -> bool:
    """Whether ``customer`` takes part in the detail of the plan (R14, by its policy).

    Internal customers always do; an external customer only while its relationship is flagged in
    difficulty *and* the provider invited it into this plan.
    """
    policy = policy_for(customer)
    if not policy.invited_into_improvement(in_difficulty=customer.in_difficulty):
        return False
    if policy.involved_in_improvement_detail:
        return True
    if invited is None:
        invited = Participant.objects.filter(
            improvement=improvement, contact__customer=customer, invited=True
        ).exists()
    return invited


def may_be_invited(customer: Customer) -> bool:
    """Whether the provider may invite the customer into a plan it does not take part in."""
    policy = policy_for(customer)
    return (
        policy.invited_into_improvement(in_difficulty=customer.in_difficulty)
        and not policy.involved_in_improvement_detail
    )


def concerned_customers(improvement: Improvement) -> list[Customer]:
    customers = {c.pk: c for c in improvement.customers.all()}
    customers.setdefault(improvement.customer_id, improvement.customer)
    return sorted(customers.values(), key=lambda c: c.name)


def approvers_needed(improvement: Improvement) -> list[Customer]:
    """The concerned customers whose approval the plan needs: those taking part in it."""
    return [c for c in concerned_customers(improvement) if takes_part(c, improvement)]


def missing_approvals(improvement: Improvement) -> list[Customer]:
    approved = set(
        PlanApproval.objects.filter(improvement=improvement).values_list("customer_id", flat=True)
    )
    return [c for c in approvers_needed(improvement) if c.pk not in approved]


@dataclass
class Viewer:
    """The signed-in user as the register sees them: staff, or a customer (fresh from the
    database, so a flag set a moment ago counts) with the plans it was invited into."""

    user: object
    staff: bool
    customer: Customer | None
    _invited: set[int] | None = field(default=None, repr=False)

    @property
    def invited(self) -> set[int]:
        if self._invited is None:
            self._invited = (
                set()
                if self.customer is None
                else set(
                    Participant.objects.filter(
                        contact__customer=self.customer, invited=True
                    ).values_list("improvement_id", flat=True)
                )
            )
        return self._invited

    def level(self, improvement: Improvement) -> str:
        if self.staff:
            return FULL
        if self.customer is None:
            return RESULTS
        invited = improvement.pk in self.invited
        return DETAIL if takes_part(self.customer, improvement, invited=invited) else RESULTS

    @property
    def policy(self):
        return policy_for(self.customer) if self.customer else None


def viewer(user) -> Viewer:
    staff = is_provider_staff(user)
    customer = None
    if not staff and getattr(user, "is_authenticated", False) and user.customer_id:
        customer = Customer.objects.get(pk=user.customer_id)
    return Viewer(user=user, staff=staff, customer=customer)


def improvements_for(user):
    """The items a user may see, with what their pages and API need."""
    return (
        Improvement.objects.visible_to(user)
        .select_related("customer", "objective", "agreement", "target")
        .prefetch_related(
            "services",
            "customers",
            "participants__contact",
            "approvals__contact",
            Prefetch(
                "actions",
                queryset=Action.objects.select_related(
                    "owner_user", "owner_contact"
                ).prefetch_related("comments__author"),
            ),
        )
        .annotate(
            actions_total=Count("actions", distinct=True),
            actions_done=Count("actions", filter=Q(actions__done=True), distinct=True),
        )
    )


def actions_for(user):
    """Actions of the plans the user takes part in (staff: all)."""
    seen = viewer(user)
    queryset = Action.objects.visible_to(user).select_related(
        "improvement__customer", "owner_user", "owner_contact"
    )
    if seen.staff:
        return queryset
    if seen.customer is None:
        return queryset.none()
    allowed = [
        item.pk
        for item in Improvement.objects.visible_to(user).select_related("customer")
        if seen.level(item) == DETAIL
    ]
    return queryset.filter(improvement__in=allowed)


def progress(improvement: Improvement) -> dict:
    """Progress toward the expected result: what even a customer not taking part may see."""
    total = getattr(improvement, "actions_total", None)
    done = getattr(improvement, "actions_done", None)
    if total is None:
        total = improvement.actions.count()
        done = improvement.actions.filter(done=True).count()
    return {
        "status": improvement.status,
        "actions_total": total,
        "actions_done": done,
        "percent": None if not total else int(done * 100 / total),
    }


# --- profitability (external, staff only) ---------------------------------------------------------


def profitability(customer: Customer, period: str | None = None) -> tuple[Decimal | None, str]:
    """The customer's margin (%) in the finance external-margin report of ``period`` (default:
    the latest closed period), and that period. None when there is no figure."""
    from servicebook.finance.billing import selectors as finance

    period = period or finance.default_period()
    if not period:
        return None, ""
    rows = [r for r in finance.external_margin(period) if r["customer_id"] == customer.pk]
    revenue = sum((r["revenue"] or Decimal(0) for r in rows), Decimal(0))
    costs = [r["cost"] for r in rows]
    if not rows or not revenue or any(c is None for c in costs):
        return None, period
    cost = sum(costs, Decimal(0))
    return ((revenue - cost) * 100 / revenue).quantize(Decimal("0.1")), period


# --- repeated contract breaches (R14) -------------------------------------------------------------


def repeated_contract_breaches(period: str) -> list[dict]:
    """Contracts whose targets were missed in at least ``REPEATED_BREACH_MONTHS`` of the
    ``WINDOW_MONTHS`` months ending with ``period``, for customers whose policy answers a breach
    with service credits (the credit alone does not retain the customer: R14)."""
    from servicebook.levels.models import Attainment

    months = periods_ending(period, WINDOW_MONTHS)
    kinds = [kind for kind, p in POLICIES.items() if p.penalties_apply]
    breached = defaultdict(set)
    rows = Attainment.objects.filter(
        met=False, period__in=months, agreement__customer__kind__in=kinds
    ).values_list("agreement_id", "period")
    for agreement_id, month in rows:
        breached[agreement_id].add(month)
    from servicebook.agreements.models import Agreement

    agreements = Agreement.objects.filter(pk__in=list(breached)).select_related("customer")
    return [
        {"agreement": a, "months": sorted(breached[a.pk])}
        for a in sorted(agreements, key=lambda a: a.reference)
        if len(breached[a.pk]) >= REPEATED_BREACH_MONTHS
    ]


# --- relationship health (R14, R15) ---------------------------------------------------------------


@dataclass
class Health:
    """One customer's relationship health, and the points that make up its rating."""

    customer: Customer
    period: str
    satisfaction: list[tuple[str, Decimal]]  # (period, average score) oldest first
    satisfaction_trend: Decimal | None  # latest average minus the one before
    attainment_percent: Decimal | None  # targets met / measured in the window
    targets_measured: int
    open_breaches: int  # breached target-months in the window
    overdue_invoices: int | None  # revenue customers
    overdue_amount: Decimal | None
    over_funding_by: Decimal | None  # customers with funding commitments
    open_complaints: int
    open_improvements: int
    difficulty_history: list = field(default_factory=list)
    currency: str = ""
    commitment_breaches: int = 0  # R19: open breaches of internal commitments in the window
    consumption: Decimal | None = None  # consumption at cost for ``period`` (finance's answer)
    consumption_basis: str = ""

    def __post_init__(self) -> None:
        # the points, rating and rank are read several times a row when 10,000 are ranked:
        # computed once here (nothing they depend on changes after)
        self._score = self._points()
        self._rating = (
            "at_risk"
            if self.customer.in_difficulty or self._score >= 3
            else ("watch" if self._score else "good")
        )
        self._rank = (RATING_ORDER[self._rating], -self._score, self.customer.name)

    @property
    def latest_satisfaction(self) -> Decimal | None:
        return self.satisfaction[-1][1] if self.satisfaction else None

    @property
    def concerns(self) -> list[str]:
        """Why the rating is what it is, in words."""
        reasons = []
        latest = self.latest_satisfaction
        if latest is not None and latest < Decimal(3):
            reasons.append(f"satisfaction {latest} / 5")
        if self.satisfaction_trend is not None and self.satisfaction_trend < 0:
            reasons.append("satisfaction falling")
        if self.attainment_percent is not None and self.attainment_percent < 100:
            reasons.append(f"{self.attainment_percent}% of targets met")
        if self.open_breaches:
            reasons.append(f"{self.open_breaches} breach(es) in {WINDOW_MONTHS} months")
        if self.overdue_invoices:
            reasons.append(f"{self.overdue_invoices} overdue invoice(s)")
        if self.over_funding_by is not None and self.over_funding_by > 0:
            reasons.append("consumption over funding")
        if self.commitment_breaches:
            reasons.append(f"{self.commitment_breaches} commitment breach(es)")
        if self.open_complaints:
            reasons.append(f"{self.open_complaints} open complaint(s)")
        if self.customer.in_difficulty:
            reasons.append("flagged in difficulty")
        return reasons

    @property
    def score(self) -> int:
        """Points of concern: satisfaction below 3 or overdue invoices count two, the rest one."""
        return self._score

    def _points(self) -> int:
        points = 0
        latest = self.latest_satisfaction
        points += 2 if latest is not None and latest < Decimal(3) else 0
        points += 1 if self.satisfaction_trend is not None and self.satisfaction_trend < 0 else 0
        points += 1 if self.attainment_percent is not None and self.attainment_percent < 100 else 0
        points += 1 if self.open_breaches else 0
        points += 2 if self.overdue_invoices else 0
        points += 1 if self.over_funding_by is not None and self.over_funding_by > 0 else 0
        points += 1 if self.commitment_breaches else 0
        points += min(self.open_complaints, 2)
        return points

    @property
    def rating(self) -> str:
        """good (no concern), watch (1-2 points), at_risk (3+ points or flagged in difficulty)."""
        return self._rating

    @property
    def rank(self) -> tuple:
        """The sort key of "worst first": rating, then more points, then the name."""
        return self._rank

    @property
    def rating_label(self) -> str:
        return {"good": "Good", "watch": "Watch", "at_risk": "At risk"}[self.rating]

    def satisfaction_chart(self) -> str:
        return chart_json(
            [p for p, _ in self.satisfaction],
            [str(v) for _, v in self.satisfaction],
            "Average satisfaction (1-5)",
            axis=(1, 5),
        )


def _satisfaction(customers, until: str, months: int = 6) -> dict[int, list]:
    periods = periods_ending(until, months)
    rows = (
        Feedback.objects.filter(
            customer__in=customers, topic=Feedback.Topic.SATISFACTION, period__in=periods
        )
        .values("customer_id", "period")
        .annotate(avg=Avg("score"))
        .order_by("customer_id", "period")
    )
    result = defaultdict(list)
    for row in rows:
        average = Decimal(str(row["avg"])).quantize(Decimal("0.1"))
        result[row["customer_id"]].append((row["period"], average))
    return result


#: The database form of ``Invoice.outstanding`` (cash and in-kind parts not yet paid, credited
#: or delivered), to sum the overdue amounts per customer in one grouped query.
OUTSTANDING = ExpressionWrapper(
    F("cash_amount")
    - F("paid_cash")
    - F("credited")
    + F("in_kind_amount")
    - F("delivered_in_kind"),
    output_field=DecimalField(max_digits=18, decimal_places=2),
)
CENT = Decimal("0.01")
NO_CENTS = Decimal("0.00")
#: What the health page and API sort by: worst first.
RATING_ORDER = {"at_risk": 0, "watch": 1, "good": 2}


def health_of(
    customers, *, period: str | None = None, today: dt.date | None = None, light: bool = False
):
    """Health of each of ``customers`` (a queryset) for the window ending with ``period``.

    Every figure is a grouped query over the customers as a subquery: the number of queries does
    not grow with the customers. ``light``: the customers as :class:`CustomerRow` values and no
    in-difficulty history (what ranking every customer needs, at a fraction of the cost).
    """
    from servicebook.parties.selectors import breach_counts, funding_report

    today = today or timezone.localdate()
    period = period or current_period(today)
    # the customers as a subquery in every lookup below: one query each however many there are
    # (a list of 10,000 ids is sent as batches of parameters)
    scope = customers.values("pk")
    customers = CustomerRow.rows(customers) if light else list(customers.select_related("provider"))
    months = periods_ending(period, WINDOW_MONTHS)
    satisfaction = _satisfaction(scope, period)
    attained = _attained(scope, months)
    overdue = _overdue(scope, today)
    funding = {}
    if any(policy_for(c).has_commitments for c in customers):
        # consumption at cost for the same period as every other page (finance.consumption)
        funding = {
            row.customer.pk: row
            for row in funding_report(
                _Everyone(), on=today, period=period, customers=scope, known=customers
            )
        }
    commitment_breaches = breach_counts(scope, since=dt.date.fromisoformat(f"{months[0]}-01"))
    complaints = dict(
        Feedback.objects.filter(
            customer__in=scope, topic=Feedback.Topic.COMPLAINT, resolved_at__isnull=True
        )
        .values_list("customer_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    open_items = _open_improvements(scope)
    history = defaultdict(list) if light else _difficulty_history(scope)
    result = []
    for customer in customers:
        policy = policy_for(customer)
        points = satisfaction.get(customer.pk, [])
        found = attained.get(customer.pk)
        measured = found["measured"] if found else 0
        met = found["met"] if found else 0
        owed = overdue.get(customer.pk)
        row = funding.get(customer.pk)
        result.append(
            Health(
                customer=customer,
                period=period,
                satisfaction=points,
                satisfaction_trend=points[-1][1] - points[-2][1] if len(points) > 1 else None,
                attainment_percent=(Decimal(met * 100) / measured).quantize(Decimal("0.1"))
                if measured
                else None,
                targets_measured=measured,
                open_breaches=measured - met,
                overdue_invoices=(owed["n"] if owed else 0) if policy.charge_is_revenue else None,
                overdue_amount=(owed["amount"].quantize(CENT) if owed else NO_CENTS)
                if policy.charge_is_revenue
                else None,
                over_funding_by=row.over_by if row is not None and policy.has_commitments else None,
                open_complaints=complaints.get(customer.pk, 0),
                open_improvements=open_items[customer.pk],
                difficulty_history=history[customer.pk],
                currency=customer.billing_currency,
                commitment_breaches=commitment_breaches.get(customer.pk, 0),
                consumption=row.consumption if row is not None else None,
                consumption_basis=row.basis if row is not None else "",
            )
        )
    return result


def _attained(scope, months: list[str]) -> dict[int, dict]:
    """Target-months measured and met in ``months``, per customer of ``scope``."""
    from servicebook.levels.models import Attainment

    return {
        row["customer"]: row
        for row in Attainment.objects.filter(
            agreement__customer__in=scope, period__in=months, met__isnull=False
        )
        .values(customer=F("agreement__customer_id"))
        .annotate(measured=Count("pk"), met=Count("pk", filter=Q(met=True)))
        .order_by()
    }


def _overdue(scope, today: dt.date) -> dict[int, dict]:
    """Overdue invoices (finance's rule) counted and summed per customer of ``scope``."""
    from servicebook.finance.billing import selectors as finance
    from servicebook.finance.billing.models import Invoice

    return {
        row["customer_id"]: row
        for row in finance.overdue(Invoice.objects.filter(customer__in=scope), today)
        .values("customer_id")
        .annotate(n=Count("pk"), amount=Sum(OUTSTANDING))
        .order_by()
    }


def _open_improvements(scope) -> Counter:
    """Open improvement items per customer of ``scope`` (a query of their ids): as the lead or
    as another customer concerned."""
    concerned = set()  # (item, customer) pairs: the lead and every other customer concerned
    items = Improvement.objects.filter(status__in=OPEN_STATUSES)
    concerned.update(items.filter(customer__in=scope).values_list("pk", "customer_id"))
    concerned.update(items.filter(customers__in=scope).values_list("pk", "customers"))
    return Counter(customer for _, customer in concerned)


def add_difficulty_history(rows: list[Health]) -> None:
    """Fill in the in-difficulty history of ``rows`` computed ``light`` (one query)."""
    history = _difficulty_history([h.customer.pk for h in rows])
    for h in rows:
        h.difficulty_history = history[h.customer.pk]


def _difficulty_history(customers) -> dict[int, list]:
    """Each customer's in-difficulty flags and clearings, oldest first."""
    history = defaultdict(list)
    for event in (
        CustomerEvent.objects.filter(customer__in=customers, action__startswith="in_difficulty")
        .select_related("actor")
        .order_by("at", "pk")
    ):
        history[event.customer_id].append(event)
    return history


class _Everyone:
    """A reader for selectors that scope by user, once the caller has scoped the customers."""

    is_authenticated = True
    is_superuser = True
    customer_id = None
    customer = None


def health_for(user, *, period: str | None = None, kind: str | None = None):
    """Health of the customers a (staff) user sees, worst first, in full (the CLI's report)."""
    customers = Customer.objects.visible_to(user).served()
    if kind in POLICIES:
        customers = customers.filter(kind=kind)
    return worst_first(health_of(customers, period=period))


def worst_first(rows: list[Health]) -> list[Health]:
    return sorted(rows, key=lambda h: h.rank)


# --- service review pack --------------------------------------------------------------------------


def review_pack(customer: Customer, period: str, *, today: dt.date | None = None) -> dict:
    """Everything a service manager takes to a review meeting with ``customer`` about
    ``period``: service levels, charges, satisfaction, complaints, improvements and results.

    What it shows follows the customer's policy, not the reader: internal packs show cost
    (what the statement charged at cost), external packs the price only (R7).
    """
    from servicebook.agreements.models import Agreement, AgreementStatus
    from servicebook.levels.models import Attainment, Credit

    policy = policy_for(customer)
    agreements = list(
        Agreement.objects.filter(customer=customer)
        .filter(Q(status=AgreementStatus.ACTIVE) | Q(attainments__period=period))
        .distinct()
        .order_by("reference")
    )
    attainments = list(
        Attainment.objects.filter(agreement__customer=customer, period=period)
        .select_related("target__service", "agreement")
        .order_by("agreement__reference", "metric", "target__priority")
    )
    measured = [a for a in attainments if a.met is not None]
    credits = list(
        Credit.objects.filter(agreement__customer=customer, period=period).select_related("target")
    )
    charges = _pack_charges(customer, policy, period)
    points = _satisfaction([customer.pk], period).get(customer.pk, [])
    feedback = list(
        Feedback.objects.filter(customer=customer, period=period)
        .exclude(comment="")
        .select_related("service")
    )
    complaints = list(
        Feedback.objects.filter(customer=customer, topic=Feedback.Topic.COMPLAINT)
        .filter(Q(period=period) | Q(resolved_at__isnull=True))
        .select_related("service")
    )
    items = _pack_improvements(customer, period)
    from servicebook.strategy.selectors import outcomes_in_pack

    outcomes = outcomes_in_pack(customer, period) if policy.records_outcomes else []
    return {
        "customer": customer,
        "policy": policy,
        "period": period,
        "agreements": agreements,
        "attainments": attainments,
        "targets_met": sum(1 for a in measured if a.met),
        "targets_measured": len(measured),
        "credits": credits,
        "charges": charges,
        "satisfaction": points,
        "satisfaction_chart": chart_json(
            [p for p, _ in points],
            [v for _, v in points],
            "Average satisfaction (1-5)",
            axis=(1, 5),
        ),
        "feedback": feedback,
        "complaints": complaints,
        "improvements": items,
        "verified": [i for i in items if i.status == ImprovementStatus.VERIFIED],
        "outcomes": outcomes,
        "generated_at": timezone.now(),
    }


def _pack_charges(customer: Customer, policy, period: str) -> dict:
    """What the period charged: internal packs at cost (statements, consumption), external
    packs the price only (invoices), R7."""
    from servicebook.finance.billing.models import Invoice, Statement

    charges = {"discloses_cost": policy.discloses_cost, "statements": [], "invoices": []}
    if policy.discloses_cost:
        from servicebook.finance.billing.consumption import consumption_for

        charges["consumption"] = consumption_for(customer, period)  # the one figure (finance)
        charges["statements"] = list(
            Statement.objects.filter(customer=customer, period=period).prefetch_related(
                "lines__service"
            )
        )
    else:
        charges["invoices"] = list(
            Invoice.objects.filter(customer=customer, period=period).prefetch_related("lines")
        )
    return charges


def _pack_improvements(customer: Customer, period: str) -> list[Improvement]:
    """The items the customer sees, with their action counts; dropped ones only if dropped
    during or after the period."""
    end = first_day(period)
    return [
        item
        for item in Improvement.objects.scope_for_customer(customer)
        .select_related("customer", "objective")
        .prefetch_related("services")
        .annotate(
            actions_total=Count("actions", distinct=True),
            actions_done=Count("actions", filter=Q(actions__done=True), distinct=True),
        )
        .order_by("status", "-created_at")
        if item.status != ImprovementStatus.DROPPED or item.updated_at.date() >= end
    ]


# --- provider dashboard ---------------------------------------------------------------------------

#: Customers the dashboard names, worst first (the relationship health page pages through all).
DASHBOARD_WORST = 10


def _services_chart(services) -> str:
    return chart_json(
        [r["service"] for r in services],
        [str(r["percent"]) for r in services],
        "Targets met (%)",
        percent=True,
    )


def _attainment_by_service(attainments) -> dict[int, tuple[int, int]]:
    """Target-months ``(met, measured)`` per service: a target of one service counts for it, a
    target of the whole agreement for each service the agreement's lines offer (once each).
    Grouped in the database: the dashboard read every agreement line (20,000 at 10,000
    customers) to map agreements to services (issue 14)."""
    counts = {
        "measured": Count("pk", distinct=True),
        "met": Count("pk", distinct=True, filter=Q(met=True)),
    }
    per_service: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    of_service = attainments.filter(target__service__isnull=False).values(
        sid=F("target__service_id")
    )
    of_agreement = attainments.filter(
        target__service__isnull=True, agreement__lines__offering__service__isnull=False
    ).values(sid=F("agreement__lines__offering__service_id"))
    for rows in (of_service, of_agreement):
        for row in rows.annotate(**counts).order_by():
            per_service[row["sid"]][0] += row["met"]
            per_service[row["sid"]][1] += row["measured"]
    return {sid: (met, measured) for sid, (met, measured) in per_service.items()}


def dashboard(*, period: str, kind: str | None = None) -> dict:
    """The provider's view (staff only): services by attainment, customers by health, revenue
    against capacity spend (R8), improvements by status and driver; filtered by customer kind."""
    from servicebook.catalog.models import Service
    from servicebook.finance.billing import selectors as finance
    from servicebook.improvement import ranking
    from servicebook.levels.models import Attainment

    customers = Customer.objects.served()
    attainments = Attainment.objects.filter(period=period, met__isnull=False)
    improvements = Improvement.objects.all()
    if kind in POLICIES:
        customers = customers.filter(kind=kind)
        attainments = attainments.filter(agreement__customer__kind=kind)
        improvements = improvements.filter(customer__kind=kind)
    per_service = _attainment_by_service(attainments)
    names = dict(Service.objects.filter(pk__in=list(per_service)).values_list("pk", "name"))
    services = sorted(
        (
            {
                "service": names[sid],
                "met": met,
                "measured": measured,
                "percent": (Decimal(met * 100) / measured).quantize(Decimal("0.1")),
            }
            for sid, (met, measured) in per_service.items()
        ),
        key=lambda row: (row["percent"], row["service"]),
    )
    ranked = ranking.Ranked(customers, period)  # kept: ranking 10,000 customers takes a second
    ratings = ranked.ratings()
    by_status = Counter(improvements.values_list("status", flat=True))
    by_driver = Counter(improvements.exclude(driver="").values_list("driver", flat=True))
    statuses = [(value, label, by_status[value]) for value, label in ImprovementStatus.choices]
    drivers = [(d, DRIVER_LABELS.get(d, d), n) for d, n in sorted(by_driver.items())]
    capacity = (
        finance.revenue_vs_capacity(period, per_customer=False)
        if kind != _internal_kind()
        else None
    )
    return {
        "period": period,
        "kind": kind or "",
        "services": services,
        # the worst few: the health page lists them all
        "health": ranked[:DASHBOARD_WORST],
        "ratings": ratings,
        "customers_rated": len(ranked),
        "ranked": ranked,
        "capacity": capacity,
        "statuses": statuses,
        "drivers": drivers,
        "charts": {
            "services": _services_chart(services),
            "health": chart_json(
                ["At risk", "Watch", "Good"],
                [ratings[r] for r in ("at_risk", "watch", "good")],
                "Customers",
            ),
            "capacity": chart_json(
                ["External revenue", "Capacity spend"],
                [
                    str(capacity["external_revenue"] or 0) if capacity else "0",
                    str(capacity["capacity_spend"] or 0) if capacity else "0",
                ],
                "Amount",
            ),
            "statuses": chart_json([s[1] for s in statuses], [s[2] for s in statuses], "Items"),
            "drivers": chart_json([d[1] for d in drivers], [d[2] for d in drivers], "Items"),
        },
    }


def _internal_kind() -> str | None:
    """The kind whose charges are not revenue (its business is out of the R8 report)."""
    return next((k for k, p in POLICIES.items() if not p.charge_is_revenue), None)


def default_period() -> str:
    """The period reports open on: the latest closed finance period, else last month."""
    from servicebook.finance.billing import selectors as finance

    return finance.default_period() or previous_period(current_period())
