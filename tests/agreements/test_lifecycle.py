"""The contract's whole life (R23, decision 0023): reminders before the notice deadline (once),
renewal into the next term as a new version, expiry, termination notices that respect the
notice period where the policy says it binds, and billing by the dates a version was in force."""

import datetime as dt
import json

import pytest
from django.urls import reverse

from servicebook.agreements.lifecycle import services
from servicebook.agreements.lifecycle.models import RenewalReminder, TerminationNotice
from servicebook.agreements.models import Agreement
from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.core.services import save_validated
from servicebook.finance.billing.plan import build_plan
from servicebook.notifications.models import Notification
from servicebook.parties.models import Contact

D = dt.date


def _active(reference):
    return Agreement.objects.get(reference=reference, status="active")


def _terms(reference, **fields):
    agreement = _active(reference)
    for name, value in fields.items():
        setattr(agreement, name, value)
    save_validated(agreement)
    return agreement


def _billed(period, reference):
    plan = build_plan(period, today=D(2027, 3, 1))
    return [
        doc.agreement.version
        for doc in plan.documents
        if doc.agreement is not None and doc.agreement.reference == reference
    ]


# --- reminders -----------------------------------------------------------------------------------


def test_the_demo_sent_one_reminder_before_the_pacific_notice_deadline(db):
    reminder = RenewalReminder.objects.get()
    assert reminder.agreement.reference == "CT-PAC-2026"
    assert (reminder.deadline, reminder.sent_on) == (D(2026, 11, 1), D(2026, 10, 15))
    told = Notification.objects.filter(kind="renewal")
    assert told.count() == reminder.recipients > 0
    assert "notice deadline 01 Nov 2026" in told.first().subject


def test_a_reminder_is_sent_once_per_deadline_inside_its_window(users):
    retail = _terms("CT-MER-2026", end_date=D(2027, 3, 31), termination_notice_days=30)
    assert services.notice_deadline(retail) == D(2027, 3, 1)
    before = Notification.objects.filter(kind="renewal").count()
    assert services.run_renewals(on=D(2027, 1, 15)).reminded == []  # before the window
    assert services.run_renewals(on=D(2027, 2, 10)).reminded == ["CT-MER-2026"]
    assert services.run_renewals(on=D(2027, 2, 11)).reminded == []  # idempotent
    assert services.run_renewals(on=D(2027, 2, 10)).reminded == []
    assert RenewalReminder.objects.filter(agreement=retail).count() == 1
    told = Notification.objects.filter(kind="renewal")
    assert told.count() > before
    assert told.filter(recipient=users["manager"], subject__contains="CT-MER-2026").count() == 1


def test_no_reminder_once_notice_was_given(users):
    retail = _terms("CT-MER-2026", end_date=D(2027, 3, 31), termination_notice_days=30)
    services.give_notice(
        actor=users["manager"], agreement=retail, given_by="provider", reason="x", on=D(2027, 1, 5)
    )
    assert services.run_renewals(on=D(2027, 2, 10)).reminded == []


# --- renewal and expiry --------------------------------------------------------------------------


def test_auto_renewal_creates_the_next_term_as_a_new_version_once(db):
    run = services.run_renewals(on=D(2027, 1, 2))
    assert run.renewed == ["CT-PAC-2026 v1"]
    old, new = Agreement.objects.filter(reference="CT-PAC-2026").order_by("version")
    assert (old.status, old.end_date) == ("expired", D(2026, 12, 31))
    assert (new.status, new.version, new.previous_id) == ("active", 2, old.pk)
    assert (new.start_date, new.end_date) == (D(2027, 1, 1), D(2027, 12, 31))
    assert new.lines.count() == old.lines.count() > 0
    assert new.events.filter(action="renewal").exists()
    again = services.run_renewals(on=D(2027, 1, 3))
    assert again.renewed == again.expired == []
    assert Agreement.objects.filter(reference="CT-PAC-2026").count() == 2


def test_an_agreement_without_auto_renewal_expires_and_its_charges_end(db):
    _terms("CT-MER-2026", end_date=D(2026, 11, 30), auto_renew=False)
    assert services.run_renewals(on=D(2026, 12, 1)).expired == ["CT-MER-2026 v1"]
    assert Agreement.objects.get(reference="CT-MER-2026").status == "expired"
    # the month it ended in is still charged when closed after the expiry; never after it
    assert _billed("2026-11", "CT-MER-2026") == [1]
    assert _billed("2026-12", "CT-MER-2026") == []


