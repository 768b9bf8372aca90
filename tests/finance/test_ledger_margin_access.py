"""Issue 12: the ledger and the margin reports are for finance and the provider admin only.

Every other role (service, change and senior managers; internal and external customer users) is
refused with 403 and the reason, on the API and on the pages (the refusal page in the layout), and
is never offered a link to them. One answer decides it (``finance.access``, i.e.
``policy.user_may_see_margin``), used by the ledger models' ``visible_to`` too.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from servicebook.finance.billing import access
from servicebook.finance.billing.models import Invoice, Statement
from servicebook.finance.ledger import access as ledger_access
from servicebook.finance.ledger.models import Account, JournalEntry, JournalLine

pytestmark = pytest.mark.django_db

ALLOWED = ("finance", "admin")
REFUSED = ("manager", "change", "senior", "internal", "external")
STAFF_REFUSED = ("manager", "change", "senior")

LEDGER_API = [
    ("account-list", []),
    ("account-detail", ["first-account"]),
    ("account-balances", []),
    ("journalentry-list", []),
    ("journalentry-detail", ["first-entry"]),
    ("journalentry-verify", []),
]
LEDGER_PAGES = ["finance:ledger", "finance:journal-csv"]


def _url(name, args):
    real = []
    for arg in args:
        if arg == "first-account":
            real.append(Account.objects.order_by("pk").first().pk)
        elif arg == "first-entry":
            real.append(JournalEntry.objects.order_by("pk").first().pk)
    return reverse(name, args=real)


@pytest.mark.parametrize("role", REFUSED)
@pytest.mark.parametrize("name, args", LEDGER_API)
def test_ledger_api_is_refused_to_other_roles(users, client_for, role, name, args):
    response = client_for(users[role]).get(_url(name, args))
    assert response.status_code == 403
    assert response.json()["detail"] == ledger_access.LEDGER_REASON


@pytest.mark.parametrize("role", ALLOWED)
@pytest.mark.parametrize("name, args", LEDGER_API)
def test_ledger_api_is_read_by_finance_and_admin(users, client_for, role, name, args):
    assert client_for(users[role]).get(_url(name, args)).status_code == 200


@pytest.mark.parametrize("role", STAFF_REFUSED)
def test_adjustment_by_another_role_is_refused_and_posts_nothing(users, client_for, role):
    before = (JournalEntry.objects.count(), JournalLine.objects.count())
    payload = {
        "period": "2026-11",
        "memo": "not mine to post",
        "lines": [
            {"account": "1000", "debit": "2.00", "currency": "EUR"},
            {"account": "9900", "credit": "2.00", "currency": "EUR"},
        ],
    }
    response = client_for(users[role]).post(reverse("journalentry-adjust"), payload, format="json")
    assert response.status_code == 403
    assert (JournalEntry.objects.count(), JournalLine.objects.count()) == before


@pytest.mark.parametrize("role", REFUSED)
@pytest.mark.parametrize("name", LEDGER_PAGES)
def test_ledger_pages_are_refused_in_the_layout(users, web_for, role, name):
    response = web_for(users[role]).get(reverse(name))
    assert response.status_code == 403
    page = response.content.decode()
    assert ledger_access.LEDGER_REASON in page
    assert 'data-testid="finance-tabs"' not in page and "<nav" in page  # the site's layout
    assert "JE-0" not in page


@pytest.mark.parametrize("role", ALLOWED)
@pytest.mark.parametrize("name", LEDGER_PAGES)
def test_ledger_pages_are_read_by_finance_and_admin(users, web_for, role, name):
    assert web_for(users[role]).get(reverse(name)).status_code == 200


@pytest.mark.parametrize("role", ["manager", "change", "senior", "finance", "admin"])
def test_ledger_tab_is_offered_only_to_those_who_may_read_it(users, web_for, role):
    page = web_for(users[role]).get(reverse("finance:costs")).content.decode()
    link = f'href="{reverse("finance:ledger")}"'
    assert (link in page) == (role in ALLOWED)


@pytest.mark.parametrize("role", [*REFUSED, *ALLOWED])
def test_ledger_visible_to_is_the_same_rule(users, role):
    seen = (
        Account.objects.visible_to(users[role]).exists(),
        JournalEntry.objects.visible_to(users[role]).exists(),
        JournalLine.objects.visible_to(users[role]).exists(),
    )
    assert seen == ((True,) * 3 if role in ALLOWED else (False,) * 3)


def test_document_pages_show_the_posting_to_ledger_readers_only(users, web_for):
    statement = Statement.objects.filter(entry__isnull=False).first()
    invoice = Invoice.objects.filter(entry__isnull=False).first()
    for role, shown in (("manager", False), ("senior", False), ("finance", True)):
        web = web_for(users[role])
        for url, number in (
            (reverse("finance:statement", args=[statement.pk]), statement.entry.number),
            (reverse("finance:invoice", args=[invoice.pk]), invoice.entry.number),
        ):
            assert (f"Posting {number}" in web.get(url).content.decode()) == shown, (role, url)


# --- margins -------------------------------------------------------------------------------------


@pytest.mark.parametrize("report", sorted(access.MARGIN_REPORTS))
@pytest.mark.parametrize("role", REFUSED)
def test_margin_reports_are_refused_to_other_roles(users, client_for, web_for, role, report):
    api = client_for(users[role]).get(reverse("financereport-detail", args=[report]))
    csv = web_for(users[role]).get(reverse("finance:report-csv", args=[report]))
    if role in STAFF_REFUSED:
        assert api.status_code == 403 and api.json()["detail"] == access.MARGIN_REASON
        assert csv.status_code == 403 and access.MARGIN_REASON in csv.content.decode()
    else:  # customer users never reach the finance reports at all
        assert api.status_code in (403, 404) and csv.status_code in (403, 404)
    assert "margin" not in api.content.decode().lower().replace(access.MARGIN_REASON.lower(), "")
    assert b"revenue" not in csv.content.lower()


@pytest.mark.parametrize("report", sorted(access.MARGIN_REPORTS))
@pytest.mark.parametrize("role", ALLOWED)
def test_margin_reports_are_read_by_finance_and_admin(users, client_for, web_for, role, report):
    api = client_for(users[role]).get(reverse("financereport-detail", args=[report]))
    csv = web_for(users[role]).get(reverse("finance:report-csv", args=[report]))
    assert api.status_code == 200 and api.json()["rows"]
    assert csv.status_code == 200 and b"revenue" in csv.content


@pytest.mark.parametrize("role", [*STAFF_REFUSED, *ALLOWED])
def test_report_list_names_only_the_reports_the_user_may_read(users, client_for, role):
    names = set(client_for(users[role]).get(reverse("financereport-list")).json()["reports"])
    assert "funding" in names
    assert (names >= access.MARGIN_REPORTS) == (role in ALLOWED)
    assert bool(access.MARGIN_REPORTS & names) == (role in ALLOWED)


@pytest.mark.parametrize("role", [*STAFF_REFUSED, *ALLOWED])
def test_reports_page_shows_margin_sections_only_to_finance_and_admin(users, web_for, role):
    page = web_for(users[role]).get(reverse("finance:reports")).content.decode()
    assert 'data-testid="report-funding"' in page  # cost reports stay for every staff role
    shown = role in ALLOWED
    assert ('data-testid="report-margin"' in page) == shown
    assert ('data-testid="report-capacity"' in page) == shown
    for report in access.MARGIN_REPORTS:
        assert (reverse("finance:report-csv", args=[report]) in page) == shown
    assert ("margin" in page.lower()) == shown


# --- the schema describes what the ledger API answers --------------------------------------------


def test_schema_describes_balances_verify_and_usage_imports(users, client_for):
    schema = client_for(None).get("/api/schema/?format=json").json()

    def ok(path):
        return schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"][
            "schema"
        ]

    assert ok("/api/accounts/balances/")["type"] == "array"
    verify = schema["components"]["schemas"][
        ok("/api/journal-entries/verify/")["$ref"].split("/")[-1]
    ]
    assert set(verify["properties"]) == {"ok", "entries", "lines", "checks", "violations"}
    assert verify["properties"]["violations"]["type"] == "array"
    body = client_for(users["finance"]).get(reverse("journalentry-verify")).json()
    assert set(body) == set(verify["properties"]) and isinstance(body["violations"], list)
    usage = schema["components"]["schemas"]["UsageImport"]["properties"]
    assert usage["offering_code"].get("nullable") is True
    assert usage["allocation"]["type"] == "object"
    assert usage["effective_totals"]["type"] == "object"
    rows = client_for(users["finance"]).get(reverse("account-balances")).json()
    assert isinstance(rows, list) and rows and isinstance(rows[0]["debit"], str)
