"""R2: the accounts an entry may use are the customer policy's answer, for the close, payments,
adjustments and reversals alike, and ``ledger verify`` checks every posted entry against it."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from servicebook.cli import main
from servicebook.core.errors import DomainError
from servicebook.finance.ledger import posting
from servicebook.finance.ledger import services as ledger_services
from servicebook.finance.ledger.models import JournalEntry, JournalLine
from servicebook.finance.ledger.verify import verify as verify_ledger
from servicebook.parties.models import Customer
from servicebook.policy import POLICIES, LedgerAccount, Posting, policy_for

pytestmark = pytest.mark.django_db
OPEN = "2026-11"
URL = "/api/journal-entries/adjust/"


def _marketing_centre() -> str:
    marketing = Customer.objects.get(code="marketing")
    return posting.cost_centre_accounts({marketing.cost_centre})[marketing.cost_centre].code


def _counts():
    return JournalEntry.objects.count(), JournalLine.objects.count()


def _body(debit_account, credit_account, **extra):
    return {
        "period": OPEN,
        "memo": "move Marketing's charge",
        "lines": [
            {"account": debit_account, "debit": "100.00", "currency": "EUR"},
            {"account": credit_account, "credit": "100.00", "currency": "EUR"},
        ],
        **extra,
    }


def test_policy_answers_are_named_accounts_and_every_close_posting_is_allowed():
    internal, external = POLICIES["internal"], POLICIES["external"]
    assert LedgerAccount.REVENUE not in internal.ledger_accounts
    assert LedgerAccount.RECEIVABLE not in internal.ledger_accounts
    assert {LedgerAccount.INTERNAL_CHARGES, LedgerAccount.SUBSIDY} <= internal.ledger_accounts
    assert LedgerAccount.SUBSIDY not in external.ledger_accounts
    assert LedgerAccount.INTERNAL_CHARGES not in external.ledger_accounts
    for policy in POLICIES.values():
        assert set(policy.posting_accounts.values()) <= policy.ledger_accounts
        assert set(policy.posting_accounts) <= set(Posting)


def test_api_refuses_cost_centre_debit_against_service_revenue(users, client_for):
    before = _counts()
    response = client_for(users["finance"]).post(
        URL, _body(_marketing_centre(), "4000"), format="json"
    )
    assert response.status_code == 400, response.content
    detail = response.json()["detail"]
    assert "Service revenue" in detail and "Internal IT charges" in detail
    assert _counts() == before
    assert verify_ledger()["ok"]


@pytest.mark.parametrize(
    "customer, debit, credit",
    [
        ("marketing", "centre", "4000"),  # cost centre → revenue
        ("marketing", "1100", "7900"),  # a receivable for an internal customer
        ("marketing", "1000", "8900"),  # bank against subsidy
        ("meridian", "1100", "8900"),  # an external customer subsidised
        ("meridian", "centre", "7900"),  # an external customer on a cost centre
    ],
)
def test_adjustment_for_a_customer_uses_only_its_policys_accounts(
    users, client_for, customer, debit, credit
):
    centre = _marketing_centre()
    debit, credit = (centre if a == "centre" else a for a in (debit, credit))
    before = _counts()
    response = client_for(users["finance"]).post(
        URL, _body(debit, credit, customer=customer), format="json"
    )
    assert response.status_code == 400, response.content
    assert "may not use" in response.json()["detail"]  # which account, and why, in words
    assert _counts() == before


def test_allowed_adjustments_post_and_verify_stays_ok(users, client_for):
    client = client_for(users["finance"])
    internal = client.post(
        URL, _body(_marketing_centre(), "7900", customer="marketing"), format="json"
    )
    assert internal.status_code == 201, internal.content
    assert internal.json()["customer"] == Customer.objects.get(code="marketing").pk
    external = client.post(URL, _body("1100", "4000", customer="meridian"), format="json")
    assert external.status_code == 201, external.content
    assert verify_ledger()["ok"]


def test_the_adjustment_api_honours_an_idempotency_key(users, client_for):
    """The same key again answers 200 with the entry it posted; another period under the same
    key, or a key no client makes, is refused and posts nothing."""
    client = client_for(users["finance"])
    body = _body("1100", "4000", customer="meridian")
    before = _counts()
    first = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="adj-1")
    again = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="adj-1")
    assert (first.status_code, again.status_code) == (201, 200), again.content
    assert first.json()["number"] == again.json()["number"]
    assert _counts() == (before[0] + 1, before[1] + 2)
    entry = JournalEntry.objects.get(request_key="adj-1")
    assert entry.number == first.json()["number"] and entry.kind == "adjustment"
    reused = client.post(
        URL, {**body, "period": "2026-12"}, format="json", HTTP_IDEMPOTENCY_KEY="adj-1"
    )
    assert reused.status_code == 400 and "send a new key" in reused.content.decode()
    bad = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="x" * 65)
    assert bad.status_code == 400 and "submission key" in bad.content.decode()
    assert _counts() == (before[0] + 1, before[1] + 2)
    assert "request_key" not in first.json()  # the key is the client's, not a ledger figure
    assert verify_ledger()["ok"]


def test_reversal_goes_through_the_same_rule(users):
    entry = JournalEntry.objects.filter(kind="close", customer__kind="internal").first()
    reversal = ledger_services.reverse_entry(
        actor=users["finance"], entry=entry, period=OPEN, reason="wrong month"
    )
    assert reversal.customer_id == entry.customer_id and verify_ledger()["ok"]


def test_service_refuses_an_entry_for_another_customers_cost_centre(users):
    finance_dept = Customer.objects.get(code="finance-dept")
    before = _counts()
    with pytest.raises(DomainError, match="another customer's cost centre"):
        ledger_services.post_adjustment(
            actor=users["finance"],
            period=OPEN,
            memo="x",
            customer=finance_dept,
            lines=[
                {"account": _marketing_centre(), "debit": "5.00", "currency": "EUR"},
                {"account": "7900", "credit": "5.00", "currency": "EUR"},
            ],
        )
    assert _counts() == before


def test_verify_checks_every_entry_against_the_policy_and_names_it(capsys):
    """An entry that bypassed the service (e.g. written by an older version) is reported."""
    marketing = Customer.objects.get(code="marketing")
    assert policy_for(marketing).kind == "internal"
    accounts = posting.accounts()
    centre = posting.cost_centre_accounts({marketing.cost_centre})[marketing.cost_centre]
    entry = JournalEntry.objects.create(
        period=OPEN, date="2026-11-02", kind="adjustment", memo="bad", customer=marketing
    )
    JournalLine.objects.bulk_create(
        [
            JournalLine(entry=entry, account=centre, debit=D("9.00"), currency="EUR"),
            JournalLine(entry=entry, account=accounts["revenue"], credit=D("9.00"), currency="EUR"),
        ]
    )
    result = verify_ledger()
    assert not result["ok"] and result["checks"]["accounts_allowed_by_policy"] == 1
    (message,) = [v for v in result["violations"] if entry.number in v]
    assert "internal customer Marketing" in message and "4000 Service revenue" in message
    capsys.readouterr()
    assert main(["ledger", "verify"]) == 1
    captured = capsys.readouterr()
    assert entry.number in captured.out + captured.err


def test_verify_flags_a_customerless_entry_mixing_cost_centre_and_revenue():
    accounts = posting.accounts()
    centre = posting.cost_centre_accounts({"CC-4100"})["CC-4100"]
    entry = JournalEntry.objects.create(
        period=OPEN, date="2026-11-02", kind="adjustment", memo="bad"
    )
    JournalLine.objects.bulk_create(
        [
            JournalLine(entry=entry, account=centre, debit=D("9.00"), currency="EUR"),
            JournalLine(entry=entry, account=accounts["revenue"], credit=D("9.00"), currency="EUR"),
        ]
    )
    result = verify_ledger()
    assert any(entry.number in v and "may not mix" in v for v in result["violations"])