def test_billing_charges_each_month_to_the_version_in_force(db):
    services.run_renewals(on=D(2027, 1, 2))
    assert _billed("2026-12", "CT-PAC-2026") == [1]
    assert _billed("2027-01", "CT-PAC-2026") == [2]


def test_a_renewal_by_hand_is_a_draft_of_the_next_term(users):
    pacific = _active("CT-PAC-2026")
    with pytest.raises(PermissionDenied):
        services.renew_agreement(actor=users["finance"], agreement=pacific)
    new = services.renew_agreement(actor=users["manager"], agreement=pacific)
    assert (new.status, new.start_date, new.end_date) == ("draft", D(2027, 1, 1), D(2027, 12, 31))
    with pytest.raises(DomainError, match="already has a next version"):
        services.renew_agreement(actor=users["manager"], agreement=pacific)


# --- termination notices -------------------------------------------------------------------------


def test_a_contract_notice_inside_the_notice_period_is_refused(users):
    retail = _terms("CT-MER-2026", termination_notice_days=30)
    with pytest.raises(DomainError, match=r"requires 30 days' notice.*2026-12-01 at the earliest"):
        services.give_notice(
            actor=users["manager"],
            agreement=retail,
            given_by="provider",
            reason="Ending the store programme",
            effective=D(2026, 11, 15),
            on=D(2026, 11, 1),
        )
    retail.refresh_from_db()
    assert retail.end_date == D(2028, 12, 31)
    assert not TerminationNotice.objects.exists()


def test_a_notice_ends_the_agreement_on_its_date_and_stops_auto_renewal(users):
    retail = _terms("CT-MER-2026", termination_notice_days=30, auto_renew=True, renewal_months=12)
    katrin = Contact.objects.get(name="Katrin Vogel")
    notice = services.give_notice(
        actor=users["manager"],
        agreement=retail,
        given_by="customer",
        contact=katrin,
        reason="Stores move to another provider",
        effective=D(2026, 12, 31),
        on=D(2026, 11, 1),
    )
    assert (notice.given_by, notice.contact, notice.effective) == (
        "customer",
        katrin,
        D(2026, 12, 31),
    )
    retail.refresh_from_db()
    assert retail.end_date == D(2026, 12, 31)
    with pytest.raises(DomainError, match="gave notice"):
        services.renew_agreement(actor=users["manager"], agreement=retail)
    run = services.run_renewals(on=D(2027, 1, 1))
    assert "CT-MER-2026 v1" in run.terminated
    assert Agreement.objects.filter(reference="CT-MER-2026").count() == 1
    assert Agreement.objects.get(reference="CT-MER-2026").status == "terminated"


def test_without_a_date_notice_ends_the_term_or_the_earliest_day(users):
    retail = _terms("CT-MER-2026", termination_notice_days=30)
    notice = services.give_notice(
        actor=users["manager"], agreement=retail, given_by="provider", reason="x", on=D(2026, 11, 1)
    )
    assert notice.effective == D(2028, 12, 31)  # in time for the end of the term


def test_notice_cannot_end_after_the_term_and_needs_an_authorized_customer(users):
    retail = _terms("CT-MER-2026", termination_notice_days=30)
    common = {"actor": users["manager"], "agreement": retail, "reason": "x", "on": D(2026, 11, 1)}
    with pytest.raises(DomainError, match="current term ends on 2028-12-31"):
        services.give_notice(given_by="provider", effective=D(2029, 6, 30), **common)
    with pytest.raises(DomainError, match="name the contact"):
        services.give_notice(given_by="customer", **common)
    requester = Contact.objects.filter(customer=retail.customer, is_approver=False).first()
    if requester is not None:
        with pytest.raises(DomainError, match="not an active approver"):
            services.give_notice(given_by="customer", contact=requester, **common)
    marc = Contact.objects.get(name="Marc Lefèvre")
    with pytest.raises(DomainError, match="not a contact of Meridian"):
        services.give_notice(given_by="customer", contact=marc, **common)
    with pytest.raises(PermissionDenied):
        services.give_notice(**{**common, "actor": users["finance"]}, given_by="provider")
    assert not TerminationNotice.objects.exists()


