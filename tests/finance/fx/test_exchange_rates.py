"""Exchange rates (decision 0025): the ECB import reconciles with reasons, a missing rate is a
refusal naming the pair and the date, the ledger balances per currency and in the base currency
with the rate stored on every line and document, the price floor of a USD contract compares in
EUR at the stored rate, and only finance writes rates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum

from servicebook.agreements.models import Agreement
from servicebook.core.errors import DomainError
from servicebook.core.errors import PermissionDenied as DomainPermissionDenied
from servicebook.finance.billing import services as billing
from servicebook.finance.billing.models import Invoice
from servicebook.finance.costing.selectors import check_price_floor
from servicebook.finance.fx import ecb, services
from servicebook.finance.fx.models import ExchangeRate
from servicebook.finance.fx.selectors import MissingRate, rate_on
from servicebook.finance.ledger import posting
from servicebook.finance.ledger.models import JournalLine
from servicebook.finance.ledger.verify import verify

pytestmark = pytest.mark.django_db

DAILY = "Date, USD, JPY, BGN, CYP, GBP, \n27 November 2026, 1.0500, 160.10, N/A, N/A, 0.8400, \n"
HISTORY = (
    "Date,USD,JPY,GBP,\n"
    "2026-11-27,1.05,160.1,0.84,\n"
    "2026-11-26,abc,-3,N/A,\n"
    "26/11/2026,1.04,159,0.83,\n"
)


def test_ecb_daily_file_is_read_with_its_date_format_and_trailing_comma():
    found = ecb.read_ecb(DAILY, known={"USD", "JPY", "GBP", "BGN"})
    assert [(r.date, r.currency, r.rate) for r in found.rates] == [
        (dt.date(2026, 11, 27), "USD", Decimal("1.050000")),
        (dt.date(2026, 11, 27), "JPY", Decimal("160.100000")),
        (dt.date(2026, 11, 27), "GBP", Decimal("0.840000")),
    ]
    assert found.not_quoted == 1 and found.skipped_columns == ["CYP"]


def test_import_rejects_with_row_field_and_reason_and_reconciles(users):
    result = services.import_ecb_rates(actor=users["finance"], text=HISTORY)
    assert result["read"] == result["imported"] + result["rejected"] == 8
    assert result["imported"] == 3
    reasons = {(r["row"], r["field"]): r["reason"] for r in result["rejects"]}
    assert "'abc' is not a number" in reasons[(3, "USD")]
    assert "not a positive rate" in reasons[(3, "JPY")]
    assert "is not a date" in reasons[(4, "Date")]
    assert ExchangeRate.objects.get(date=dt.date(2026, 11, 27), currency="GBP").rate == Decimal(
        "0.84"
    )


def test_import_rejects_rates_that_round_to_zero_future_days_and_repeated_days(users):
    text = (
        "Date,USD,GBP\n"
        "2026-11-16,0.0000004,0.84\n"  # 0 at six decimals: a reject, not a database error
        "2026-11-17,1.05,0.84\n"
        "2026-11-17,2.05,0.85\n"  # the same day again
        "2999-01-04,1.10,0.90\n"  # no rate is published ahead
    )
    result = services.import_ecb_rates(actor=users["finance"], text=text)
    assert result["read"] == result["imported"] + result["rejected"] == 8
    reasons = {(r["row"], r["field"]): r["reason"] for r in result["rejects"]}
    assert "not a positive rate" in reasons[(2, "USD")]
    assert "in the file already (row 3)" in reasons[(4, "Date")]
    assert "after today" in reasons[(5, "Date")]
    assert ExchangeRate.objects.get(date=dt.date(2026, 11, 17), currency="USD").rate == Decimal(
        "1.05"
    )


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"date": dt.date(2999, 1, 4)}, "after today"),
        ({"base": "GBP"}, "against the base currency EUR"),
        ({"rate": "0.0000001"}, "not a positive rate"),
    ],
)
def test_entered_rates_are_of_days_that_came_against_the_base_currency(users, fields, message):
    entered = {"date": dt.date(2026, 11, 20), "currency": "USD", "rate": "1.1", **fields}
    with pytest.raises(DomainError, match=message):
        services.record_rate(actor=users["finance"], **entered)


def test_a_file_without_a_date_column_is_refused(users):
    with pytest.raises(DomainError, match="first column of the header must be 'Date'"):
        services.import_ecb_rates(actor=users["finance"], text="a,b\n1,2\n")


@pytest.mark.parametrize("role", ["manager", "external", "internal"])
def test_only_finance_writes_rates(users, role):
    before = ExchangeRate.objects.count()
    with pytest.raises(DomainPermissionDenied):
        services.import_ecb_rates(actor=users[role], text=DAILY)
    with pytest.raises(DomainPermissionDenied):
        services.record_rate(actor=users[role], date=dt.date(2026, 11, 30), currency="USD", rate=1)
    assert ExchangeRate.objects.count() == before


@pytest.mark.parametrize("role", ["external", "internal"])
def test_customer_users_cannot_write_rates_through_the_api(users, client_for, role):
    client = client_for(users[role])
    before = ExchangeRate.objects.count()
    entered = client.post(
        "/api/exchange-rates/",
        {"date": "2026-11-30", "currency": "USD", "rate": "1.2"},
        format="json",
    )
    imported = client.post("/api/exchange-rates/import/", {"text": DAILY}, format="json")
    assert entered.status_code == 403 and imported.status_code == 403
    assert ExchangeRate.objects.count() == before
    assert client.get("/api/exchange-rates/").json()["results"] == []


def test_finance_enters_and_imports_rates_through_the_api_and_the_page(users, client_for, web_for):
    client = client_for(users["finance"])
    entered = client.post(
        "/api/exchange-rates/",
        {"date": "2026-11-30", "currency": "USD", "rate": "1.0950"},
        format="json",
    )
    assert entered.status_code == 201, entered.json()
    day = client.get("/api/exchange-rates/on/?currency=USD&date=2026-12-01").json()
    assert day["rate"] == "1.095000" and day["date"] == "2026-11-30"
    imported = client.post("/api/exchange-rates/import/", {"text": HISTORY}, format="json")
    assert imported.status_code == 200 and imported.json()["rejected"] == 5
    page = web_for(users["finance"]).get("/finance/rates/").content.decode()
    assert 'data-testid="latest-rates"' in page and "EUR/USD" in page


def test_missing_rate_is_a_refusal_naming_the_pair_and_the_date():
    ExchangeRate.objects.filter(currency="USD").delete()
    with pytest.raises(MissingRate) as refused:
        rate_on("EUR", "USD", dt.date(2026, 10, 31))
    assert refused.value.message == (
        "No EUR/USD exchange rate on or before 2026-10-31: import the ECB rates or enter one"
    )


def test_close_needing_a_missing_rate_fails_and_changes_nothing(users):
    Agreement.objects.filter(reference="CT-SKY-2026").update(currency="USD")
    ExchangeRate.objects.filter(currency="USD").delete()
    entries = JournalLine.objects.count()
    with pytest.raises(DomainError, match="No EUR/USD exchange rate on or before 2026-11-30"):
        billing.close_period(actor=users["finance"], period="2026-11", today=dt.date(2026, 12, 1))
    assert JournalLine.objects.count() == entries
    assert not Invoice.objects.filter(period="2026-11").exists()


def test_usd_invoices_store_their_rate_and_the_ledger_balances_per_currency_and_in_base():
    invoices = Invoice.objects.filter(customer__code="westlake").order_by("period")
    assert [i.period for i in invoices] == ["2026-03", "2026-09"]
    september = invoices.get(period="2026-09")
    assert september.currency == "USD" and september.base_currency == "EUR"
    assert september.exchange_rate == Decimal("1.1355")  # the ECB's rate of 2026-09-30
    assert september.rate_date == dt.date(2026, 9, 30)
    assert september.base_total == (september.total / september.exchange_rate).quantize(
        Decimal("0.01")
    )
    lines = JournalLine.objects.filter(entry=september.entry)
    assert {line.rate for line in lines} == {september.exchange_rate}
    sums = lines.aggregate(
        d=Sum("debit"), c=Sum("credit"), bd=Sum("base_debit"), bc=Sum("base_credit")
    )
    assert sums["d"] == sums["c"] == september.total
    assert sums["bd"] == sums["bc"] == september.base_total
    result = verify()
    assert result["ok"], result["violations"]
    assert result["checks"]["entries_balance_in_base_currency"] == 0


def test_an_entry_split_over_several_lines_still_balances_in_base(users):
    accounts = posting.accounts()
    spec = posting.EntrySpec(
        period="2026-11",
        date=dt.date(2026, 11, 15),
        kind="adjustment",
        memo="three-way USD split",
        lines=[
            posting.LineSpec(accounts["cash"], "USD", debit=Decimal("33.33")),
            posting.LineSpec(accounts["cash"], "USD", debit=Decimal("33.33")),
            posting.LineSpec(accounts["cash"], "USD", debit=Decimal("33.34")),
            posting.LineSpec(accounts["adjustment"], "USD", credit=Decimal("100.00")),
        ],
        rates={"USD": Decimal("1.3")},
    )
    base = posting.base_amounts(spec, "EUR")
    assert sum(d for _, d, _ in base) == sum(c for _, _, c in base) == Decimal("76.92")


def test_price_floor_of_the_usd_contract_compares_in_eur_at_the_stored_rate():
    agreement = Agreement.objects.get(reference="CT-WST-2026")
    assert check_price_floor(agreement) == []
    line = agreement.lines.get(offering__code="consulting-hour")
    type(line).objects.filter(pk=line.pk).update(unit_price=Decimal("90"))
    problems = check_price_floor(agreement, on=dt.date(2026, 10, 31))
    # USD 3,600 a month = EUR 3,222.34 at 1 EUR = 1.1172 USD (2026-10-30): below its EUR cost
    assert any(
        "priced USD 3600.00 = EUR 3222.34 at 1 EUR = 1.1172 USD of 2026-10-30" in p
        and "below its cost EUR" in p
        for p in problems
    ), problems
