"""What a breach produces: contracts earn capped credits, internal SLAs improvement items."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from servicebook.agreements import services as agreements
from servicebook.agreements.models import Agreement
from servicebook.catalog.models import Offering
from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.improvement.models import Improvement, ImprovementEvent
from servicebook.improvement.services import propose_from_breach
from servicebook.levels import services
from servicebook.levels.models import Credit, CreditEvent, Outage
from servicebook.levels.selectors import pending_credits
from servicebook.policy import POLICIES
from tests.levels.test_attainment import FEB


def credits(agreement):
    return {
        c.target_id: (c.credit_percent, c.amount, c.capped, c.status)
        for c in Credit.objects.filter(agreement=agreement, period="2026-02")
    }


def outage(contract, users):
    start = datetime(2026, 2, 10, tzinfo=UTC)
    return services.record_outage(
        actor=users["manager"],
        service=contract.desk,
        agreement=contract,
        start=start,
        end=start.replace(hour=6),
    )


def test_every_policy_consequence_is_implemented():
    assert {p.breach_consequence for p in POLICIES.values()} == set(services.CONSEQUENCES)


def test_contract_credits_follow_the_schedule_and_the_monthly_cap(contract, tickets, users):
    outage(contract, users)  # 6 h down of 672 h: 99.107% < 99.5% → 5%
    tickets("CT-TEST", FEB)  # P1 0% → 5%; P2 50% → 4% (not below 50%)
    # 50 + 40 + 50 = 140 > 12% of EUR 1,000: the month's credits share EUR 120.00
    assert credits(contract) == {
        contract.t_p1.pk: (D("5.00"), D("42.86"), True, "pending"),
        contract.t_p2.pk: (D("4.00"), D("34.28"), True, "pending"),
        contract.t_avail.pk: (D("5.00"), D("42.86"), True, "pending"),
    }
    assert sum(c.amount for c in Credit.objects.filter(agreement=contract)) == D("120.00")
    assert CreditEvent.objects.filter(credit__agreement=contract, action="earned").count() == 3
    assert not Improvement.objects.filter(agreement=contract).exists()


def test_applied_credits_never_change_and_the_cap_counts_them(contract, tickets, users):
    outage(contract, users)
    tickets("CT-TEST", FEB)
    p1 = Credit.objects.get(target=contract.t_p1, period="2026-02")
    services.mark_credits_applied(credits=[p1], reference="INV-2026-02-001", actor=users["finance"])
    # corrections after the invoice: the outage was a false alarm, awaiting time now counts
    Outage.objects.filter(agreement=contract).delete()
    Agreement.objects.filter(pk=contract.pk).update(pause_states=[])
    assert services.refresh_if_stale(agreement=contract) is True
    assert credits(contract) == {
        contract.t_p1.pk: (D("5.00"), D("42.86"), True, "applied"),  # untouched
        # P2 now 0% → 8% = 80.00, capped to what is left of the cap: 120.00 - 42.86
        contract.t_p2.pk: (D("8.00"), D("77.14"), True, "pending"),
    }
    p1.refresh_from_db()
    assert p1.applied_reference == "INV-2026-02-001"
    assert [c.target_id for c in pending_credits(contract, "2026-02")] == [contract.t_p2.pk]
    assert CreditEvent.objects.filter(credit=p1, action="applied", to_state="applied").exists()


def test_mark_credits_applied_refusals_change_nothing(contract, tickets, users):
    tickets("CT-TEST", FEB)
    pending = list(pending_credits(contract, "2026-02"))
    assert len(pending) == 2
    with pytest.raises(DomainError, match="invoice reference"):
        services.mark_credits_applied(credits=pending, reference="  ")
    for who in ("internal", "external", "manager"):
        with pytest.raises(PermissionDenied):
            services.mark_credits_applied(credits=pending, reference="INV-1", actor=users[who])
    services.mark_credits_applied(credits=pending[:1], reference="INV-1")
    with pytest.raises(DomainError, match="already applied to INV-1"):
        services.mark_credits_applied(credits=pending, reference="INV-2")
    statuses = dict(Credit.objects.filter(agreement=contract).values_list("pk", "status"))
    assert statuses == {pending[0].pk: "applied", pending[1].pk: "pending"}


def test_internal_sla_breach_raises_one_draft_improvement_item(sla, tickets, users):
    tickets("SLA-TEST", FEB[:1])
    tickets("SLA-TEST", [{**FEB[0], "number": "T1b"}])
    services.recompute_attainment(actor=users["manager"], agreement=sla)
    items = Improvement.objects.filter(agreement=sla)
    assert items.count() == 1  # once per target and month, not per ticket
    item = items.get()
    assert (item.status, item.source, item.period, item.target_id) == (
        "draft",
        "service_level_breach",
        "2026-02",
        sla.t_p1.pk,
    )
    assert item.customer == sla.customer
    assert "1 ticket(s) breached" in item.description  # raised at the first breach, kept
    assert ImprovementEvent.objects.filter(improvement=item, action="raised").count() == 1
    assert not Credit.objects.filter(agreement=sla).exists()


def test_propose_from_breach_is_idempotent(sla):
    first = propose_from_breach(
        target=sla.t_p1, period="2026-03", attainment=D("50"), breaching_tickets_count=1
    )
    again = propose_from_breach(
        target=sla.t_p1, period="2026-03", attainment=D("0"), breaching_tickets_count=9
    )
    assert first.pk == again.pk and "1 ticket(s)" in again.description
    assert Improvement.objects.filter(target=sla.t_p1).count() == 1


def test_improvement_items_are_scoped_to_their_customer(sla, users):
    propose_from_breach(
        target=sla.t_p1, period="2026-03", attainment=D("50"), breaching_tickets_count=1
    )
    assert not Improvement.objects.visible_to(users["internal"]).filter(agreement=sla).exists()
    assert Improvement.objects.visible_to(users["manager"]).filter(agreement=sla).exists()


def _raised_by(proposals) -> list[tuple]:
    """What the proposals wrote: each item's fields, customers, services, events, notices."""
    from django.urls import reverse

    from servicebook.notifications.models import Notification

    written = []
    for item in proposals:
        item.refresh_from_db()
        item.validate_constraints()  # the checks the batch left to the query and construction
        link = reverse("improvement:detail", args=[item.pk])
        written.append(
            (
                (item.title, item.description, item.status, item.source, item.period),
                (item.customer_id, item.agreement_id, item.target_id),
                sorted(c.pk for c in item.customers.all()),
                sorted(s.pk for s in item.services.all()),
                list(item.events.values_list("actor", "action", "from_state", "to_state", "note")),
                sorted(
                    Notification.objects.filter(link=link).values_list(
                        "recipient", "kind", "subject", "body", "delivery"
                    )
                ),
            )
        )
    return written


