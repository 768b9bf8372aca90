"""Attainment: measured from stored history, recomputed when history or configuration change."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

from servicebook.agreements import services as agreements
from servicebook.agreements.models import Agreement, ServiceLevelTarget
from servicebook.levels import services
from servicebook.levels.models import Attainment, LevelsState, Ticket

FEB = [
    # P1, 09:00-15:00 Monday = 5 business hours (lunch excluded) > 4 h
    {
        "number": "T1",
        "priority": "1",
        "opened_at": "2026-02-02T09:00:00+01:00",
        "responded_at": "2026-02-02T09:05:00+01:00",
        "resolved_at": "2026-02-02T15:00:00+01:00",
    },
    # P2, 11 business hours, 4 of them awaiting the user → 7 h ≤ 8 h
    {
        "number": "T2",
        "priority": "2",
        "opened_at": "2026-02-03T09:00:00+01:00",
        "resolved_at": "2026-02-04T12:00:00+01:00",
        "pauses": "2026-02-03T13:00:00+01:00/2026-02-03T17:00:00+01:00",
    },
    # P2, Thursday 09:00 → Friday 17:00 = 16 business hours > 8 h
    {
        "number": "T3",
        "priority": "2",
        "opened_at": "2026-02-05T09:00:00+01:00",
        "resolved_at": "2026-02-06T17:00:00+01:00",
    },
]


def row(agreement, target, period="2026-02"):
    return Attainment.objects.get(agreement=agreement, target=target, period=period)


def test_attainment_per_target_and_month(contract, tickets):
    tickets("CT-TEST", FEB)
    p1, p2 = row(contract, contract.t_p1), row(contract, contract.t_p2)
    assert (p1.tickets_total, p1.tickets_breached, p1.measured_percent, p1.met) == (
        1,
        1,
        D("0.000"),
        False,
    )
    assert (p2.tickets_total, p2.tickets_breached, p2.measured_percent, p2.met) == (
        2,
        1,
        D("50.000"),
        False,
    )
    t3 = Ticket.objects.get(source="test", number="T3")
    assert p2.breaching_tickets == [t3.pk]
    avail = row(contract, contract.t_avail)
    assert avail.met is True and avail.measured_percent == D("100.000")
    assert avail.agreed_seconds == 28 * 24 * 3600
    assert Attainment.objects.filter(agreement=contract, target=contract.t_avail).count() >= 10


def test_recomputation_is_a_pure_function_of_history_and_configuration(contract, tickets, users):
    tickets("CT-TEST", FEB)
    first = list(
        Attainment.objects.filter(agreement=contract).values_list(
            "target", "period", "measured_percent", "met", "breaching_tickets"
        )
    )
    assert services.refresh_if_stale(agreement=contract) is False  # nothing changed
    services.recompute_attainment(actor=users["manager"], agreement=contract)
    again = list(
        Attainment.objects.filter(agreement=contract).values_list(
            "target", "period", "measured_percent", "met", "breaching_tickets"
        )
    )
    assert again == first
    # a pause rule change: awaiting time now counts → T2 breaches too
    Agreement.objects.filter(pk=contract.pk).update(pause_states=[])
    assert services.refresh_if_stale(agreement=contract) is True
    assert row(contract, contract.t_p2).tickets_breached == 2
    # a calendar change: T3's Friday becomes a company holiday → 8 h, within the target
    Agreement.objects.filter(pk=contract.pk).update(pause_states=["Awaiting User Info"])
    calendar = contract.t_p2.calendar
    agreements.update_calendar(
        actor=users["manager"], calendar=calendar, extra_holidays=["2026-02-06"]
    )
    assert services.refresh_if_stale(agreement=contract) is True
    p2 = row(contract, contract.t_p2)
    assert (p2.tickets_breached, p2.met) == (0, True)
    # a target change
    ServiceLevelTarget.objects.filter(pk=contract.t_p2.pk).update(threshold_minutes=300)
    assert services.refresh_if_stale(agreement=contract) is True
    assert row(contract, contract.t_p2).tickets_breached == 2


def test_an_import_triggers_recomputation_and_the_state_records_it(contract, tickets):
    assert not Attainment.objects.filter(agreement=contract, target=contract.t_p1).exists()
    tickets("CT-TEST", FEB[:1])
    state = LevelsState.objects.get(agreement=contract)
    assert row(contract, contract.t_p1).met is False
    assert len(state.fingerprint) == 64


def test_a_ticket_counts_in_the_month_of_the_agreement_calendar(contract, tickets):
    # 23:30 UTC on 31 January is 00:30 on 1 February in Paris
    tickets(
        "CT-TEST",
        [
            {
                "number": "LATE",
                "priority": "1",
                "opened_at": "2026-01-31T23:30:00Z",
                "resolved_at": "2026-02-02T09:00:00+01:00",
            }
        ],
    )
    assert row(contract, contract.t_p1, "2026-02").tickets_total == 1
    assert not Attainment.objects.filter(target=contract.t_p1, period="2026-01").exists()


def test_open_tickets_are_pending_until_their_time_is_used_up(contract, tickets, users):
    tickets(
        "CT-TEST", [{"number": "OPEN", "priority": "1", "opened_at": "2026-02-02T09:00:00+01:00"}]
    )
    as_of = int(datetime(2026, 2, 2, 10, 0, tzinfo=UTC).timestamp())  # 11:00 Paris: 2 h used
    services.recompute_attainment(actor=users["manager"], agreement=contract, as_of=as_of)
    early = row(contract, contract.t_p1)
    assert (early.tickets_total, early.tickets_pending, early.met) == (0, 1, None)
    services.recompute_attainment(actor=users["manager"], agreement=contract)
    late = row(contract, contract.t_p1)
    assert (late.tickets_total, late.tickets_breached, late.met) == (1, 1, False)


def test_availability_and_planned_maintenance(contract, users):
    start = datetime(2026, 2, 10, tzinfo=UTC)
    services.record_outage(
        actor=users["manager"],
        service=contract.desk,
        agreement=contract,
        start=start,
        end=start.replace(hour=6),
        planned=True,
    )
    services.recompute_attainment(actor=users["manager"], agreement=contract)
    assert row(contract, contract.t_avail).met is True  # planned maintenance is excluded
    Agreement.objects.filter(pk=contract.pk).update(exclude_planned_maintenance=False)
    services.refresh_if_stale(agreement=contract)
    avail = row(contract, contract.t_avail)
    assert (avail.met, avail.down_seconds, avail.measured_percent) == (False, 6 * 3600, D("99.107"))


def test_recompute_needs_a_provider_role(contract, users):
    import pytest

    from servicebook.core.errors import PermissionDenied

    for who in ("internal", "external", "change"):
        with pytest.raises(PermissionDenied):
            services.recompute_attainment(actor=users[who], agreement=contract)
    assert not LevelsState.objects.filter(agreement=contract).exists()


def test_an_agreements_own_priority_matrix(contract, tickets, users):
    import pytest
    from django.core.exceptions import ValidationError

    from servicebook.core.errors import PermissionDenied

    tickets(
        "CT-TEST",
        [
            {
                "number": "M1",
                "impact": "2",
                "urgency": "2",
                "opened_at": "2026-02-02T09:00:00+01:00",
                "resolved_at": "2026-02-02T17:00:00+01:00",
            }
        ],
    )
    ticket = Ticket.objects.get(source="test", number="M1")
    assert ticket.priority == 3  # the usual matrix: medium × medium = moderate
    cells = [[i, u, 1 if (i, u) == (2, 2) else 4] for i in (1, 2, 3) for u in (1, 2, 3)]
    with pytest.raises(PermissionDenied):
        services.set_priority_matrix(actor=users["internal"], agreement=contract, cells=cells)
    with pytest.raises(ValidationError):
        services.set_priority_matrix(
            actor=users["manager"], agreement=contract, cells=[[1, 1, 1], [2, 2, 1]]
        )
    ticket.refresh_from_db()
    assert ticket.priority == 3
    services.set_priority_matrix(actor=users["manager"], agreement=contract, cells=cells)
    ticket.refresh_from_db()
    assert ticket.priority == 1
    assert row(contract, contract.t_p1).tickets_breached == 1  # 7 h > 4 h as a P1
