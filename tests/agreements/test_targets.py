"""Service level targets, calendars, credit schedules and change clauses (R11-R13)."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from servicebook.agreements import services
from servicebook.agreements.models import Agreement, Calendar
from servicebook.core.errors import DomainError
from servicebook.parties.models import Customer


@pytest.fixture
def drafts(users):
    def draft(code):
        return services.create_agreement(
            actor=users["manager"],
            customer=Customer.objects.get(code=code),
            reference=f"T-{code}",
            title="T",
            start_date=dt.date(2026, 1, 1),
        )

    return draft


def test_calendar_validation(users):
    with pytest.raises(ValidationError) as error:
        services.create_calendar(
            actor=users["manager"],
            name="Bad",
            time_zone="Mars/Olympus",
            windows={"0": [["08:00", "12:00"]]},
        )
    assert "windows" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.create_calendar(
            actor=users["manager"], name="Bad2", windows={"0": [["12:00", "08:00"]]}
        )
    calendar = services.create_calendar(
        actor=users["manager"],
        name="Lunch break",
        time_zone="Europe/Paris",
        windows={"0": [["08:00", "12:00"], ["13:00", "17:00"]]},
        holiday_country="FR",
        extra_holidays=["2026-06-01"],
    )
    engine = calendar.to_engine()
    assert engine.window_list(0) == ((480, 720), (780, 1020))
    assert not Calendar.objects.filter(name__startswith="Bad").exists()


def test_targets_and_credits_on_a_contract(users, drafts):
    contract = drafts("meridian")
    calendar = Calendar.objects.get(name="Berlin office hours")
    target = services.add_target(
        actor=users["manager"],
        agreement=contract,
        metric="resolution_time",
        priority=1,
        threshold_minutes=240,
        attainment_percent=D("95"),
        calendar=calendar,
        credit_tiers=[(D("95"), D("5")), (D("90"), D("10"))],
    )
    assert [str(t) for t in target.credit_tiers.all()] == [
        "below 95.000%: 5.00% credit",
        "below 90.000%: 10.00% credit",
    ]
    with pytest.raises(ValidationError, match="at least the same credit"):
        services.set_credit_tiers(
            actor=users["manager"], target=target, tiers=[(D("95"), D("10")), (D("90"), D("5"))]
        )
    assert target.credit_tiers.count() == 2


def test_an_sla_earns_no_credits_and_has_no_change_clauses(users, drafts):
    sla = drafts("hr")
    calendar = Calendar.objects.get(name="Paris office hours")
    with pytest.raises(DomainError, match="not service level agreements"):
        services.add_target(
            actor=users["manager"],
            agreement=sla,
            metric="response_time",
            priority=2,
            threshold_minutes=60,
            attainment_percent=D("90"),
            calendar=calendar,
            credit_tiers=[(D("90"), D("5"))],
        )
    assert not sla.targets.exists()  # the whole step was refused
    with pytest.raises(ValidationError, match="change clauses belong to contracts"):
        services.add_change_clause(actor=users["manager"], agreement=sla, scope="major")


def test_target_shape_rules(users, drafts):
    contract = drafts("pacific")
    calendar = Calendar.objects.get(name="24×7")
    with pytest.raises(ValidationError) as error:
        services.add_target(
            actor=users["manager"],
            agreement=contract,
            metric="availability",
            priority=1,
            attainment_percent=D("99.9"),
            calendar=calendar,
        )
    assert {"metric", "service"} <= set(error.value.message_dict)
    with pytest.raises(ValidationError) as error:
        services.add_target(
            actor=users["manager"],
            agreement=contract,
            metric="response_time",
            attainment_percent=D("90"),
            calendar=calendar,
        )
    assert {"priority", "threshold_minutes"} <= set(error.value.message_dict)


def test_demo_retailer_contract_shows_credits_and_clauses(users, web_for):
    retail = Agreement.objects.get(reference="CT-MER-2026")
    page = web_for(users["manager"]).get(reverse("agreements:detail", args=[retail.pk]))
    html = page.content.decode()
    assert "below 99.500%: 5.00% credit" in html and "capped at 20%" in html
    assert "customer approval" in html
    sla = Agreement.objects.get(reference="SLA-MKT-2026")
    html = web_for(users["internal"]).get(reverse("agreements:detail", args=[sla.pk])).content
    assert b"co-authorizes changes" in html and b"improvement actions" in html


def test_targets_api(users, client_for):
    client = client_for(users["external"])
    rows = client.get(reverse("serviceleveltarget-list")).json()["results"]
    assert rows and {row["agreement"] for row in rows} == {
        Agreement.objects.get(reference="CT-SKY-2026").pk
    }
    calendars = client.get(reverse("calendar-list")).json()["results"]
    assert {c["name"] for c in calendars} == {"Paris office hours", "24×7"}
