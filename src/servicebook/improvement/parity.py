"""R21 Equal customer service: the parity report and the improvements its gaps propose.

Both kinds of customer get the agreed level of service with the same level of customer service
(only funding, design, change and improvement differ). For a month the report sets internal and
external customers side by side, and each customer against the other kind, on:

- response and resolution attainment: tickets answered / resolved within target out of those
  decided (the service level attainment rows of ``levels``), compared with a two-proportion
  z-test;
- time to first answer on complaints (hours) and satisfaction (survey scores 1-5), compared
  with the Mann-Whitney U test;
- open complaints (a count, shown, not tested).

A gap is *flagged* when it is larger than the provider's tolerated gap (``parity_tolerance``, in
% of the better-served side's figure) and statistically significant for the sample sizes
(``significance``). :func:`propose_parity_improvements` raises one draft improvement item per
flagged gap and month for the worse-served kind, with the driver its policy gives such gaps
(``policy.parity_driver``). The report names customers: provider staff only (decision 0022).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum

from servicebook.agreements.models import Metric
from servicebook.core.roles import Role
from servicebook.core.services import require_role, save_validated
from servicebook.improvement.models import (
    Direction,
    Improvement,
    ImprovementSource,
    ImprovementStatus,
)
from servicebook.improvement.significance import Test, mann_whitney, two_proportions
from servicebook.improvement.workflows import IMPROVEMENT
from servicebook.levels.models import Attainment
from servicebook.parties.models import Customer, Feedback, Provider
from servicebook.policy import EXTERNAL, INTERNAL, KIND_CHOICES, POLICIES, policy_for

EDITORS = (Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER)
_TWO = Decimal("0.01")
_P = Decimal("0.0001")


@dataclass(frozen=True)
class Measure:
    """One figure the report compares."""

    key: str
    label: str
    unit: str
    higher_is_better: bool


MEASURES = (
    Measure("response", "Response attainment", "%", True),
    Measure("resolution", "Resolution attainment", "%", True),
    Measure("first_answer", "Time to first answer on complaints", "hours", False),
    Measure("satisfaction", "Satisfaction", "/ 5", True),
)
BY_KEY = {m.key: m for m in MEASURES}
_METRICS = {Metric.RESPONSE_TIME: "response", Metric.RESOLUTION_TIME: "resolution"}


def _q(value: float | Decimal | None, step: Decimal = _TWO) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(step, rounding=ROUND_HALF_UP)


@dataclass
class Figures:
    """What one side (a kind, or one customer) received in the month."""

    within: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    decided: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    answer_hours: list[float] = field(default_factory=list)
    scores: list[int] = field(default_factory=list)
    open_complaints: int = 0

    def add(self, other: Figures) -> None:
        for key, count in other.within.items():
            self.within[key] += count
        for key, count in other.decided.items():
            self.decided[key] += count
        self.answer_hours += other.answer_hours
        self.scores += other.scores
        self.open_complaints += other.open_complaints

    def n(self, key: str) -> int:
        if key in _METRICS.values():
            return self.decided[key]
        return len(self.answer_hours if key == "first_answer" else self.scores)

    def value(self, key: str) -> Decimal | None:
        if key in _METRICS.values():
            decided = self.decided[key]
            return _q(Decimal(100) * self.within[key] / decided) if decided else None
        sample = self.answer_hours if key == "first_answer" else self.scores
        return _q(sum(sample) / len(sample)) if sample else None

    def test_against(self, other: Figures, key: str) -> Test:
        if key in _METRICS.values():
            return two_proportions(
                self.within[key], self.decided[key], other.within[key], other.decided[key]
            )
        if key == "first_answer":
            return mann_whitney(self.answer_hours, other.answer_hours)
        return mann_whitney(self.scores, other.scores)

    def as_dict(self) -> dict:
        return {
            **{m.key: {"value": self.value(m.key), "n": self.n(m.key)} for m in MEASURES},
            "open_complaints": self.open_complaints,
        }


@dataclass
class Comparison:
    """One measure compared: ``mine`` against ``theirs`` (internal against external for the
    kinds; a customer against the other kind's customers for the rows per customer)."""

    measure: Measure
    mine: Decimal | None
    theirs: Decimal | None
    test: Test
    n_mine: int = 0
    n_theirs: int = 0

    @property
    def difference(self) -> Decimal | None:
        if self.mine is None or self.theirs is None:
            return None
        return self.mine - self.theirs

    @property
    def gap_percent(self) -> Decimal | None:
        """The difference in % of the better side's figure."""
        if self.difference is None or self.mine is None or self.theirs is None:
            return None
        best = max if self.measure.higher_is_better else min
        better = best(self.mine, self.theirs)
        if not self.difference:
            return Decimal("0.00")
        if not better:
            return None
        return _q(abs(self.difference) * 100 / abs(better))

    @property
    def p_value(self) -> Decimal | None:
        return _q(self.test.p_value, _P)

    @property
    def mine_is_worse(self) -> bool:
        if not self.difference:
            return False
        return (self.difference < 0) == self.measure.higher_is_better


@dataclass
class Gap(Comparison):
    """A measure compared between the kinds, with the provider's tolerance."""

    tolerance: Decimal = Decimal(0)
    improvement: Improvement | None = None

    @property
    def worse_kind(self) -> str | None:
        """Which kind is served worse (``mine`` is internal), or None when equal or unknown."""
        if not self.difference:
            return None
        return INTERNAL if self.mine_is_worse else EXTERNAL

    @property
    def beyond_tolerance(self) -> bool:
        return self.gap_percent is not None and self.gap_percent > self.tolerance

    @property
    def flagged(self) -> bool:
        return self.beyond_tolerance and self.test.significant


@dataclass
class CustomerRow:
    customer: Customer
    kind: str
    figures: Figures
    comparisons: list[Comparison]


@dataclass
class ParityReport:
    period: str
    tolerance: Decimal
    sides: dict[str, Figures]
    gaps: list[Gap]
    customers: list[CustomerRow]

    @property
    def flagged(self) -> list[Gap]:
        return [gap for gap in self.gaps if gap.flagged]


def _hours(feedback: dict) -> float:
    return (feedback["answered_at"] - feedback["created_at"]).total_seconds() / 3600


def _figures_by_customer(provider: Provider, period: str) -> dict[int, Figures]:
    figures: dict[int, Figures] = defaultdict(Figures)
    attained = (
        Attainment.objects.filter(
            period=period,
            metric__in=list(_METRICS),
            agreement__customer__provider=provider,
        )
        .values("agreement__customer_id", "metric")
        .annotate(total=Sum("tickets_total"), breached=Sum("tickets_breached"))
    )
    for row in attained:
        side, key = figures[row["agreement__customer_id"]], _METRICS[row["metric"]]
        side.decided[key] += row["total"]
        side.within[key] += row["total"] - row["breached"]
    feedback = Feedback.objects.filter(customer__provider=provider)
    complaints = feedback.filter(topic=Feedback.Topic.COMPLAINT)
    for row in complaints.filter(period=period, answered_at__isnull=False).values(
        "customer_id", "created_at", "answered_at"
    ):
        figures[row["customer_id"]].answer_hours.append(_hours(row))
    for row in feedback.filter(topic=Feedback.Topic.SATISFACTION, period=period).values(
        "customer_id", "score"
    ):
        figures[row["customer_id"]].scores.append(row["score"])
    for customer_id in complaints.filter(period__lte=period, resolved_at__isnull=True).values_list(
        "customer_id", flat=True
    ):
        figures[customer_id].open_complaints += 1
    return figures


def _compare(mine: Figures, theirs: Figures) -> list[Comparison]:
    return [
        Comparison(
            m,
            mine.value(m.key),
            theirs.value(m.key),
            mine.test_against(theirs, m.key),
            mine.n(m.key),
            theirs.n(m.key),
        )
        for m in MEASURES
    ]


def _gap_measure(measure: Measure) -> str:
    """The improvement's expected measure for a gap: also its key (one item per gap, month)."""
    return f"{measure.label}: gap between internal and external customers (% of the better)"


def parity_report(period: str, provider: Provider | None = None) -> ParityReport:
    """The customer-service parity report of ``period`` (provider staff only: it names
    customers)."""
    provider = provider or Provider.current()
    figures = _figures_by_customer(provider, period)
    customers = Customer.objects.filter(pk__in=list(figures)).order_by("name")
    sides = {kind: Figures() for kind in POLICIES}
    kind_of = {}
    for customer in customers:
        kind_of[customer.pk] = policy_for(customer).kind
        sides[kind_of[customer.pk]].add(figures[customer.pk])
    internal, external = sides[INTERNAL], sides[EXTERNAL]
    existing = {
        item.expected_measure: item
        for item in Improvement.objects.filter(
            source=ImprovementSource.SERVICE_PARITY, period=period
        )
    }
    tolerance = provider.parity_tolerance
    gaps = [
        Gap(
            c.measure,
            c.mine,
            c.theirs,
            c.test,
            c.n_mine,
            c.n_theirs,
            tolerance=tolerance,
            improvement=existing.get(_gap_measure(c.measure)),
        )
        for c in _compare(internal, external)
    ]
    other = {kind: next(k for k in sides if k != kind) for kind in sides}
    rows = [
        CustomerRow(
            customer,
            kind_of[customer.pk],
            figures[customer.pk],
            _compare(figures[customer.pk], sides[other[kind_of[customer.pk]]]),
        )
        for customer in customers
    ]
    return ParityReport(period, tolerance, sides, gaps, rows)


def _worse_served(report: ParityReport, gap: Gap) -> list[Customer]:
    """The customers of the worse-served kind measured on the gap's measure, worst first."""
    key = gap.measure.key
    rows = [
        row
        for row in report.customers
        if row.kind == gap.worse_kind and row.figures.value(key) is not None
    ]
    rows.sort(
        key=lambda row: (row.figures.value(key) or 0) * (1 if gap.measure.higher_is_better else -1)
    )
    return [row.customer for row in rows]


@transaction.atomic
def propose_parity_improvements(
    *, actor, period: str, provider: Provider | None = None
) -> list[Improvement]:
    """One draft improvement item per flagged gap of ``period`` that has none yet: led by the
    worst-served customer of the worse-served kind, concerning every customer of that kind
    measured, with the driver that kind's policy gives a customer-service gap. Idempotent."""
    require_role(actor, *EDITORS, action="Proposing parity improvements")
    report = parity_report(period, provider)
    created = []
    for gap in report.flagged:
        if gap.improvement is not None:
            continue
        concerned = _worse_served(report, gap)
        if not concerned:
            continue
        lead, policy = concerned[0], policy_for(concerned[0])
        kind_label = dict(KIND_CHOICES)[policy.kind].lower()
        item = Improvement(
            title=f"{period}: {kind_label} customers served worse on {gap.measure.label.lower()}",
            customer=lead,
            period=period,
            source=ImprovementSource.SERVICE_PARITY,
            status=ImprovementStatus.DRAFT,
            driver=policy.parity_driver,
            description=(
                f"In {period} {gap.measure.label.lower()} was {gap.mine} {gap.measure.unit} for "
                f"internal and {gap.theirs} {gap.measure.unit} for external customers: a gap of "
                f"{gap.gap_percent}% (tolerated: {report.tolerance}%), significant with "
                f"p = {gap.p_value} ({gap.test.name}). Both kinds are owed the same level of "
                "customer service: find why and close the gap."
            ),
            expected_measure=_gap_measure(gap.measure),
            expected_direction=Direction.AT_MOST,
            baseline_value=gap.gap_percent,
            expected_value=report.tolerance,
        )
        try:
            with transaction.atomic():
                save_validated(item)
        except IntegrityError:  # proposed concurrently
            continue
        item.customers.set(concerned)
        IMPROVEMENT.record(
            item, actor, "raised", to_state=item.status, reason="service_parity", note=period
        )
        gap.improvement = item
        created.append(item)
    return created


def report_data(report: ParityReport) -> dict:
    """The report as plain data (API and CLI; decimals kept for ``plain``)."""

    def comparison(c: Comparison) -> dict:
        return {
            "measure": c.measure.key,
            "label": c.measure.label,
            "unit": c.measure.unit,
            "value": c.mine,
            "other": c.theirs,
            "n": c.n_mine,
            "n_other": c.n_theirs,
            "difference": c.difference,
            "gap_percent": c.gap_percent,
            "test": c.test.name,
            "p_value": c.p_value,
            "significant": c.test.significant,
        }

    def gap(g: Gap) -> dict:
        data = comparison(g)
        data["internal"], data["external"] = data.pop("value"), data.pop("other")
        data["n_internal"], data["n_external"] = data.pop("n"), data.pop("n_other")
        item = g.improvement
        return {
            **data,
            "worse_served": g.worse_kind,
            "beyond_tolerance": g.beyond_tolerance,
            "flagged": g.flagged,
            "improvement": (
                {"id": item.pk, "title": item.title, "status": item.status} if item else None
            ),
        }

    return {
        "period": report.period,
        "tolerance_percent": report.tolerance,
        "kinds": {kind: figures.as_dict() for kind, figures in report.sides.items()},
        "gaps": [gap(g) for g in report.gaps],
        "flagged": [g.measure.key for g in report.flagged],
        "customers": [
            {
                "id": row.customer.pk,
                "code": row.customer.code,
                "name": row.customer.name,
                "kind": row.kind,
                **row.figures.as_dict(),
                "against_other_kind": [comparison(c) for c in row.comparisons],
            }
            for row in report.customers
        ],
    }
