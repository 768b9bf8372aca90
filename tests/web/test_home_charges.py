"""The home page's monthly charges, grouped by kind of line in the database, are what each active
agreement's ``monthly_charge`` adds up to; the page lists the latest active agreements only."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from servicebook.agreements.models import Agreement, AgreementStatus
from servicebook.web.views import LATEST, monthly_charges


def test_grouped_charges_are_the_agreements_charges(users):
    active = Agreement.objects.filter(status=AgreementStatus.ACTIVE)
    expected: dict[str, Decimal] = {}
    for agreement in active:
        label = f"{agreement.get_kind_display()} ({agreement.currency})"
        expected[label] = expected.get(label, Decimal(0)) + (agreement.monthly_charge() or 0)
    assert expected and monthly_charges(active) == expected


def test_home_counts_every_active_agreement_and_lists_the_latest(users, web_for):
    page = web_for(users["manager"]).get(reverse("web:home"))
    active = Agreement.objects.filter(status=AgreementStatus.ACTIVE).count()
    assert page.context["active_count"] == active
    assert len(page.context["active_agreements"]) == min(active, LATEST)
