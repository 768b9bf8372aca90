"""Due diligence (R17), lifecycle (R16), commitments (R19), objectives (R9), feedback (R15)."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from servicebook.agreements.models import Agreement
from servicebook.catalog.models import Service
from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.parties import services
from servicebook.parties.models import Customer, DueDiligence, Feedback, Provider
from servicebook.parties.selectors import funding_report


@pytest.fixture
def prospect(users):
    return services.create_customer(
        actor=users["manager"],
        provider=Provider.current(),
        kind="external",
        name="Acme",
        code="acme",
        legal_name="Acme SA",
        jurisdiction="FR",
        currency="EUR",
        payment_terms_days=30,
    )


def test_due_diligence_checks_follow_the_policy(users, prospect):
    due_diligence = services.start_due_diligence(actor=users["manager"], customer=prospect)
    checks = set(due_diligence.checks.values_list("check_type", flat=True))
    assert checks == {"identity", "authority", "legality", "jurisdiction", "financial"}
    prospect.refresh_from_db()
    assert prospect.status == "due_diligence"
    internal = Customer.objects.get(code="hr")
    assert "financial" not in internal.policy.due_diligence_checks


def test_due_diligence_must_complete_before_the_customer_is_active(users, prospect):
    due_diligence = services.start_due_diligence(actor=users["manager"], customer=prospect)
    with pytest.raises(DomainError, match="no completed due diligence"):
        services.change_customer_status(
            actor=users["manager"], customer=prospect, to_status="active"
        )
    with pytest.raises(DomainError, match="checks still pending"):
        services.conclude_due_diligence(actor=users["manager"], due_diligence=due_diligence)
    with pytest.raises(ValidationError, match="say what the outcome rests on"):
        services.record_check(
            actor=users["manager"],
            check=due_diligence.checks.first(),
            outcome="passed",
            evidence=" ",
        )
    for check in due_diligence.checks.all():
        outcome = "failed" if check.check_type == "financial" else "passed"
        services.record_check(actor=users["manager"], check=check, outcome=outcome, evidence="seen")
    concluded = services.conclude_due_diligence(actor=users["manager"], due_diligence=due_diligence)
    assert concluded.status == "failed"
    with pytest.raises(DomainError, match="due diligence failed"):
        services.change_customer_status(
            actor=users["manager"], customer=prospect, to_status="active"
        )


def test_waiver_records_why_and_allows_activation(users, prospect):
    with pytest.raises(ValidationError):
        services.waive_due_diligence(
            actor=users["manager"], customer=prospect, reason="no_time", explanation=""
        )
    waiver = services.waive_due_diligence(
        actor=users["manager"],
        customer=prospect,
        reason="not_funded",
        explanation="The customer would not pay for the credit check.",
    )
    assert str(waiver) == "Due diligence not carried out: The customer would not fund it"
    services.change_customer_status(actor=users["manager"], customer=prospect, to_status="active")
    assert prospect.events.filter(action="due_diligence_waived", reason="not_funded").exists()


def test_demo_agreement_shows_its_waiver(users, web_for):
    pacific = Agreement.objects.get(reference="CT-PAC-2026")
    assert pacific.due_diligence.status == "waived"
    page = web_for(users["manager"]).get(reverse("agreements:detail", args=[pacific.pk]))
    assert "Due diligence not carried out" in page.content.decode()
    assert "product launch" in page.content.decode()


def test_due_diligence_over_the_api(users, client_for, prospect):
    client = client_for(users["manager"])
    response = client.post(reverse("duediligence-list"), {"customer": prospect.pk}, format="json")
    assert response.status_code == 201
    dd = response.json()["id"]
    response = client.post(reverse("duediligence-conclude", args=[dd]))
    assert response.status_code == 400 and response.json()["code"] == "dd_pending"
    for check in ("identity", "authority", "legality", "jurisdiction", "financial"):
        response = client.post(
            reverse("duediligence-checks", args=[dd]),
            {"check_type": check, "outcome": "passed", "evidence": "registry extract"},
            format="json",
        )
        assert response.status_code == 200, response.content
    assert client.post(reverse("duediligence-conclude", args=[dd])).json()["status"] == "completed"
    external = client_for(users["external"])
    assert external.get(reverse("duediligence-detail", args=[dd])).status_code == 404
    response = external.post(reverse("duediligence-list"), {"customer": prospect.pk})
    assert response.status_code == 403  # the provider's work: refused before the body is read


def test_suspended_customer_gets_no_new_agreement(users):
    orion = Customer.objects.get(code="orion")
    assert (orion.status, orion.status_reason) == ("suspended", "non_payment")
    from servicebook.agreements import services as agreements

    with pytest.raises(DomainError, match=r"suspended .*refused"):
        agreements.create_agreement(
            actor=users["manager"],
            customer=orion,
            reference="X",
            title="X",
            start_date=dt.date(2026, 1, 1),
        )
    assert not Agreement.objects.filter(reference="X").exists()


def test_termination_ends_agreements_at_a_date_and_deletes_nothing(users):
    orion = Customer.objects.get(code="orion")
    services.change_customer_status(
        actor=users["manager"],
        customer=orion,
        to_status="terminated",
        reason="non_payment",
        effective=dt.date(2026, 11, 30),
    )
    agreement = Agreement.objects.get(reference="CT-ORI-2026")
    assert (agreement.status, agreement.end_date) == ("terminated", dt.date(2026, 11, 30))
    assert orion.events.filter(to_state="terminated").exists()
    assert agreement.events.filter(to_state="terminated").exists()


def test_commitments_are_internal_and_breaches_reported(users):
    airline = Customer.objects.get(code="skybridge")
    with pytest.raises(ValidationError, match="only internal customers"):
        services.add_commitment(
            actor=users["manager"],
            customer=airline,
            kind="exclusivity",
            starts=dt.date(2026, 1, 1),
        )
    with pytest.raises(ValidationError, match="needs an amount"):
        services.add_commitment(
            actor=users["manager"],
            customer=Customer.objects.get(code="hr"),
            kind="funding",
            starts=dt.date(2026, 1, 1),
        )
    marketing = Customer.objects.get(code="marketing")
    breaches = marketing.commitments.get(kind="exclusivity").breaches.order_by("occurred_on")
    assert [b.occurred_on for b in breaches] == [dt.date(2026, 9, 14), dt.date(2026, 10, 20)]


def test_funding_report_lists_customers_over_their_funding(users, client_for):
    rows = {
        row.customer.code: row for row in funding_report(users["manager"], on=dt.date(2026, 6, 1))
    }
    assert set(rows) == {"marketing", "finance-dept", "hr", "rnd"}
    hr = Customer.objects.get(code="hr")
    services.add_commitment(
        actor=users["manager"],
        customer=hr,
        kind="funding",
        amount_per_period=D("100"),
        starts=dt.date(2026, 6, 1),
    )
    rows = {
        row.customer.code: row for row in funding_report(users["manager"], on=dt.date(2026, 6, 2))
    }
    assert rows["hr"].over and rows["hr"].funding == D("100")
    assert rows["hr"].over_by == rows["hr"].consumption - D("100")
    body = client_for(users["finance"]).get(reverse("commitment-funding-report")).json()
    assert {row["customer_name"] for row in body} >= {"Human Resources"}
    assert client_for(users["external"]).get(reverse("commitment-funding-report")).json() == []


def test_objectives_are_shared_with_internal_customers_only(users):
    objective = Customer.objects.get(code="rnd").objectives.get()
    with pytest.raises(DomainError, match="has its own objectives"):
        services.link_objective(
            actor=users["manager"],
            objective=objective,
            customers=[Customer.objects.get(code="skybridge")],
        )


def test_customer_user_answers_the_survey_for_its_own_customer_only(users, client_for):
    external = users["external"]
    hosting = Service.objects.get(code="cloud-hosting")
    client = client_for(external)
    url = reverse("feedback-list")
    payload = {"customer": external.customer_id, "service": hosting.pk, "period": "2026-11"}
    response = client.post(url, {**payload, "score": 6}, format="json")
    assert response.status_code == 400 and "score" in response.json()
    response = client.post(url, {**payload, "score": 4, "comment": "Good"}, format="json")
    assert response.status_code == 201, response.content
    response = client.post(url, {**payload, "score": 5}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "already_answered"
    other = Customer.objects.get(code="meridian")
    response = client.post(url, {**payload, "customer": other.pk, "score": 1}, format="json")
    assert response.status_code == 400
    payroll = Service.objects.get(code="payroll")
    with pytest.raises(DomainError, match="not offered"):
        services.submit_feedback(
            actor=external, customer=external.customer, service=payroll, period="2026-11", score=3
        )
    assert Feedback.objects.filter(customer=external.customer, period="2026-11").count() == 1
    with pytest.raises(PermissionDenied):
        services.submit_feedback(
            actor=external, customer=other, service=hosting, period="2026-11", score=1
        )


def test_due_diligence_is_listed_per_customer(users):
    assert DueDiligence.objects.visible_to(users["external"]).count() == 1