def test_breaches_proposed_together_are_as_if_proposed_one_by_one(sla, users):
    """The batch (one recomputation's breaches) writes what proposing each in turn writes: an
    existing item is returned unchanged, a (target, period) met twice gives one item."""
    from django.db import transaction

    from servicebook.improvement.services import propose_from_breaches

    t_p2 = agreements.add_target(
        actor=users["manager"],
        agreement=sla,
        metric="resolution_time",
        priority=2,
        threshold_minutes=480,
        attainment_percent=D("90"),
        calendar=sla.t_p1.calendar,
        service=Offering.objects.get(code="desk-user").service,
    )
    kept = propose_from_breach(
        target=sla.t_p1, period="2026-01", attainment=D("10"), breaching_tickets_count=3
    )
    breaches = [
        {"target": sla.t_p1, "period": "2026-02", "attainment": D("50"), "count": 1},
        {"target": t_p2, "period": "2026-02", "attainment": None, "count": 0},
        {"target": sla.t_p1, "period": "2026-01", "attainment": D("0"), "count": 9},
        {"target": sla.t_p1, "period": "2026-02", "attainment": D("0"), "count": 7},
        {"target": t_p2, "period": "2026-03", "attainment": D("80.5"), "count": 2},
    ]
    for breach in breaches:
        breach["breaching_tickets_count"] = breach.pop("count")
    with transaction.atomic():
        one_by_one = _raised_by([propose_from_breach(**breach) for breach in breaches])
        transaction.set_rollback(True)
    together = propose_from_breaches(breaches=breaches)
    assert [item.pk for item in together][2] == kept.pk
    assert together[0].pk == together[3].pk and "1 ticket(s)" in together[3].description
    assert _raised_by(together) == one_by_one
    assert sorted(s.pk for s in together[1].services.all()) == [t_p2.service_id]
    assert Improvement.objects.filter(agreement=sla).count() == 4
    assert propose_from_breaches(breaches=breaches) == together  # idempotent


def test_a_breach_item_is_validated_as_before(sla):
    """The batch validates in Python what ``full_clean`` checked: a period that is no month
    is refused, and nothing is written."""
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="YYYY-MM"):
        propose_from_breach(
            target=sla.t_p1, period="2026-13", attainment=D("50"), breaching_tickets_count=1
        )
    assert not Improvement.objects.filter(agreement=sla).exists()
