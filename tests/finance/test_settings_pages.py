"""The finance settings as web forms (issue 18): the period close from the page (dry run, then
confirm; an earlier month needs a confirmation and a reason), journal adjustments and reversals,
allocation rules and driver values, price overrides with a reason. Every form is checked by the
service the API uses: valid and invalid posts, refusals for other roles, no partial writes."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone

from servicebook.finance.billing.models import Invoice, Statement
from servicebook.finance.ledger.models import JournalEntry, Period, PeriodEvent

pytestmark = pytest.mark.django_db
EARLIER = "2026-08"  # the demo closed 2026-10, not August
OPEN = f"{timezone.localdate():%Y-%m}"  # this month is never closed


def _labelled(html: str) -> None:
    """Every visible input, select and textarea has a <label for> (or an aria-label)."""
    labels = set(re.findall(r'<label[^>]*for="([^"]+)"', html))
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        if re.search(r'type="(?:hidden|submit|button)"', tag) or "aria-label" in tag:
            continue
        found = re.search(r'id="([^"]+)"', tag)
        assert found and found.group(1) in labels, f"unlabelled: {tag}"


# -- period close ---------------------------------------------------------------------------------
def test_close_page_shows_the_dry_run_first_and_changes_nothing(users, web_for):
    web = web_for(users["finance"])
    page = web.post(reverse("finance:close"), {"period": EARLIER, "action": "preview"})
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="close-documents"' in html
    assert "SkyBridge Airlines" in html and "Marketing" in html  # documents per customer
    assert "Invoiced (EUR)" in html and "Confirm: close 2026-08" in html
    assert "2026-10 is already closed" in html and "Why close it now" in html
    assert "internal_cost" not in html and "revenue_gross" not in html  # words, not keys
    _labelled(html)
    assert not Statement.objects.filter(period=EARLIER).exists()
    assert not Period.objects.filter(period=EARLIER, status="closed").exists()


def test_close_page_dry_run_issues_nothing_overdue(users, web_for):
    page = web_for(users["finance"]).post(reverse("finance:close"), {"period": EARLIER})
    today = timezone.localdate()
    dues = re.findall(r"<td>(\d{4}-\d\d-\d\d)</td></tr>", page.content.decode())
    assert dues and all(dt.date.fromisoformat(due) >= today for due in dues)


@pytest.mark.parametrize(
    "extra, field",
    [
        ({}, "tick the box"),
        ({"confirm_earlier": "on"}, "Say why the earlier month is closed now."),
        ({"earlier_reason": "dispute"}, "tick the box"),
        ({"confirm_earlier": "on", "earlier_reason": "   "}, "Say why"),
    ],
)
def test_an_earlier_month_needs_the_box_and_a_reason(users, web_for, extra, field):
    web = web_for(users["finance"])
    page = web.post(reverse("finance:close"), {"period": EARLIER, "action": "close", **extra})
    assert page.status_code == 200 and field in page.content.decode()
    assert not Statement.objects.filter(period=EARLIER).exists()
    assert not Period.objects.filter(period=EARLIER, status="closed").exists()


def test_confirmed_earlier_close_records_the_reason_and_issues_nothing_overdue(
    users, web_for, settings, django_capture_on_commit_callbacks, tmp_path
):
    from tests.inline_jobs import inline_jobs

    web = web_for(users["finance"])
    with inline_jobs(settings, django_capture_on_commit_callbacks, tmp_path):
        started = web.post(
            reverse("finance:close"),
            {
                "period": EARLIER,
                "action": "close",
                "confirm_earlier": "on",
                "earlier_reason": "August held back for a contract dispute",
            },
        )
    assert started.status_code == 302
    assert Period.objects.get(period=EARLIER).is_closed
    event = PeriodEvent.objects.get(period__period=EARLIER, action="closed")
    assert "closed after 2026-10: August held back for a contract dispute" in event.note
    assert event.actor == users["finance"]
    today = timezone.localdate()
    invoices = Invoice.objects.filter(period=EARLIER)
    assert invoices.exists()
    assert all(inv.issue_date == today and inv.due_date >= today for inv in invoices)


def test_a_month_after_the_last_closed_needs_no_reason(users, web_for):
    # 2026-11 has ended in this test's clock only if today is in December or later; the service
    # is asked directly with its own clock instead
    from servicebook.finance.billing import services

    result = services.close_period(
        actor=users["finance"], period="2026-11", today=dt.date(2026, 12, 3), dry_run=True
    )
    assert result["later_closed"] is None
    closed = services.close_period(
        actor=users["finance"], period="2026-11", today=dt.date(2026, 12, 3)
    )
    assert closed["changed"]
    invoice = Invoice.objects.filter(period="2026-11").first()
    assert invoice.issue_date == dt.date(2026, 12, 3)  # the day of the close, not 1 December
    assert invoice.due_date >= dt.date(2026, 12, 3)


def test_the_service_refuses_an_earlier_month_without_a_reason(users):
    from servicebook.core.errors import DomainError
    from servicebook.finance.billing import services

    with pytest.raises(DomainError, match="needs a confirmation with a reason"):
        services.close_period(actor=users["finance"], period=EARLIER, earlier_reason=" ")
    assert not Statement.objects.filter(period=EARLIER).exists()


@pytest.mark.parametrize("role", ["manager", "change", "senior", "internal", "external"])
def test_other_roles_cannot_close_from_the_page(users, web_for, role):
    web = web_for(users[role])
    assert web.get(reverse("finance:close")).status_code == 403
    page = web.post(
        reverse("finance:close"),
        {"period": EARLIER, "action": "close", "confirm_earlier": "on", "earlier_reason": "x"},
    )
    assert page.status_code == 403
    assert not Statement.objects.filter(period=EARLIER).exists()


# -- journal adjustments and reversals ------------------------------------------------------------
def _adjustment(**extra):
    return {
        "period": OPEN,
        "memo": "Late credit note for the October outage",
        "currency": "EUR",
        "customer": "",
        "account_1": "1100",
        "credit_1": "120.00",
        "account_2": "4000",
        "debit_2": "120.00",
        **extra,
    }


@pytest.mark.parametrize("role", ["finance", "admin"])
def test_finance_and_the_admin_post_an_adjustment(users, web_for, role):
    web = web_for(users[role])
    form = web.get(reverse("finance:ledger-adjust"))
    assert form.status_code == 200
    _labelled(form.content.decode())
    before = JournalEntry.objects.count()
    response = web.post(reverse("finance:ledger-adjust"), _adjustment())
    assert response.status_code == 302
    entry = JournalEntry.objects.order_by("-pk").first()
    assert JournalEntry.objects.count() == before + 1
    assert entry.kind == "adjustment" and entry.memo.startswith("Late credit note")
    assert entry.posted_by == users[role]
    sides = {(ln.account.code, ln.debit, ln.credit) for ln in entry.lines.all()}
    assert sides == {("1100", 0, D("120.00")), ("4000", D("120.00"), 0)}


def test_an_adjustment_form_sent_twice_posts_once(users, web_for):
    """A double click or the browser's resend: the form's key posts one entry; a new form (a
    new key) posts a deliberate second one."""
    web = web_for(users["finance"])
    page = web.get(reverse("finance:ledger-adjust")).content.decode()
    assert 'name="request_key"' in page
    before = JournalEntry.objects.count()
    form = _adjustment(request_key="form-1")
    first = web.post(reverse("finance:ledger-adjust"), form)
    second = web.post(reverse("finance:ledger-adjust"), form, follow=True)
    assert first.status_code == 302 and second.status_code == 200
    assert JournalEntry.objects.count() == before + 1
    entry = JournalEntry.objects.order_by("-pk").first()
    assert f"{entry.number} was posted by this form already" in second.content.decode()
    web.post(reverse("finance:ledger-adjust"), _adjustment(request_key="form-2"))
    assert JournalEntry.objects.count() == before + 2


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"debit_2": "100.00"}, "does not balance"),
        ({"account_2": "", "debit_2": ""}, "at least two lines"),
        ({"memo": ""}, "This field is required"),
        ({"debit_2": "", "credit_2": ""}, "enter a debit or a credit"),
        ({"credit_2": "5.00"}, "not both"),
        ({"period": "2026-10"}, "period 2026-10 is closed"),
        ({"period": "2026-13"}, "Use YYYY-MM"),
        ({"debit_2": "-3"}, "greater than or equal to 0"),
    ],
)
def test_a_bad_adjustment_is_refused_with_its_reason_and_writes_nothing(
    users, web_for, extra, message
):
    before = JournalEntry.objects.count()
    response = web_for(users["finance"]).post(
        reverse("finance:ledger-adjust"), _adjustment(**extra)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert JournalEntry.objects.count() == before


def test_an_internal_customers_adjustment_may_not_touch_revenue(users, web_for):
    from servicebook.parties.models import Customer

    marketing = Customer.objects.get(code="marketing")
    before = JournalEntry.objects.count()
    response = web_for(users["finance"]).post(
        reverse("finance:ledger-adjust"), _adjustment(customer=str(marketing.pk))
    )
    assert response.status_code == 200 and "internal customers post to" in response.content.decode()
    assert JournalEntry.objects.count() == before


def test_an_entry_is_reversed_from_its_page_once(users, web_for):
    web = web_for(users["finance"])
    original = JournalEntry.objects.filter(kind="close").first()
    ledger = web.get(reverse("finance:ledger")).content.decode()
    assert reverse("finance:ledger-adjust") in ledger
    entries = web.get(reverse("finance:ledger-entries")).content.decode()
    assert reverse("finance:ledger-entry", args=[original.pk]) in entries
    page = web.get(reverse("finance:ledger-entry", args=[original.pk]))
    assert page.status_code == 200 and "Reverse this entry" in page.content.decode()
    _labelled(page.content.decode())
    refused = web.post(reverse("finance:ledger-entry", args=[original.pk]), {"period": OPEN})
    assert refused.status_code == 200 and not original.reversals.exists()
    closed = web.post(
        reverse("finance:ledger-entry", args=[original.pk]),
        {"period": "2026-10", "reason": "wrong quantity"},
    )
    assert "is closed" in closed.content.decode() and not original.reversals.exists()
    done = web.post(
        reverse("finance:ledger-entry", args=[original.pk]),
        {"period": OPEN, "reason": "wrong quantity"},
    )
    assert done.status_code == 302
    reversal = original.reversals.get()
    assert reversal.memo == f"Reversal of {original.number}: wrong quantity"
    mirror = {(ln.account_id, ln.credit, ln.debit) for ln in original.lines.all()}
    assert {(ln.account_id, ln.debit, ln.credit) for ln in reversal.lines.all()} == mirror
    page = web.get(reverse("finance:ledger-entry", args=[original.pk])).content.decode()
    assert "Reversed by" in page and reversal.number in page and "reverse-form" not in page
    again = web.post(
        reverse("finance:ledger-entry", args=[original.pk]), {"period": OPEN, "reason": "twice"}
    )
    assert again.status_code == 200 and original.reversals.count() == 1


@pytest.mark.parametrize("role", ["manager", "change", "senior", "internal", "external"])
def test_other_roles_are_refused_the_ledger_forms(users, web_for, role):
    web = web_for(users[role])
    entry = JournalEntry.objects.first()
    before = JournalEntry.objects.count()
    assert web.get(reverse("finance:ledger-adjust")).status_code == 403
    assert web.post(reverse("finance:ledger-adjust"), _adjustment()).status_code == 403
    assert web.get(reverse("finance:ledger-entry", args=[entry.pk])).status_code == 403
    response = web.post(
        reverse("finance:ledger-entry", args=[entry.pk]), {"period": OPEN, "reason": "x"}
    )
    assert response.status_code == 403
    assert JournalEntry.objects.count() == before


# -- allocation rules, driver values, price overrides (the costs page) ---------------------------
def _services():
    from servicebook.catalog.models import Service

    return {s.code: s for s in Service.objects.all()}


def test_costs_page_forms_are_labelled_and_offered_to_finance(users, web_for):
    html = web_for(users["finance"]).get(reverse("finance:costs")).content.decode()
    for form in ("rule-form", "driver-form", "override-form"):
        assert f'data-testid="{form}"' in html
    assert ">ui<" not in html and "Entered on this page" in html  # a source in words
    _labelled(html)


def test_manager_reads_the_costs_page_without_its_forms(users, web_for):
    html = web_for(users["manager"]).get(reverse("finance:costs")).content.decode()
    assert 'data-testid="rules"' in html and 'data-testid="overrides"' in html
    assert "rule-form" not in html and "override-form" not in html
    _labelled(html)


def test_a_fixed_rule_is_set_from_the_page(users, web_for):
    from servicebook.finance.costing.models import AllocationRule

    by_code = _services()
    response = web_for(users["finance"]).post(
        reverse("finance:costs"),
        {
            "action": "rule",
            "category": "telecom",
            "driver": "fixed",
            "note": "by lines",
            f"share_{by_code['workplace'].pk}": "60",
            f"share_{by_code['service-desk'].pk}": "30",
            "idle": "10",
        },
        follow=True,
    )
    assert "Allocation rule saved" in response.content.decode()
    rule = AllocationRule.objects.get(category="telecom")
    assert rule.driver == "fixed" and rule.note == "by lines"
    shares = {(s.service.code if s.service else None, s.percent) for s in rule.shares.all()}
    assert shares == {("workplace", D("60")), ("service-desk", D("30")), (None, D("10"))}


@pytest.mark.parametrize(
    "data, message",
    [
        ({"driver": "fixed", "idle": "90"}, "must sum to 100, these sum to 90"),
        ({"driver": "headcount", "idle": "100"}, "only a fixed rule has percentages"),
        ({"driver": "nonsense"}, "Select a valid choice"),
        ({"driver": "fixed", "idle": "-5"}, "greater than or equal to 0"),
    ],
)
def test_a_bad_rule_is_refused_and_the_old_rule_stays(users, web_for, data, message):
    from servicebook.finance.costing.models import AllocationRule

    before = AllocationRule.objects.get(category="hardware")
    shares = set(before.shares.values_list("service_id", "percent"))
    response = web_for(users["finance"]).post(
        reverse("finance:costs"), {"action": "rule", "category": "hardware", **data}, follow=True
    )
    assert message in response.content.decode()
    after = AllocationRule.objects.get(category="hardware")
    assert after.driver == before.driver
    assert set(after.shares.values_list("service_id", "percent")) == shares


def test_driver_values_are_recorded_from_the_page(users, web_for):
    from servicebook.finance.costing.models import DriverValue

    by_code = _services()
    response = web_for(users["finance"]).post(
        reverse("finance:costs"),
        {
            "action": "drivers",
            "period": "2026-11",
            "driver": "tickets",
            f"value_{by_code['workplace'].pk}": "340",
            f"value_{by_code['service-desk'].pk}": "12.5",
        },
        follow=True,
    )
    assert "2 tickets values recorded for 2026-11" in response.content.decode()
    values = DriverValue.objects.filter(period="2026-11", driver="tickets")
    assert {(v.service.code, v.quantity) for v in values} == {
        ("workplace", D("340")),
        ("service-desk", D("12.5")),
    }


@pytest.mark.parametrize(
    "data, message",
    [
        ({"driver": "fixed"}, "Select a valid choice"),
        ({"driver": "tickets", "period": "2026-13"}, "Use YYYY-MM"),
        ({"driver": "tickets"}, "Enter a value for at least one service"),
    ],
)
def test_bad_driver_values_are_refused(users, web_for, data, message):
    from servicebook.finance.costing.models import DriverValue

    before = DriverValue.objects.count()
    response = web_for(users["finance"]).post(
        reverse("finance:costs"), {"action": "drivers", "period": "2026-11", **data}, follow=True
    )
    assert message in response.content.decode()
    assert DriverValue.objects.count() == before


def _a_contract_line():
    from servicebook.agreements.models import AgreementLine

    return (
        AgreementLine.objects.filter(agreement__status="active")
        .select_related("agreement", "offering")
        .order_by("pk")
        .first()
    )


@pytest.mark.parametrize("role", ["finance", "admin"])
def test_a_price_override_is_recorded_with_who_when_and_why(users, web_for, role):
    from servicebook.finance.costing.models import PriceFloorOverride

    line = _a_contract_line()
    PriceFloorOverride.objects.filter(agreement=line.agreement, offering=line.offering).delete()
    response = web_for(users[role]).post(
        reverse("finance:costs"),
        {"action": "override", "line": str(line.pk), "reason": "Loss leader for a 3-year deal"},
        follow=True,
    )
    html = response.content.decode()
    assert "may be priced below cost" in html and "Loss leader for a 3-year deal" in html
    override = PriceFloorOverride.objects.get(agreement=line.agreement, offering=line.offering)
    assert override.recorded_by == users[role] and override.reason.startswith("Loss leader")
    assert str(users[role]) in html


@pytest.mark.parametrize(
    "data, message",
    [({"reason": "  "}, "Reason: This field is required"), ({"line": "999999"}, "valid choice")],
)
def test_an_override_without_a_reason_or_line_is_refused(users, web_for, data, message):
    from servicebook.finance.costing.models import PriceFloorOverride

    line = _a_contract_line()
    before = PriceFloorOverride.objects.count()
    response = web_for(users["finance"]).post(
        reverse("finance:costs"),
        {"action": "override", "line": str(line.pk), "reason": "why", **data},
        follow=True,
    )
    assert message in response.content.decode()
    assert PriceFloorOverride.objects.count() == before


@pytest.mark.parametrize("role", ["manager", "change", "senior"])
def test_other_staff_cannot_set_rules_values_or_overrides(users, web_for, role):
    from servicebook.finance.costing.models import AllocationRule, DriverValue, PriceFloorOverride

    web = web_for(users[role])
    counts = (AllocationRule.objects.count(), DriverValue.objects.count())
    overrides = PriceFloorOverride.objects.count()
    for data in (
        {"action": "rule", "category": "telecom", "driver": "usage"},
        {"action": "drivers", "period": "2026-11", "driver": "tickets"},
        {"action": "override", "line": str(_a_contract_line().pk), "reason": "x"},
    ):
        assert web.post(reverse("finance:costs"), data).status_code == 403
    assert (AllocationRule.objects.count(), DriverValue.objects.count()) == counts
    assert PriceFloorOverride.objects.count() == overrides


@pytest.mark.parametrize("role", ["internal", "external"])
def test_customer_users_never_reach_the_costs_page(users, web_for, role):
    web = web_for(users[role])
    assert web.get(reverse("finance:costs")).status_code == 403
    data = {"action": "rule", "category": "telecom", "driver": "usage"}
    assert web.post(reverse("finance:costs"), data).status_code == 403


def test_the_api_reverses_an_entry_through_the_same_service(users, client_for):
    original = JournalEntry.objects.filter(kind="close").first()
    url = reverse("journalentry-reverse", args=[original.pk])
    for role in ("manager", "change", "internal", "external"):
        assert client_for(users[role]).post(url, {}, format="json").status_code == 403
    api = client_for(users["finance"])
    assert api.post(url, {"period": OPEN}, format="json").status_code == 400
    closed = api.post(url, {"period": "2026-10", "reason": "x"}, format="json")
    assert closed.status_code in (400, 409) and not original.reversals.exists()
    done = api.post(url, {"period": OPEN, "reason": "wrong quantity"}, format="json")
    assert done.status_code == 201 and done.json()["reverses"] == original.pk
    again = api.post(url, {"period": OPEN, "reason": "twice"}, format="json")
    assert again.status_code in (400, 409) and "already reversed" in again.content.decode()
    assert original.reversals.count() == 1
