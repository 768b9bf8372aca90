"""R17: a failed due diligence is never waived, takes the customer out of active, and is only
cleared by a new request with a reason; a due diligence expires after the provider's period."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from servicebook.core.errors import DomainError
from servicebook.parties import services
from servicebook.parties.models import Customer, DueDiligence, Provider


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


def run_due_diligence(user, customer, *, failing=(), reason=""):
    due_diligence = services.start_due_diligence(actor=user, customer=customer, reason=reason)
    for check in due_diligence.checks.all():
        outcome = "failed" if check.check_type in failing else "passed"
        services.record_check(actor=user, check=check, outcome=outcome, evidence="seen")
    return services.conclude_due_diligence(actor=user, due_diligence=due_diligence)


def test_a_failed_due_diligence_can_never_be_waived(users, prospect):
    manager = users["manager"]
    failed = run_due_diligence(manager, prospect, failing={"legality"})
    assert failed.status == "failed"
    count = DueDiligence.objects.filter(customer=prospect).count()
    with pytest.raises(DomainError, match="failed due diligence can never be waived"):
        services.waive_due_diligence(
            actor=manager, customer=prospect, reason="no_time", explanation="launch next week"
        )
    assert DueDiligence.objects.filter(customer=prospect).count() == count
    failed.refresh_from_db()
    assert failed.status == "failed"
    with pytest.raises(DomainError, match=r"due diligence failed on .* \(legality"):
        services.change_customer_status(actor=manager, customer=prospect, to_status="active")
    prospect.refresh_from_db()
    assert prospect.status == "due_diligence"


def test_a_failed_check_in_progress_cannot_be_waived(users, prospect):
    manager = users["manager"]
    due_diligence = services.start_due_diligence(actor=manager, customer=prospect)
    legality = due_diligence.checks.get(check_type="legality")
    services.record_check(actor=manager, check=legality, outcome="failed", evidence="unlawful")
    with pytest.raises(DomainError, match="failed check can never be waived"):
        services.waive_due_diligence(
            actor=manager, customer=prospect, reason="no_time", explanation="in a hurry"
        )
    due_diligence.refresh_from_db()
    assert due_diligence.status == "in_progress"


def test_waiver_over_the_api_is_refused_after_a_failure(users, client_for, prospect):
    run_due_diligence(users["manager"], prospect, failing={"financial"})
    response = client_for(users["manager"]).post(
        reverse("duediligence-waive"),
        {"customer": prospect.pk, "reason": "no_time", "explanation": "hurry"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "dd_failed_not_waivable"
    assert not prospect.due_diligences.filter(status="waived").exists()


def test_a_new_due_diligence_needs_a_reason_and_then_clears_the_failure(users, prospect):
    manager = users["manager"]
    run_due_diligence(manager, prospect, failing={"financial"})
    with pytest.raises(ValidationError, match="say why a new one is requested"):
        services.start_due_diligence(actor=manager, customer=prospect)
    assert prospect.due_diligences.count() == 1
    renewed = run_due_diligence(
        manager, prospect, reason="New audited accounts received from the customer."
    )
    assert renewed.status == "completed"
    assert renewed.request_reason.startswith("New audited accounts")
    services.change_customer_status(actor=manager, customer=prospect, to_status="active")
    prospect.refresh_from_db()
    assert prospect.status == "active"


def test_a_failed_due_diligence_suspends_an_active_customer(users):
    retail = Customer.objects.get(code="meridian")
    assert retail.status == "active"
    run_due_diligence(
        users["manager"], retail, failing={"legality"}, reason="Yearly review of the contract."
    )
    retail.refresh_from_db()
    assert (retail.status, retail.status_reason) == ("suspended", "due_diligence_failed")
    event = retail.events.filter(action="status").last()
    assert (event.from_state, event.to_state, event.reason) == (
        "active",
        "suspended",
        "due_diligence_failed",
    )
    assert "legality" in event.note
    with pytest.raises(DomainError, match="due diligence failed"):
        services.change_customer_status(actor=users["manager"], customer=retail, to_status="active")


def test_due_diligence_expires_after_the_provider_validity(users):
    airline = Customer.objects.get(code="skybridge")
    provider = airline.provider
    latest = services.latest_due_diligence(airline)
    concluded = timezone.localdate(latest.concluded_at)
    assert provider.due_diligence_validity_months == 12
    assert latest.expires_on() == concluded.replace(year=concluded.year + 1)
    assert services.due_diligence_problem(airline) is None
    later = concluded.replace(year=concluded.year + 1)
    assert "expired on" in services.due_diligence_problem(airline, today=later)
    assert services.due_diligence_problem(airline, today=later - dt.timedelta(days=1)) is None


def test_the_validity_period_is_bounded(users):
    provider = Provider.current()
    provider.due_diligence_validity_months = 0
    with pytest.raises(ValidationError, match="due_diligence_validity_months"):
        provider.full_clean()
