"""What the demo must show (the issue's "done when")."""

from __future__ import annotations

from servicebook.improvement.models import Improvement, Participant, ServiceReview
from servicebook.policy import policy_for


def test_improvements_of_both_kinds_with_measured_results(db):
    verified = Improvement.objects.filter(status="verified").select_related("customer")
    kinds = {policy_for(item.customer).kind for item in verified}
    assert kinds == {"internal", "external"}
    assert all(item.measured_value is not None for item in verified)
    assert {item.result_met for item in verified} == {True, False}


def test_one_external_customer_in_difficulty_invited_into_a_plan(db):
    invited = Participant.objects.filter(invited=True).select_related("contact__customer")
    assert [p.contact.customer.code for p in invited] == ["pacific"]
    assert invited[0].contact.customer.in_difficulty
    assert invited[0].improvement.approvals.filter(customer__code="pacific").exists()


def test_review_packs_for_an_internal_and_an_external_customer(db):
    reviews = ServiceReview.objects.select_related("customer")
    assert {policy_for(r.customer).kind for r in reviews} == {"internal", "external"}
    assert reviews.filter(status="held").exclude(minutes="").exists()


def test_the_levels_breach_item_is_left_as_raised(db):
    item = Improvement.objects.get(agreement__reference="SLA-MKT-2026")
    assert item.status == "draft" and item.source == "service_level_breach"
