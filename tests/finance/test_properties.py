"""Properties (Hypothesis): any sequence of closes, adjustments and payments keeps the ledger
balanced and ``ledger verify`` clean; rounding never loses or invents a cent across lines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicebook.core.errors import DomainError
from servicebook.core.money import allocate_amount, round_money
from servicebook.finance.billing import services
from servicebook.finance.billing.models import Invoice
from servicebook.finance.costing import allocation
from servicebook.finance.ledger import posting
from servicebook.finance.ledger import services as ledger_services
from servicebook.finance.ledger.models import JournalLine
from servicebook.finance.ledger.verify import verify as verify_ledger

cents = st.integers(min_value=0, max_value=10**9).map(lambda n: D(n) / 100)


@given(total=cents, weights=st.lists(st.integers(0, 10**6), min_size=1, max_size=30))
def test_allocation_never_loses_or_invents_a_cent(total, weights):
    parts = allocate_amount(total, weights, D("0.01"))
    assert sum(parts) == total and all(p >= 0 for p in parts)


@given(
    pools=st.lists(
        st.tuples(st.sampled_from(["hardware", "software", "telecom"]), cents), max_size=6
    ),
    shares=st.lists(st.integers(1, 1000), min_size=1, max_size=5),
)
def test_pools_to_services_sum_to_the_pools(pools, shares):
    total = sum(shares)
    percents = allocate_amount(D(100), shares, D("0.0001"))
    rule = [(i if i else None, p) for i, p in enumerate(percents) if p > 0]
    rules = {c: ("fixed", rule) for c in ("hardware", "software", "telecom")}
    result = allocation.allocate_pools(pools, rules, {}, "EUR")
    assert total > 0
    assert sum(sum(p.values()) for p in result.values()) == sum(a for _, a in pools)


@given(
    share=st.integers(0, 10_000).map(lambda n: D(n) / 10_000),
    charge=cents,
)
def test_partial_recovery_split_is_exact(share, charge):
    recovered = round_money(charge * share, "EUR")
    uncovered = charge - recovered
    assert recovered + uncovered == charge and uncovered >= 0 and recovered >= 0


OPERATION = st.one_of(
    st.tuples(st.just("close"), st.sampled_from(["2026-05", "2026-06", "2026-07", "2026-08"])),
    st.tuples(
        st.just("adjust"),
        st.sampled_from(["2026-06", "2026-11", "2026-12"]),
        st.lists(st.integers(1, 10**7), min_size=1, max_size=4),
    ),
    st.tuples(st.just("pay"), st.sampled_from(["cash", "in_kind"]), st.integers(1, 100)),
)


@pytest.mark.django_db
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(OPERATION, min_size=1, max_size=6))
def test_any_sequence_keeps_the_ledger_clean(users, operations):
    finance = users["finance"]
    with transaction.atomic():
        accounts = posting.accounts()
        for op in operations:
            try:
                if op[0] == "close":
                    services.close_period(actor=finance, period=op[1], earlier_reason="test")
                elif op[0] == "adjust":
                    amounts = [D(n) / 100 for n in op[2]]
                    lines = [
                        {"account": accounts["adjustment"], "debit": str(a), "currency": "EUR"}
                        for a in amounts
                    ] + [
                        {
                            "account": accounts["revenue"],
                            "credit": str(sum(amounts)),
                            "currency": "EUR",
                        }
                    ]
                    ledger_services.post_adjustment(
                        actor=finance, period=op[1], memo="fix", lines=lines
                    )
                else:
                    invoice = Invoice.objects.exclude(status="paid").order_by("pk").first()
                    if invoice is None:
                        continue
                    outstanding = (
                        invoice.outstanding_cash if op[1] == "cash" else invoice.outstanding_in_kind
                    )
                    amount = round_money(outstanding * op[2] / 100, invoice.currency)
                    if amount <= 0:
                        continue
                    services.record_payment(
                        actor=finance,
                        invoice=invoice,
                        kind=op[1],
                        amount=amount,
                        date=dt.date(2026, 11, 21),
                    )
            except DomainError as error:
                assert error.code in ("period_closed", "refused")
        result = verify_ledger()
        assert result["ok"], result["violations"]
        for invoice in Invoice.objects.all():
            line_total = sum(
                invoice.lines.exclude(kind="in_kind").values_list("amount", flat=True), D(0)
            )
            assert line_total == invoice.total
            assert invoice.cash_amount + invoice.in_kind_amount == invoice.total_incl_tax
            assert invoice.total_incl_tax == invoice.total + invoice.tax_amount
        debits = sum(JournalLine.objects.values_list("debit", flat=True), D(0))
        credits = sum(JournalLine.objects.values_list("credit", flat=True), D(0))
        assert debits == credits
        transaction.set_rollback(True)
