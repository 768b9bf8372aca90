"""The period close engine, its plan (read only; :mod:`.write` writes it, in bulk, in the
caller's transaction).

For each customer with an agreement in force during the month: its subscription lines, its rated
usage (when the usage store holds the month), the credits its breached contract earned, then the
customer's policy:

- internal (charged at cost, R5): one **statement** per customer, itemized by service, at cost;
  its funding model decides the posting (none, notional transfer, or recovered share + subsidy);
- external (charged at price, R6): one **invoice** per contract with credits as negative lines
  and the total split into a cash part and an in-kind part (R3).

Planning makes no write, so ``--dry-run`` shows exactly what a close would do. Writing is done
in chunks of customers with bulk inserts; the caller's transaction makes the whole close atomic.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace

from django.utils import timezone

from servicebook.agreements.models import Agreement, AgreementLine
from servicebook.agreements.selectors import (
    WERE_IN_FORCE,
    in_force_between,
    without_superseded,
)
from servicebook.catalog.pricing import charge_amount
from servicebook.core.money import round_money
from servicebook.core.periods import period_dates
from servicebook.finance.billing import credits, numbering, tax
from servicebook.finance.billing.breakdown import charge_steps
from servicebook.finance.billing.documents import ZERO, Catalog, Document, Item, Plan
from servicebook.finance.billing.models import LineKind
from servicebook.finance.billing.usage_lines import add_cloud_charges, add_rated_usage
from servicebook.finance.fx.selectors import MissingRate, rate_on
from servicebook.parties.models import SERVED_STATUSES, FundingModel, Provider
from servicebook.parties.rows import BILLING_FIELDS, BillingCustomerRow
from servicebook.policy import policy_for

#: statuses of the customers billed in a close (a suspended customer still pays for the month)
BILLED_STATUSES = SERVED_STATUSES


def build_plan(
    period: str,
    *,
    provider: Provider | None = None,
    today: dt.date | None = None,
    scope: CloseScope | None = None,
    chunk: list[int] | None = None,
    first_statement: int = 1,
) -> Plan:
    """Everything a close of ``period`` would issue and post, computed without writing.

    Invoices are issued the day after the month ends or, when the close runs later, on ``today``
    (the close's date): their due date is the issue date plus the payment terms, so no invoice
    is ever issued already overdue.

    With ``chunk`` (ids of customers of ``scope``, in its order), only those customers'
    documents are planned, statements numbered from ``first_statement``: the close plans and
    writes chunk after chunk (:func:`.write.write_close`), and the documents are the same
    whatever the chunk size (customers in the order of their codes).
    """
    provider = provider or Provider.current()
    scope = scope or CloseScope.load(period, provider)
    plan, documents = gather_plan(period, provider=provider, scope=scope, chunk=chunk)
    return complete_plan(plan, documents, scope=scope, today=today, first_statement=first_statement)


def gather_plan(
    period: str, *, provider: Provider, scope: CloseScope, chunk: list[int] | None
) -> tuple[Plan, _Documents]:
    """The first part of :func:`build_plan`: the documents of the agreements in force with their
    subscription lines (most of a close's planning). It only reads agreements, their lines and
    what ``scope`` holds. (Gathering the next chunk on a second connection while the close
    wrote this one was tried and removed: no gain on two cores, see docs/performance.md.)"""
    plan = Plan(period=period, provider=provider)
    first, last = period_dates(period)
    whole = chunk is None  # the whole month (the dry run): no list of ids in the queries
    plan.customers = None if chunk is None else set(chunk)
    # the first chunk also reports usage and cost of customers billed in no chunk
    plan.orphans = chunk is None or chunk[:1] == scope.customers[:1]
    plan.billed = scope.billed
    plan.billed_query = (
        in_force_between(first, last)
        .filter(customer__status__in=BILLED_STATUSES)
        .values("customer_id")
    )
    in_force = _agreements_in_force(first, last, chunk, provider, scope.rank)
    by_agreement = _lines_by_agreement(first, last, None if whole else [a.pk for a in in_force])
    catalog = scope.catalog
    _document_rates(plan, in_force, scope)
    documents, priced = _Documents(), scope.priced
    for agreement in in_force:
        doc = documents.of(agreement)
        policy = policy_for(agreement.customer)
        for row in by_agreement.pop(agreement.pk, ()):
            _add_subscription(plan, doc, agreement, policy, row, catalog, priced)
    return plan, documents


def complete_plan(
    plan: Plan,
    documents: _Documents,
    *,
    scope: CloseScope,
    today: dt.date | None,
    first_statement: int,
) -> Plan:
    """The rest of :func:`build_plan`: usage, cloud charges and service credits (measuring a
    contract's levels may write), numbers, totals and tax."""
    period, provider, catalog = plan.period, plan.provider, scope.catalog
    first, last = period_dates(period)
    add_rated_usage(plan, documents.statements, documents.invoice_of_customer, catalog)
    add_cloud_charges(plan, documents.statements, catalog.offers)
    with_schedule = scope.with_credit_schedules() if documents.invoices else set()
    earning = [
        doc
        for doc in documents.invoices
        if doc.agreement.pk in with_schedule and policy_for(doc.customer).penalties_apply
    ]
    contracts = Agreement.objects.select_related("customer").in_bulk(
        [doc.agreement.pk for doc in earning]
    )
    for doc in earning:
        _add_credits(plan, doc, contracts[doc.agreement.pk])
    statements = sorted(documents.statements.values(), key=lambda d: scope.rank[d.customer.pk])
    for seq, doc in enumerate(statements, start=first_statement):
        doc.number = f"ST-{period}-{seq:05d}"
        _finish_statement(doc, provider)
    issue_date = max(last + dt.timedelta(days=1), today or timezone.localdate())
    for doc in documents.invoices:
        _finish_invoice(plan, doc, issue_date)
    invoices = [d for d in documents.invoices if d.items]
    # provisional numbers (the dry run's); the close takes them for real under a lock (write)
    number_invoices(invoices, numbering.peek(numbering.INVOICE_SERIES, issue_date.year))
    if invoices:
        rates, kinds = scope.tax_rates(), scope.service_kinds()
        for doc in invoices:
            doc.supply_start, doc.supply_end = first, last
            plan.problems.extend(
                tax.apply_tax(doc, provider=provider, rates=rates, kinds=kinds, on=last)
            )
            doc.cash = doc.total + doc.tax - doc.in_kind
    plan.documents = statements + invoices
    for doc in plan.documents:
        doc.rate = catalog.rates.get(doc.currency)
    return plan


class CloseScope:
    """What every chunk of a close shares: the billed customers in the order their documents
    are numbered in (by code), the catalogue with the rates of every currency the month's
    documents are in, the tax rates; loaded once, light (a few values a customer)."""

    def __init__(self, period: str, provider: Provider) -> None:
        first, last = period_dates(period)
        self.period, self.provider, self.last = period, provider, last
        rows = list(
            in_force_between(first, last)
            .filter(customer__status__in=BILLED_STATUSES)
            .values_list(
                "pk",
                "previous_id",
                "customer_id",
                "customer__code",
                "customer__kind",
                "currency",
                "customer__currency",
                "customer__provider__base_currency",
            )
        )
        superseded = {row[1] for row in rows if row[1] is not None}
        kept = [row for row in rows if row[0] not in superseded]
        codes = {row[2]: row[3] for row in kept}
        #: the billed customers' ids, by code (then id): the order of their documents
        self.customers: list[int] = sorted(codes, key=lambda pk: (codes[pk], pk))
        self.rank = {pk: index for index, pk in enumerate(self.customers)}
        self.billed = self.rank.keys()
        currencies = {
            _document_currency(kind, currency, customer_currency, base)
            for _, _, _, _, kind, currency, customer_currency, base in kept
        }
        self.catalog = Catalog.load(period)
        self.missing: dict[str, str] = {}
        for currency in sorted(currencies - {provider.base_currency}):
            try:
                self.catalog.rates[currency] = rate_on(provider.base_currency, currency, last)
            except MissingRate as missing:
                self.missing[currency] = missing.message
        self._schedules: set[int] | None = None
        self._tax: tuple | None = None
        #: what a subscription line comes to, by policy, offering, currency, quantity and price,
        #: for every chunk (see :func:`_add_subscription`; the catalogue is the scope's)
        self.priced: dict[tuple, tuple] = {}

    @classmethod
    def load(cls, period: str, provider: Provider | None = None) -> CloseScope:
        return cls(period, provider or Provider.current())

    def chunks(self, size: int) -> list[list[int]]:
        """The billed customers in chunks of ``size`` (at least one chunk, maybe empty)."""
        return [
            self.customers[start : start + size] for start in range(0, len(self.customers), size)
        ] or [[]]

    def with_credit_schedules(self) -> set[int]:
        if self._schedules is None:
            self._schedules = _agreements_with_credit_schedules()
        return self._schedules

    def tax_rates(self) -> tax.Rates:
        if self._tax is None:
            self._tax = (tax.Rates(), tax.service_kinds())
        return self._tax[0]

    def service_kinds(self) -> dict[int, str]:
        self.tax_rates()
        assert self._tax is not None
        return self._tax[1]


def _document_currency(kind: str, currency: str, customer_currency: str, base: str) -> str:
    """The currency of an agreement's document, as the customer's policy says (the agreement's
    currency when charged as revenue, else the policy's billing currency)."""
    policy = policy_for(kind)
    if policy.charge_is_revenue:
        return currency
    customer = SimpleNamespace(
        kind=kind, currency=customer_currency, provider=SimpleNamespace(base_currency=base)
    )
    return policy.billing_currency(customer)


def number_invoices(invoices: list[Document], first: int) -> None:
    """Number the invoices of a close consecutively from ``first`` in the year of issue."""
    for sequence, doc in enumerate(invoices, start=first):
        assert doc.issue_date is not None
        doc.sequence = sequence
        doc.number = numbering.format_number(
            numbering.INVOICE_SERIES, doc.issue_date.year, sequence
        )


def _document_rates(plan: Plan, agreements: list[AgreementRow], scope: CloseScope) -> None:
    """The rate of each currency the documents are in, other than the base currency, is the
    latest on or before the month's last day, the date the documents are posted on (decision
    0025; looked up once, in :class:`CloseScope`). A missing rate is a problem that refuses
    the close, never a 1:1."""
    currencies = {
        a.currency
        if policy_for(a.customer).charge_is_revenue
        else policy_for(a.customer).billing_currency(a.customer)
        for a in agreements
    }
    for currency in sorted(currencies & scope.missing.keys()):
        plan.problems.append(scope.missing[currency])


@dataclass(slots=True)
class AgreementRow:
    """An agreement in force as a close reads it (one a contract, 100,000 a month: plain values,
    not a model instance with its customer, issue 14); ``in_kind`` its in-kind consideration
    items, read only for the contracts of customers who may pay in kind."""

    pk: int
    customer: BillingCustomerRow
    reference: str
    version: int
    previous_id: int | None
    currency: str
    payment_terms_days: int | None
    in_kind: list = field(default_factory=list)


#: what :class:`AgreementRow` reads of an agreement (its customer's: ``BILLING_FIELDS``)
_AGREEMENT_FIELDS = ("pk", "reference", "version", "previous_id", "currency", "payment_terms_days")


def _agreements_in_force(
    first: dt.date,
    last: dt.date,
    customers: list[int] | None,
    provider: Provider,
    rank: dict[int, int],
) -> list[AgreementRow]:
    """The agreements of billed customers in force during the month: active ones, and those
    that ended (expired or terminated) during it, never one after its end date; a version
    superseded during the month by its next version is charged as the next version (decision
    0023). Those of ``customers`` only (None: all), by customer in ``rank`` order, then
    reference and version."""
    if customers is not None and not customers:
        return []
    query = in_force_between(first, last).filter(customer__status__in=BILLED_STATUSES)
    if customers is not None:
        query = query.filter(customer_id__in=customers)
    fields = _AGREEMENT_FIELDS + tuple(f"customer__{name}" for name in BILLING_FIELDS)
    rows = query.order_by("customer__code", "reference", "version").values_list(*fields)
    split, homes = len(_AGREEMENT_FIELDS), {provider.base_currency: provider}
    agreements, customer_rows = [], {}
    for row in rows:
        customer = customer_rows.get(row[split])
        if customer is None:  # one row a customer, one provider object for all
            *values, base = row[split:]
            home = homes.get(base) or homes.setdefault(base, SimpleNamespace(base_currency=base))
            customer = customer_rows[row[split]] = BillingCustomerRow(*values, provider=home)
        agreements.append(AgreementRow(row[0], customer, *row[1:split]))
    agreements.sort(key=lambda a: rank[a.customer.pk])  # stable: reference, version kept
    agreements = without_superseded(agreements)
    paying_in_kind = {a.pk: a for a in agreements if policy_for(a.customer).accepts_in_kind}
    for agreement_id, items in credits.in_kind_items(paying_in_kind.keys()).items():
        paying_in_kind[agreement_id].in_kind = items
    return agreements


def _lines_by_agreement(
    first: dt.date, last: dt.date, agreements: list[int] | None
) -> dict[int, list[tuple]]:
    """The lines (offering, quantity, unit price, description) of ``agreements`` (None: of
    every agreement in force in the month), in order."""
    by_agreement: dict[int, list[tuple]] = defaultdict(list)
    if agreements is None:
        lines = AgreementLine.objects.filter(
            agreement__in=in_force_between(first, last).filter(customer__status__in=BILLED_STATUSES)
        )
    elif not agreements:
        return by_agreement
    else:
        lines = AgreementLine.objects.filter(agreement_id__in=agreements)
    lines = lines.values_list(
        "agreement_id", "offering_id", "quantity", "unit_price", "description"
    )
    for row in lines.order_by("agreement_id", "pk"):
        by_agreement[row[0]].append(row)
    return by_agreement


class _Documents:
    """The documents of a close as its agreements come: one statement per customer charged at
    cost, one invoice per contract of a customer charged at price."""

    def __init__(self) -> None:
        self.statements: dict[int, Document] = {}
        self.invoices: list[Document] = []
        self.invoice_of_customer: dict[int, Document] = {}

    def of(self, agreement: AgreementRow) -> Document:
        customer = agreement.customer
        policy = policy_for(customer)
        if policy.charge_is_revenue:
            doc = Document(
                kind="invoice", customer=customer, currency=agreement.currency, agreement=agreement
            )
            self.invoices.append(doc)
            self.invoice_of_customer.setdefault(customer.pk, doc)
            return doc
        doc = self.statements.get(customer.pk)
        if doc is None:
            doc = self.statements[customer.pk] = Document(
                kind="statement",
                customer=customer,
                currency=policy.billing_currency(customer),
                funding_model=customer.funding_model,
            )
        return doc


def _add_subscription(
    plan: Plan, doc: Document, agreement, policy, row: tuple, catalog: Catalog, priced: dict
) -> None:
    """One agreement line on its document: at cost (the customer's policy decides the rate) or
    at its price (the offering's charge model), with its cost when known.

    ``priced`` remembers, for the whole close (every chunk: :attr:`CloseScope.priced`), what a
    line of an offering, quantity and price comes to on a document of a policy and currency
    (pure arithmetic, so the same answer every time): the item's fields but its description,
    in :class:`.documents.Item`'s order."""
    _, offering_id, quantity, unit_price, description = row
    key = (policy.kind, offering_id, doc.currency, quantity, unit_price)
    fields = priced.get(key)
    if fields is None:
        figures = _price_line(plan, doc, agreement, row, catalog)
        if figures is None:
            return
        rate, amount, cost, breakdown, unwarned = figures
        offer = catalog.offers[offering_id]
        fields = (
            LineKind.SUBSCRIPTION,
            offer.service_id,
            offer.id,
            offer.label,
            quantity,
            unit_price if rate is None else rate,
            amount,
            cost,
            "",
            "subscription",
            breakdown,
        )
        if unwarned:  # nothing to warn about: the same for every line like it
            priced[key] = fields
    kind, service_id, offer_id, label, *rest = fields
    doc.items.append(Item(kind, service_id, offer_id, description or label, *rest))


def _price_line(plan: Plan, doc: Document, agreement, row: tuple, catalog: Catalog):
    """(rate or None for the line's unit price, amount, cost, breakdown, nothing warned) of an
    agreement line, or None when it cannot be charged (a problem is recorded)."""
    policy = policy_for(agreement.customer)
    _, offering_id, quantity, unit_price, _ = row
    offer = catalog.offers[offering_id]
    refusal = catalog.currency_refusal(offer.id, doc.currency, agreement.reference)
    if refusal and policy.charged_at_cost:
        plan.problems.append(refusal)  # charged at cost: nothing to charge at
        return None
    if refusal:
        plan.warnings.append(f"{refusal}; the line's cost (and margin) is left unknown")
    cost_rate = catalog.unit_cost(offer.id, doc.currency)
    cost = None if cost_rate is None else round_money(quantity * cost_rate, doc.currency)
    if policy.charged_at_cost:
        rate = policy.charge_rate(
            unit_cost=cost_rate, unit_price=unit_price, provider=plan.provider
        )
        if rate is None:
            plan.problems.append(
                f"{agreement.reference}: {offer.label} has no unit cost to charge at"
            )
            return None
        return cost_rate, round_money(quantity * rate, doc.currency), cost, [], not refusal
    try:
        amount = charge_amount(
            offer.model,
            quantity,
            unit_price,
            package_size=offer.package,
            tiers=offer.tiers,
        )
    except ValueError as error:
        plan.problems.append(f"{agreement.reference}: {offer.label}: {error}")
        return None
    breakdown = charge_steps(
        offer.model, quantity, unit_price, package_size=offer.package, tiers=offer.tiers
    )
    return None, round_money(amount, doc.currency), cost, breakdown, not refusal


def _agreements_with_credit_schedules() -> set[int]:
    """Contracts with a service credit schedule (only they can earn credits): one query."""
    from servicebook.agreements.models import CreditTier

    return set(
        CreditTier.objects.filter(target__agreement__status__in=WERE_IN_FORCE)
        .values_list("target__agreement_id", flat=True)
        .distinct()
    )


def _finish_statement(doc: Document, provider) -> None:
    doc.total_cost = sum((i.cost for i in doc.items), ZERO)
    doc.total_charge = sum((i.amount for i in doc.items), ZERO)
    if doc.funding_model == FundingModel.CHARGEBACK:
        doc.recovered = doc.total_charge
    elif doc.funding_model == FundingModel.PARTIAL_RECOVERY:
        doc.recovered = round_money(doc.total_charge * provider.recovery_share, doc.currency)
        doc.uncovered = doc.total_charge - doc.recovered


def _add_credits(plan: Plan, doc: Document, contract: Agreement) -> None:
    """The service credits ``contract`` (the agreement of ``doc``, its measurement brought up to
    date) earned in the month, as negative lines."""
    for credit in credits.pending_credits(contract, plan.period):
        if credit.currency != doc.currency:
            plan.problems.append(
                f"{doc.agreement.reference}: a credit in {credit.currency} on a "
                f"{doc.currency} contract"
            )
            continue
        doc.credits.append(credit)
        target = getattr(credit, "target", None)
        doc.items.append(
            Item(
                kind=LineKind.CREDIT,
                service_id=getattr(target, "service_id", None),
                offering_id=None,
                description=f"Service credit: {target} "
                f"({credit.attainment_percent}% attained, {credit.credit_percent}% credit)",
                quantity=Decimal(1),
                rate=-credit.amount,
                amount=-round_money(credit.amount, doc.currency),
                reference=f"credit-{credit.pk}",
                source="credit",
            )
        )


def _finish_invoice(plan: Plan, doc: Document, issue_date: dt.date) -> None:
    charges = [i for i in doc.items if i.kind in (LineKind.SUBSCRIPTION, LineKind.USAGE)]
    credit_items = [i for i in doc.items if i.kind == LineKind.CREDIT]
    doc.gross = sum((i.amount for i in charges), ZERO)
    credit_total = -sum((i.amount for i in credit_items), ZERO)
    if credit_total > doc.gross:
        # credits never turn an invoice into a payment to the customer: cap at the gross
        excess = credit_total - doc.gross
        for item in reversed(credit_items):
            cut = min(excess, -item.amount)
            item.amount += cut
            excess -= cut
        plan.warnings.append(
            f"{doc.agreement.reference}: service credits capped at the month's charges"
        )
        credit_total = doc.gross
    doc.credit_total = credit_total
    doc.total = doc.gross - credit_total
    if policy_for(doc.customer).accepts_in_kind and doc.agreement is not None:
        remaining = doc.total
        for item in doc.agreement.in_kind:
            value = round_money(item.unit_value * item.quantity, doc.currency)
            amount = min(value, remaining)
            if amount != value:
                plan.warnings.append(
                    f"{doc.agreement.reference}: in-kind part limited to the invoice total "
                    f"({item.description})"
                )
            remaining -= amount
            doc.items.append(
                Item(
                    kind=LineKind.IN_KIND,
                    service_id=None,
                    offering_id=None,
                    description=item.description,
                    quantity=item.quantity,
                    rate=item.unit_value,
                    amount=amount,
                    source="in_kind",
                )
            )
        doc.in_kind = doc.total - remaining
    doc.cash = doc.total - doc.in_kind
    doc.issue_date = issue_date
    terms = doc.agreement.payment_terms_days or doc.customer.payment_terms_days or 30
    doc.due_date = issue_date + dt.timedelta(days=terms)
