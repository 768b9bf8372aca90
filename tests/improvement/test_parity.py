"""R21 equal customer service (the parity report) and R15 feedback that acts (decision 0022)."""

from __future__ import annotations

import math
from decimal import Decimal as D

import pytest
from django.urls import reverse

from servicebook.catalog.models import DesignSpecification
from servicebook.core.errors import PermissionDenied
from servicebook.improvement import parity
from servicebook.improvement.models import Improvement, ImprovementSource
from servicebook.improvement.significance import mann_whitney, two_proportions
from servicebook.parties import services as parties
from servicebook.parties.complaints import answer_complaint
from servicebook.parties.models import Customer, Feedback, Provider
from servicebook.policy import POLICIES

PERIOD = "2026-10"


@pytest.fixture
def customers(db):
    return {c.code: c for c in Customer.objects.all()}


@pytest.fixture
def workplace(db):
    return Feedback.objects.get(customer__code="meridian", period="2026-11").service


# --- the kernel ------------------------------------------------------------------------------


def test_two_proportion_z_test_matches_the_textbook():
    # 90/100 against 80/100: pooled 0.85, z = 0.1 / sqrt(0.85*0.15*0.02) = 1.980
    test = two_proportions(90, 100, 80, 100)
    assert math.isclose(test.z, 1.9803, abs_tol=1e-3)
    assert math.isclose(test.p_value, 0.0477, abs_tol=1e-3) and test.significant
    assert two_proportions(100, 100, 50, 50).p_value == 1.0  # all met on both sides
    assert not two_proportions(4, 4, 0, 4).tested  # too few to test


def test_mann_whitney_separates_and_ties():
    test = mann_whitney([30, 31, 22, 40, 28, 35], [2, 4, 3, 5, 2, 6])
    assert test.z > 0 and math.isclose(test.p_value, 0.0051, abs_tol=5e-4)
    assert mann_whitney([3] * 6, [3] * 6).p_value == 1.0
    assert not mann_whitney([1, 2, 3, 4], [1, 2, 3, 4, 5]).tested


# --- the report and what it proposes --------------------------------------------------------


def test_demo_october_flags_the_answer_time_gap_and_its_improvement(db):
    report = parity.parity_report(PERIOD)
    flagged = {gap.measure.key: gap for gap in report.flagged}
    assert list(flagged) == ["first_answer"]
    gap = flagged["first_answer"]
    assert gap.worse_kind == "internal" and gap.gap_percent > report.tolerance
    item = gap.improvement
    assert item is not None and item.source == ImprovementSource.SERVICE_PARITY
    assert item.driver == POLICIES["internal"].parity_driver
    assert {c.kind for c in item.customers.all()} == {"internal"}
    # satisfaction differs beyond the tolerance, but 4 and 3 answers are too few to test
    satisfaction = next(g for g in report.gaps if g.measure.key == "satisfaction")
    assert satisfaction.beyond_tolerance and not satisfaction.test.tested
    assert not satisfaction.flagged


def test_a_wider_tolerance_flags_nothing_and_proposing_is_idempotent(db, users):
    before = Improvement.objects.count()
    assert parity.propose_parity_improvements(actor=users["manager"], period=PERIOD) == []
    Provider.objects.update(parity_tolerance=D("999"))
    Improvement.objects.filter(source=ImprovementSource.SERVICE_PARITY).delete()
    assert parity.parity_report(PERIOD).flagged == []
    assert parity.propose_parity_improvements(actor=users["manager"], period=PERIOD) == []
    assert Improvement.objects.count() == before - 1


def test_only_service_managers_propose(db, users):
    with pytest.raises(PermissionDenied):
        parity.propose_parity_improvements(actor=users["finance"], period=PERIOD)


# --- pages, API, permission ------------------------------------------------------------------


def test_page_and_dashboard_show_the_gap(web_for, users):
    page = web_for(users["manager"]).get(reverse("improvement:parity") + f"?period={PERIOD}")
    assert page.status_code == 200
    assert b'data-testid="gap-first_answer" class="table-warning"' in page.content
    dashboard = web_for(users["manager"]).get(
        reverse("improvement:dashboard") + f"?period={PERIOD}"
    )
    assert b'data-testid="parity-gap-first_answer"' in dashboard.content


