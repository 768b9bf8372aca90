"""The service level settings pages (issue 18): targets, credit tiers and change clauses on a
draft agreement, business calendars with their 14-day preview. Every save goes through the same
service as the API; the forms appear only where the service would accept them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.urls import reverse

from servicebook.agreements import services
from servicebook.agreements.models import Agreement, Calendar, ServiceLevelTarget
from servicebook.agreements.preview import preview
from servicebook.parties.models import Customer


@pytest.fixture
def draft(users):
    def make(code):
        return services.create_agreement(
            actor=users["manager"],
            customer=Customer.objects.get(code=code),
            reference=f"SET-{code}",
            title="Settings",
            start_date=dt.date(2026, 1, 1),
        )

    return make


def _target(users, agreement):
    return services.add_target(
        actor=users["manager"],
        agreement=agreement,
        metric="resolution_time",
        priority=1,
        threshold_minutes=240,
        attainment_percent=D("95"),
        calendar=Calendar.objects.get(name="Paris office hours"),
    )


TARGET_POST = {
    "metric": "resolution_time",
    "priority": "2",
    "threshold_minutes": "480",
    "attainment_percent": "90",
}


# --- the agreement page offers only what the service accepts ---------------------------------


def test_a_draft_contract_offers_targets_credits_and_clauses(users, web_for, draft):
    contract = draft("meridian")
    _target(users, contract)
    html = web_for(users["manager"]).get(reverse("agreements:detail", args=[contract.pk]))
    html = html.content.decode()
    assert 'data-testid="add-target"' in html
    assert 'data-testid="set-credit-tiers"' in html
    assert 'data-testid="add-clause"' in html


def test_an_internal_draft_offers_targets_but_no_credits_or_clauses(users, web_for, draft):
    sla = draft("hr")
    _target(users, sla)
    html = web_for(users["manager"]).get(reverse("agreements:detail", args=[sla.pk]))
    html = html.content.decode()
    assert 'data-testid="add-target"' in html
    assert "set-credit-tiers" not in html and "add-clause" not in html


@pytest.mark.parametrize("role", ["finance", "external"])
def test_no_settings_offered_to_who_may_not_edit(users, web_for, role):
    own = Agreement.objects.get(reference="CT-SKY-2026")
    html = web_for(users[role]).get(reverse("agreements:detail", args=[own.pk])).content.decode()
    assert "add-target" not in html and "set-credit-tiers" not in html


def test_an_active_agreement_offers_no_settings(users, web_for):
    active = Agreement.objects.get(reference="CT-MER-2026", status="active")
    html = web_for(users["manager"]).get(reverse("agreements:detail", args=[active.pk]))
    assert b"add-target" not in html.content and b"set-credit-tiers" not in html.content


# --- targets ----------------------------------------------------------------------------------


def test_add_a_target_from_the_page(users, web_for, draft):
    contract = draft("meridian")
    paris = Calendar.objects.get(name="Paris office hours")
    url = reverse("agreements:target-create", args=[contract.pk])
    client = web_for(users["manager"])
    page = client.get(url).content.decode()
    assert '<label class="form-label" for="id_metric">What is measured</label>' in page
    assert "Resolution time" in page and "resolution_time</option>" not in page
    response = client.post(url, {**TARGET_POST, "calendar": paris.pk})
    assert response.status_code == 302
    target = contract.targets.get()
    assert (target.priority, target.threshold_minutes, target.calendar) == (2, 480, paris)
    assert contract.events.filter(action="target_added").exists()


def test_an_invalid_target_is_refused_with_the_services_reasons(users, web_for, draft):
    contract = draft("meridian")
    paris = Calendar.objects.get(name="Paris office hours")
    url = reverse("agreements:target-create", args=[contract.pk])
    post = {**TARGET_POST, "priority": "", "threshold_minutes": "", "calendar": paris.pk}
    response = web_for(users["manager"]).post(url, post)
    assert response.status_code == 200
    html = response.content.decode()
    assert "response and resolution targets are per priority" in html
    assert "need a threshold" in html
    assert not contract.targets.exists()
    response = web_for(users["manager"]).post(url, {**TARGET_POST, "attainment_percent": "140"})
    assert response.status_code == 200 and not contract.targets.exists()


def test_a_customer_user_is_refused(users, web_for):
    own = Agreement.objects.get(reference="CT-SKY-2026")
    client = web_for(users["external"])
    url = reverse("agreements:target-create", args=[own.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, TARGET_POST).status_code == 403
    target = own.targets.first()
    url = reverse("agreements:credit-tiers", args=[target.pk])
    before = list(target.credit_tiers.values_list("below_percent", "credit_percent"))
    assert client.post(url, {"tiers-TOTAL_FORMS": "0"}).status_code == 403
    assert list(target.credit_tiers.values_list("below_percent", "credit_percent")) == before


def test_a_non_draft_agreement_is_refused(users, web_for):
    active = Agreement.objects.get(reference="CT-MER-2026", status="active")
    client = web_for(users["manager"])
    url = reverse("agreements:target-create", args=[active.pk])
    page = client.get(url).content.decode()
    assert 'data-testid="settings-refusal"' in page and "<form" not in page.split("<main")[-1]
    count = active.targets.count()
    paris = Calendar.objects.get(name="Paris office hours")
    response = client.post(url, {**TARGET_POST, "calendar": paris.pk})
    assert response.status_code == 200
    assert "cannot be edited" in response.content.decode()
    assert active.targets.count() == count


# --- credit tiers -----------------------------------------------------------------------------


def _tiers(*rows, total=3):
    data = {"tiers-TOTAL_FORMS": str(total), "tiers-INITIAL_FORMS": "0"}
    for index, (below, credit) in enumerate(rows):
        data[f"tiers-{index}-below_percent"] = below
        data[f"tiers-{index}-credit_percent"] = credit
    return data


def test_set_credit_tiers_from_the_page(users, web_for, draft):
    target = _target(users, draft("meridian"))
    url = reverse("agreements:credit-tiers", args=[target.pk])
    client = web_for(users["manager"])
    page = client.get(url).content.decode()
    assert "Tier 1: attainment below (%)" in page
    response = client.post(url, _tiers(("95", "5"), ("90", "10")))
    assert response.status_code == 302
    assert [str(t) for t in target.credit_tiers.all()] == [
        "below 95.000%: 5.00% credit",
        "below 90.000%: 10.00% credit",
    ]
    page = client.get(url).content.decode()
    assert 'value="95.000"' in page  # the schedule opens filled in


def test_invalid_credit_tiers_change_nothing(users, web_for, draft):
    target = _target(users, draft("meridian"))
    services.set_credit_tiers(actor=users["manager"], target=target, tiers=[(D("95"), D("5"))])
    url = reverse("agreements:credit-tiers", args=[target.pk])
    client = web_for(users["manager"])
    response = client.post(url, _tiers(("95", "10"), ("90", "5")))  # lower earns less
    assert response.status_code == 200
    assert "at least the same credit" in response.content.decode()
    response = client.post(url, _tiers(("95", "")))  # half a tier
    assert "needs both" in response.content.decode()
    assert [str(t) for t in target.credit_tiers.all()] == ["below 95.000%: 5.00% credit"]


def test_an_internal_agreement_earns_no_credits(users, web_for, draft):
    target = _target(users, draft("hr"))
    url = reverse("agreements:credit-tiers", args=[target.pk])
    client = web_for(users["manager"])
    page = client.get(url).content.decode()
    assert "earns no service credits" in page and "credit-tiers-form" not in page
    response = client.post(url, _tiers(("95", "5")))
    assert response.status_code == 200
    assert "not service level agreements" in response.content.decode()
    assert not target.credit_tiers.exists()


# --- change clauses ---------------------------------------------------------------------------


def test_add_a_change_clause(users, web_for, draft):
    contract = draft("meridian")
    url = reverse("agreements:clause-create", args=[contract.pk])
    client = web_for(users["manager"])
    page = client.get(url).content.decode()
    assert "Major changes (normal and emergency)" in page and ">major<" not in page
    response = client.post(
        url,
        {"scope": "emergency", "notice_days": "2", "repricing": "quote", "text": "Emergencies."},
    )
    assert response.status_code == 302
    clause = contract.clauses.get()
    assert (clause.scope, clause.requires_approval, clause.notice_days) == ("emergency", False, 2)
    response = client.post(url, {"scope": "sometimes", "notice_days": "-1", "repricing": "none"})
    assert response.status_code == 200 and contract.clauses.count() == 1


def test_an_internal_agreement_has_no_change_clauses(users, web_for, draft):
    sla = draft("hr")
    url = reverse("agreements:clause-create", args=[sla.pk])
    client = web_for(users["manager"])
    assert "co-authorizes each change" in client.get(url).content.decode()
    response = client.post(url, {"scope": "major", "notice_days": "10", "repricing": "none"})
    assert response.status_code == 200 and not sla.clauses.exists()


# --- calendars --------------------------------------------------------------------------------

CALENDAR_POST = {
    "name": "Munich support",
    "time_zone": "Europe/Berlin",
    "holiday_country": "DE",
    "holiday_subdivision": "DE:BY",
    "own_dates": "2026-12-24 Christmas Eve\n2026-12-31",
    **{f"day{day}_start": "08:00" for day in range(5)},
    **{f"day{day}_end": "12:00" for day in range(5)},
    **{f"day{day}_start2": "13:00" for day in range(5)},
    **{f"day{day}_end2": "17:00" for day in range(5)},
}


def test_create_a_calendar(users, web_for):
    client = web_for(users["manager"])
    page = client.get(reverse("agreements:calendar-create")).content.decode()
    assert '<option value="DE">Germany</option>' in page
    assert "Bayern (BY)" in page and '<label class="visually-hidden" for="id_day0_start">' in page
    response = client.post(reverse("agreements:calendar-create"), CALENDAR_POST)
    assert response.status_code == 302
    calendar = Calendar.objects.get(name="Munich support")
    assert calendar.windows["0"] == [["08:00", "12:00"], ["13:00", "17:00"]]
    assert "5" not in calendar.windows
    assert (calendar.holiday_country, calendar.holiday_subdivision) == ("DE", "BY")
    assert calendar.extra_holidays == ["2026-12-24", "2026-12-31"]
    assert calendar.holiday_names == {"2026-12-24": "Christmas Eve"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"day0_end": ""}, "needs a time it opens and a time it closes"),
        ({"day0_end": "25:00"}, "is not a time HH:MM"),
        ({"day0_start2": "11:00"}, "overlap"),
        ({"day0_start": "12:30"}, "windows: "),
        ({"holiday_subdivision": "FR:57"}, "not in the country chosen"),
        ({"own_dates": "24/12/2026 Christmas Eve"}, "line 1: &#x27;24/12/2026&#x27; is not a date"),
    ],
)
def test_an_invalid_calendar_is_refused(users, web_for, change, message):
    response = web_for(users["manager"]).post(
        reverse("agreements:calendar-create"), {**CALENDAR_POST, **change}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Calendar.objects.filter(name="Munich support").exists()


def test_edit_a_calendar_opens_filled_in_and_saves(users, web_for):
    paris = Calendar.objects.get(name="Paris office hours")
    url = reverse("agreements:calendar-edit", args=[paris.pk])
    client = web_for(users["manager"])
    page = client.get(url).content.decode()
    assert 'value="08:00"' in page and '<option value="FR" selected>France</option>' in page
    data = {**CALENDAR_POST, "name": "Paris office hours", "time_zone": "Europe/Paris"}
    data.update(holiday_country="FR", holiday_subdivision="", own_dates="2026-08-14 Bridge day")
    assert client.post(url, data).status_code == 302
    paris.refresh_from_db()
    assert paris.extra_holidays == ["2026-08-14"] and paris.holiday_names["2026-08-14"]


@pytest.mark.parametrize("role", ["finance", "internal", "external"])
def test_calendars_are_changed_by_service_managers_only(users, web_for, role):
    paris = Calendar.objects.get(name="Paris office hours")
    client = web_for(users[role])
    assert client.post(reverse("agreements:calendar-create"), CALENDAR_POST).status_code == 403
    url = reverse("agreements:calendar-edit", args=[paris.pk])
    assert client.post(url, CALENDAR_POST).status_code in (403, 404)
    assert not Calendar.objects.filter(name="Munich support").exists()


def test_the_preview_of_a_known_calendar_with_a_holiday(users):
    calendar = services.create_calendar(
        actor=users["manager"],
        name="Preview",
        time_zone="Europe/Paris",
        windows={str(day): [["08:00", "12:00"], ["13:00", "17:00"]] for day in range(5)},
        holiday_country="FR",
        extra_holidays=["2026-12-28"],
        holiday_names={"2026-12-28": "Inventory day"},
    )
    days = preview(calendar, dt.date(2026, 12, 21))
    assert len(days) == 14
    by_day = {d.day.isoformat(): d for d in days}
    assert by_day["2026-12-21"].status == "08:00–12:00, 13:00–17:00"
    assert by_day["2026-12-21"].hours == D("8.00")
    assert by_day["2026-12-25"].status == "holiday: Christmas Day"
    assert by_day["2026-12-25"].hours == 0
    assert by_day["2026-12-26"].status == "closed"  # a Saturday
    assert by_day["2026-12-28"].status == "holiday: Inventory day"
    assert by_day["2027-01-01"].status == "holiday: New Year's Day"
    assert sum(d.hours for d in days) == 8 * 7  # ten weekdays, three of them closed


def test_the_calendar_page_shows_the_preview(users, web_for):
    always = Calendar.objects.get(name="24×7")
    url = reverse("agreements:calendar", args=[always.pk])
    response = web_for(users["manager"]).get(url, {"start": "2026-03-28"})
    html = response.content.decode()
    assert "00:00–24:00" in html
    days = response.context["days"]
    assert [d.day for d in days][:2] == [dt.date(2026, 3, 28), dt.date(2026, 3, 29)]
    assert html.count('<td>00:00–24:00</td><td class="money">24</td>') == 14
    assert web_for(users["manager"]).get(url, {"start": "not-a-date"}).status_code == 200


def test_the_calendar_list(users, web_for):
    html = web_for(users["manager"]).get(reverse("agreements:calendars")).content.decode()
    assert "Paris office hours" in html and "France" in html and "New calendar" in html
    html = web_for(users["external"]).get(reverse("agreements:calendars")).content.decode()
    assert "Paris office hours" in html and "Berlin office hours" not in html
    assert "New calendar" not in html


def test_targets_created_on_the_page_match_the_api(users, web_for, draft):
    """The same service: a target made on the page reads back through the API unchanged."""
    contract = draft("meridian")
    paris = Calendar.objects.get(name="Paris office hours")
    web_for(users["manager"]).post(
        reverse("agreements:target-create", args=[contract.pk]),
        {**TARGET_POST, "calendar": paris.pk},
    )
    target = ServiceLevelTarget.objects.get(agreement=contract)
    assert str(target) == "P2 resolution time ≤ 8 h for 90.000%"


def test_the_api_reads_and_writes_the_own_dates_names(users, client_for):
    client = client_for(users["manager"])
    response = client.post(
        reverse("calendar-list"),
        {
            "name": "API calendar",
            "time_zone": "UTC",
            "windows": {"0": [["09:00", "17:00"]]},
            "extra_holidays": ["2026-05-04"],
            "holiday_names": {"2026-05-04": "Founders' day"},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["holiday_names"] == {"2026-05-04": "Founders' day"}
    response = client.post(
        reverse("calendar-list"),
        {"name": "Bad names", "time_zone": "UTC", "windows": {}, "holiday_names": ["x"]},
        format="json",
    )
    assert response.status_code == 400 and "holiday_names" in response.content.decode()


def test_the_calendar_list_says_the_working_week_in_runs(users, web_for):
    html = web_for(users["manager"]).get(reverse("agreements:calendars")).content.decode()
    assert "Mon–Fri 08:00–12:00, 13:00–17:00" in html and "Mon–Sun 00:00–24:00" in html


def test_targets_tiers_and_clauses_refuse_what_makes_no_sense(users):
    import datetime as dt
    from decimal import Decimal as D

    import pytest as _pytest
    from django.core.exceptions import ValidationError

    from servicebook.agreements import services
    from servicebook.agreements.models import Calendar
    from servicebook.core.errors import DomainError
    from servicebook.parties.models import Customer

    manager = users["manager"]
    draft = services.create_agreement(
        actor=manager,
        customer=Customer.objects.get(code="skybridge"),
        reference="CT-SKY-TEST",
        title="Checks",
        start_date=dt.date(2027, 1, 1),
    )
    calendar = Calendar.objects.first()
    target = services.add_target(
        actor=manager,
        agreement=draft,
        metric="resolution_time",
        priority=1,
        threshold_minutes=240,
        attainment_percent=D("95"),
        calendar=calendar,
    )
    with _pytest.raises(DomainError, match="already has a target"):
        services.add_target(
            actor=manager,
            agreement=draft,
            metric="resolution_time",
            priority=1,
            threshold_minutes=480,
            attainment_percent=D("90"),
            calendar=calendar,
        )
    with _pytest.raises(DomainError, match="a year"):
        services.add_target(
            actor=manager,
            agreement=draft,
            metric="resolution_time",
            priority=2,
            threshold_minutes=99_999_999,
            attainment_percent=D("90"),
            calendar=calendar,
        )
    with _pytest.raises(ValidationError, match="meets the target earns no credit"):
        services.set_credit_tiers(actor=manager, target=target, tiers=[(D("99"), D("5"))])
    services.add_change_clause(actor=manager, agreement=draft, scope="major", text="Approval.")
    with _pytest.raises(DomainError, match="already"):
        services.add_change_clause(actor=manager, agreement=draft, scope="major", text="Approval.")
    with _pytest.raises(DomainError, match="366"):
        services.add_change_clause(actor=manager, agreement=draft, notice_days=99_999_999)


def test_a_preview_start_that_is_not_a_date_is_said_not_ignored(web_for, users):
    from servicebook.agreements.models import Calendar

    calendar = Calendar.objects.first()
    page = web_for(users["manager"]).get(f"/agreements/calendars/{calendar.pk}/?start=2026-02-30")
    assert page.status_code == 200
    assert "is not a date from 1971 to 2999" in page.content.decode()
    fine = web_for(users["manager"]).get(f"/agreements/calendars/{calendar.pk}/?start=2026-12-21")
    assert "is not a date" not in fine.content.decode()