def test_an_internal_agreement_ends_on_any_date_the_notice_period_does_not_bind(users):
    sla = _terms("SLA-MKT-2026", termination_notice_days=90)
    notice = services.give_notice(
        actor=users["manager"],
        agreement=sla,
        given_by="customer",
        contact=Contact.objects.get(name="Clara Dupont"),
        reason="Marketing merges into Sales",
        effective=D(2026, 11, 2),
        on=D(2026, 11, 1),
    )
    assert notice.effective == D(2026, 11, 2)


# --- web, API, CLI -------------------------------------------------------------------------------


def test_the_agreement_page_shows_the_term_and_records_a_notice(users, web_for):
    pacific = _active("CT-PAC-2026")
    web = web_for(users["manager"])
    page = web.get(reverse("agreements:detail", args=[pacific.pk])).content.decode()
    assert 'data-testid="notice-deadline"' in page and "reminder sent" in page
    assert 'data-testid="renew"' in page and 'data-testid="give-notice"' in page
    response = web.post(
        reverse("agreements:notice", args=[pacific.pk]),
        {"given_by": "provider", "reason": "Platform retired", "given_on": "2026-11-20"},
    )
    assert response.status_code == 200  # refused: after the deadline, 60 days before the end
    assert "after the notice deadline 2026-11-01" in response.content.decode()
    assert "renews automatically" in response.content.decode()
    response = web.post(
        reverse("agreements:notice", args=[pacific.pk]),
        {"given_by": "provider", "reason": "Platform retired", "given_on": "2026-10-20"},
    )
    assert response.status_code == 302
    page = web.get(reverse("agreements:detail", args=[pacific.pk])).content.decode()
    assert 'data-testid="termination-notice"' in page and "Platform retired" in page


def test_the_renew_button_drafts_the_next_version(users, web_for):
    pacific = _active("CT-PAC-2026")
    response = web_for(users["manager"]).post(reverse("agreements:renew", args=[pacific.pk]))
    new = Agreement.objects.get(reference="CT-PAC-2026", version=2)
    assert response.status_code == 302 and response["Location"].endswith(f"/{new.pk}/")


def test_the_api_shows_the_term_and_refuses_customers_notices(users, client_for):
    pacific = _active("CT-PAC-2026")
    staff = client_for(users["manager"])
    term = staff.get(reverse("agreement-term", args=[pacific.pk])).json()
    assert term["notice_deadline"] == "2026-11-01" and term["auto_renew"] is True
    assert term["reminders"][0]["sent_on"] == "2026-10-15"
    external = client_for(users["external"])
    assert external.get(reverse("agreement-term", args=[pacific.pk])).status_code == 404
    sky = _active("CT-SKY-2026")
    assert external.get(reverse("agreement-term", args=[sky.pk])).status_code == 200
    body = {"given_by": "customer", "reason": "x"}
    assert external.post(reverse("agreement-notice", args=[sky.pk]), body).status_code == 403
    assert (
        client_for(users["finance"]).post(reverse("agreement-renew", args=[pacific.pk])).status_code
        == 403
    )
    refused = staff.post(
        reverse("agreement-notice", args=[pacific.pk]),
        {
            "given_by": "provider",
            "reason": "x",
            "given_on": "2026-12-01",
            "effective": "2026-12-15",
        },
        format="json",
    )
    assert refused.status_code == 400 and refused.json()["code"] == "notice_too_short"
    renewed = staff.post(reverse("agreement-renew", args=[pacific.pk]))
    assert renewed.status_code == 201 and renewed.json()["version"] == 2
    assert not TerminationNotice.objects.exists()


def test_the_renewals_command(db, capsys):
    from servicebook.cli import main

    assert main(["agreements", "renewals", "--on", "2027-01-02", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["renewed"] == ["CT-PAC-2026 v1"] and summary["on"] == "2027-01-02"
    assert main(["agreements", "renewals", "--on", "2027-01-02"]) == 0
    assert "0 renewed" in capsys.readouterr().out
    assert main(["agreements", "renewals", "--on", "tomorrow"]) != 0
    assert "YYYY-MM-DD" in capsys.readouterr().err
