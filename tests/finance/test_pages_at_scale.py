"""Issue 14: pages that summarize every customer show a bounded part of it, and say so; the
selects of many objects offer a few with a search, yet accept any the user may choose."""

from __future__ import annotations

import pytest
from django.urls import reverse

from servicebook.agreements.models import Agreement
from servicebook.finance.billing import selectors

pytestmark = pytest.mark.django_db


def test_reports_show_the_first_rows_and_the_csv_has_them_all(users, web_for, monkeypatch):
    from servicebook.finance.billing import views

    monkeypatch.setattr(views, "REPORT_ROWS", 1)
    web = web_for(users["finance"])
    response = web.get(reverse("finance:reports"))
    period = response.context["period"]
    everyone = selectors.funding(period)
    assert len(everyone) > 1  # the demo has several internal customers
    assert response.context["funding"] == everyone[:1]
    assert response.context["more"]["funding"]
    assert 'data-testid="report-more-funding"' in response.content.decode()
    csv = web.get(reverse("finance:report-csv", args=["funding"]) + f"?period={period}")
    assert all(row["customer"] in csv.content.decode() for row in everyone)


def test_report_selectors_limited_give_the_first_rows_of_the_whole(users):
    period = selectors.default_period()
    for report in (selectors.funding, selectors.uncovered_cost):
        whole = report(period)
        assert report(period, first=1) == whole[:1]
    whole = selectors.cost_recovery(period)  # a row per service of the first statement
    limited = selectors.cost_recovery(period, first=1)
    assert limited and limited == whole[: len(limited)]
    assert {row["customer"] for row in limited} == {whole[0]["customer"]}
    margin = selectors.external_margin(period)
    assert selectors.external_margin(period, first=2) == margin[:2]


def test_the_funding_report_is_paged_with_those_over_first(users, web_for, monkeypatch):
    from servicebook.parties import views

    monkeypatch.setattr(views, "FUNDING_ROWS", 1)
    web = web_for(users["finance"])
    first = web.get(reverse("parties:funding"))
    assert len(first.context["rows"]) == 1 and first.context["page"].paginator.count > 1
    assert 'data-testid="funding-pages"' in first.content.decode()
    second = web.get(reverse("parties:funding") + "?page=2")
    assert second.context["rows"][0] != first.context["rows"][0]


def test_a_select_offers_a_few_and_a_search_narrows_it(users, web_for, monkeypatch):
    from servicebook.web import forms

    monkeypatch.setattr(forms, "SHOWN", 1)
    web = web_for(users["finance"])
    form = web.get(reverse("finance:ledger-adjust")).context["form"]
    assert len(form.fields["customer"].widget.choices) == 2 and form.more  # "No customer" + 1
    found = web.get(reverse("finance:ledger-adjust") + "?q=SkyBridge").context["form"]
    assert [label for _pk, label in found.fields["customer"].widget.choices][1:] == [
        c.name for c in found.fields["customer"].queryset.filter(name__icontains="SkyBridge")
    ][:1]


def test_a_manager_raises_a_ticket_on_an_agreement_the_select_did_not_offer(
    users, web_for, monkeypatch
):
    from servicebook.web import forms

    monkeypatch.setattr(forms, "SHOWN", 1)
    web = web_for(users["manager"])
    form = web.get(reverse("levels:raise-ticket")).context["form"]
    offered = {str(pk) for pk, _label in form.fields["agreement"].widget.choices if pk}
    other = (
        Agreement.objects.filter(status="active")
        .exclude(pk__in=[int(pk) for pk in offered])
        .first()
    )
    assert form.more and other is not None
    found = web.get(reverse("levels:raise-ticket") + f"?q={other.reference}").context["form"]
    assert str(other.pk) in {str(pk) for pk, _label in found.fields["agreement"].widget.choices}
    posted = web.post(
        reverse("levels:raise-ticket"),
        {
            "agreement": other.pk,
            "kind": "request",
            "short_description": "Raised on an agreement found by search",
            "impact": 3,
            "urgency": 3,
        },
    )
    assert posted.status_code == 302


def test_the_override_form_offers_pending_contracts_and_accepts_any_open_line(users, web_for):
    web = web_for(users["finance"])
    form = web.get(reverse("finance:costs")).context["override_form"]
    assert form.search == "" and len(form.fields["line"].choices) <= 51
    line = Agreement.objects.filter(status="active").first().lines.first()
    found = web.get(reverse("finance:costs") + f"?line_q={line.agreement.reference}")
    choices = dict(found.context["override_form"].fields["line"].choices)
    assert str(line.pk) in choices
