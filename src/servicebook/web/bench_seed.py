"""The data of ``servicebook bench pages`` (issue 14), bulk-inserted into a throwaway database.

For N customers: each with a contact and an active agreement (two lines), 100 tickets, ten
monthly invoices (external) or statements (internal) and a year of ledger entries (one entry of
two lines a month); one change and one demand request per ten customers; and one customer user
of an external and of an internal customer. Rows go in through ``bulk_create`` in chunks, so a
million tickets never sit in memory at once.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

TICKETS_PER_CUSTOMER = 100
PERIODS = [f"2026-{month:02d}" for month in range(1, 11)]  # ten documents a customer
LEDGER_MONTHS = [f"2025-{month:02d}" for month in range(11, 13)] + [
    f"2026-{month:02d}" for month in range(1, 11)
]
CHUNK = 500  # agreements per bulk insert round


def seed(n: int) -> dict:
    from servicebook.agreements.models import Agreement
    from servicebook.finance.billing.bench_close import _seed as seed_agreements

    seeded = seed_agreements(n, 2)
    agreements = list(Agreement.objects.select_related("customer").order_by("pk"))
    requester = _contacts(agreements)
    counts = {"tickets": 0, "invoices": 0, "statements": 0, "journal_entries": 0}
    accounts = _accounts()
    for start in range(0, len(agreements), CHUNK):
        chunk = agreements[start : start + CHUNK]
        counts["tickets"] += _tickets(chunk)
        invoices, statements = _documents(chunk)
        counts["invoices"] += invoices
        counts["statements"] += statements
        counts["journal_entries"] += _ledger(chunk, accounts)
    counts.update(_changes_and_demands(agreements, requester, n))
    return {**seeded, **counts}


def _contacts(agreements) -> dict:
    from servicebook.parties.models import Contact

    contacts = Contact.objects.bulk_create(
        [
            Contact(
                customer=a.customer,
                name=f"Contact {a.customer.code}",
                email=f"{a.customer.code}@bench.example",
                is_requester=True,
            )
            for a in agreements
        ],
        batch_size=5000,
    )
    return {c.customer_id: c for c in contacts}


def _tickets(agreements) -> int:
    from django.utils import timezone

    from servicebook.levels.models import Ticket

    start = timezone.now() - dt.timedelta(days=365)
    rows = [
        Ticket(
            agreement=a,
            source="bench",
            number=f"INC{a.pk:06d}{k:03d}",
            short_description=f"Ticket {k} of {a.reference}",
            state="Resolved" if k % 10 else "New",
            active=not k % 10,
            priority=1 + k % 4,
            opened_at=start + dt.timedelta(hours=80 * k),
            resolved_at=start + dt.timedelta(hours=80 * k + 3) if k % 10 else None,
        )
        for a in agreements
        for k in range(TICKETS_PER_CUSTOMER)
    ]
    Ticket.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def _documents(agreements) -> tuple[int, int]:
    from servicebook.finance.billing.models import Invoice, Statement
    from servicebook.policy import policy_for

    # the close's rule (billing.plan): a charge that is revenue is invoiced, others stated
    invoiced = [a for a in agreements if policy_for(a.customer).charge_is_revenue]
    stated = [a for a in agreements if not policy_for(a.customer).charge_is_revenue]
    invoices = [_invoice(a, i, period) for a in invoiced for i, period in enumerate(PERIODS)]
    statements = [
        Statement(
            number=f"ST-{a.pk:07d}-{i:02d}",
            period=period,
            customer=a.customer,
            funding_model=a.customer.funding_model,
            currency="EUR",
            total_cost=D("400.00"),
            total_charge=D("400.00"),
            recovered=D("400.00"),
            uncovered=D("0.00"),
        )
        for a in stated
        for i, period in enumerate(PERIODS)
    ]
    Invoice.objects.bulk_create(invoices, batch_size=5000)
    Statement.objects.bulk_create(statements, batch_size=5000)
    return len(invoices), len(statements)


def _invoice(agreement, i: int, period: str):
    from servicebook.finance.billing.models import Invoice

    issued = dt.date.fromisoformat(f"{period}-01") + dt.timedelta(days=31)
    return Invoice(
        number=f"INV-{agreement.pk:07d}-{i:02d}",
        period=period,
        customer=agreement.customer,
        agreement=agreement,
        currency="EUR",
        issue_date=issued,
        due_date=issued + dt.timedelta(days=30),
        gross=D("900.00"),
        total=D("900.00"),
        total_incl_tax=D("900.00"),
        cash_amount=D("600.00"),
        in_kind_amount=D("300.00"),
        cost=D("500.00"),
    )


def _accounts() -> tuple:
    from servicebook.finance.ledger.models import Account

    return tuple(
        Account.objects.get_or_create(
            code=code, defaults={"name": name, "type": kind, "purpose": f"bench_{kind}"}
        )[0]
        for code, name, kind in (
            ("BENCH-AR", "Bench receivables", "asset"),
            ("BENCH-REV", "Bench revenue", "income"),
        )
    )


def _ledger(agreements, accounts) -> int:
    from servicebook.finance.ledger.models import JournalEntry, JournalLine

    entries = JournalEntry.objects.bulk_create(
        [
            JournalEntry(
                period=period,
                date=dt.date.fromisoformat(f"{period}-28"),
                kind="close",
                memo=f"Bench {period} {a.reference}",
                customer=a.customer,
                base_currency="EUR",
            )
            for a in agreements
            for period in LEDGER_MONTHS
        ],
        batch_size=5000,
    )
    amount = D("500.00")
    lines = []
    for entry in entries:
        debit, credit = accounts
        common = {"entry": entry, "currency": "EUR", "customer_id": entry.customer_id, "rate": 1}
        lines.append(JournalLine(account=debit, debit=amount, base_debit=amount, **common))
        lines.append(JournalLine(account=credit, credit=amount, base_credit=amount, **common))
    JournalLine.objects.bulk_create(lines, batch_size=5000)
    return len(entries)


def _changes_and_demands(agreements, requester, n: int) -> dict:
    from servicebook.catalog.models import Service
    from servicebook.changes.models import ChangeRequest
    from servicebook.demand.models import DemandRequest

    service = Service.objects.first()
    changes = ChangeRequest.objects.bulk_create(
        ChangeRequest(reference=f"RFC-{i:06d}", title=f"Change {i}", currency="EUR")
        for i in range(max(1, n // 10))
    )
    ChangeRequest.services.through.objects.bulk_create(
        ChangeRequest.services.through(changerequest_id=c.pk, service_id=service.pk)
        for c in changes
    )
    demands = DemandRequest.objects.bulk_create(
        DemandRequest(
            reference=f"DR-{a.pk:06d}",
            customer=a.customer,
            requester=requester[a.customer_id],
            title=f"Demand of {a.customer.name}",
            expected_outcomes="Faster work",
            required_investment=D("10000.00"),
            currency="EUR",
        )
        for a in agreements[::10]
    )
    return {"changes": len(changes), "demands": len(demands)}


def users() -> dict:
    """The provider admin and a user of an external and of an internal customer (the first of
    each kind that has an agreement), by role name."""
    from servicebook.core.models import User
    from servicebook.parties.models import Customer
    from servicebook.parties.services import create_customer_user

    found = {"staff": User.objects.create_superuser("bench-admin", "admin@bench.example", "x")}
    for kind in ("external", "internal"):
        customer = Customer.objects.filter(kind=kind, agreements__isnull=False).first()
        if customer is not None:
            found[kind] = create_customer_user(
                actor=None,
                customer=customer,
                username=f"bench-{kind}",
                password="x",
                contact=customer.contacts.first(),
            )
    return found