@pytest.mark.parametrize("username", ["internal", "external"])
def test_customer_users_are_refused(web_for, client_for, users, username):
    user = users[username]
    assert web_for(user).get(reverse("improvement:parity")).status_code == 403
    assert client_for(user).get(reverse("parity-list")).status_code == 403
    assert client_for(user).post(reverse("parity-propose")).status_code == 403


def test_api_report(client_for, users):
    data = client_for(users["finance"]).get(reverse("parity-list"), {"period": PERIOD}).json()
    assert data["flagged"] == ["first_answer"]
    gap = next(g for g in data["gaps"] if g["measure"] == "first_answer")
    assert gap["improvement"]["status"] == "draft" and gap["n_internal"] == 6
    assert {row["code"] for row in data["customers"]} >= {"marketing", "skybridge"}


# --- feedback that acts (R15) -----------------------------------------------------------------


def test_low_score_proposes_an_improvement_with_the_policy_driver(db, users, customers, workplace):
    feedback = Feedback.objects.get(customer__code="meridian", period="2026-11")
    item = feedback.improvements.get()
    assert item.driver == POLICIES["external"].feedback_driver == "retention"
    answer = parties.submit_feedback(
        actor=users["manager"],
        customer=customers["marketing"],
        service=workplace,
        period="2026-12",
        score=3,
    )
    assert not answer.improvements.exists()  # above the threshold (2): nothing proposed
    Provider.objects.update(low_satisfaction_score=3)
    answer = parties.submit_feedback(
        actor=users["manager"],
        customer=customers["hr"],
        service=workplace,
        period="2026-12",
        score=3,
    )
    assert answer.improvements.get().driver == POLICIES["internal"].feedback_driver


def test_complaint_and_design_feedback_propose_their_follow_ups(db, users, customers, workplace):
    complaint = parties.submit_feedback(
        actor=users["manager"],
        customer=customers["marketing"],
        service=workplace,
        period="2026-12",
        topic="complaint",
        comment="Nobody called back.",
    )
    assert complaint.improvements.get().source == ImprovementSource.FEEDBACK
    design = parties.submit_feedback(
        actor=users["external"],
        customer=customers["skybridge"],
        service=workplace,
        period="2026-12",
        topic="design",
        comment="A dark keyboard option, please.",
    )
    revision = DesignSpecification.objects.get(feedback=design)
    assert revision.status == "draft" and revision.service == workplace


def test_feedback_shows_what_became_of_it_in_api_and_page(client_for, web_for, users):
    feedback = Feedback.objects.get(customer__code="skybridge", topic="design")
    data = client_for(users["external"]).get(reverse("feedback-detail", args=[feedback.pk]))
    (follow_up,) = data.json()["follow_ups"]
    assert follow_up["kind"] == "design_revision" and follow_up["status"] == "draft"
    page = web_for(users["external"]).get(reverse("parties:feedback-detail", args=[feedback.pk]))
    assert b'data-testid="follow-up-design_revision"' in page.content
    other = Feedback.objects.get(customer__code="meridian", period="2026-11")
    hidden = client_for(users["external"]).get(reverse("feedback-detail", args=[other.pk]))
    assert hidden.status_code == 404


def test_answering_a_complaint_sets_its_first_answer_once(db, users):
    complaint = Feedback.objects.get(customer__code="pacific", topic="complaint")
    with pytest.raises(PermissionDenied):
        answer_complaint(actor=users["external"], complaint=complaint, answer="x")
    done = answer_complaint(actor=users["manager"], complaint=complaint, answer="On it.")
    assert done.answered_at is not None and done.answer == "On it."
    from servicebook.core.errors import DomainError

    with pytest.raises(DomainError):
        answer_complaint(actor=users["manager"], complaint=complaint, answer="Again.")


def test_policy_drivers_are_drivers_the_policy_allows():
    for policy in POLICIES.values():
        assert policy.feedback_driver in policy.improvement_drivers
        assert policy.parity_driver in policy.improvement_drivers
