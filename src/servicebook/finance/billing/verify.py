"""``ledger verify``, the documents' part: invoices add up and match their entries, statements
match theirs, payments match theirs and never exceed the invoice.

Added to every ``ledger verify`` from ``FinanceConfig.ready()`` (:data:`CHECKS`).
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Q, Sum

from servicebook.finance.billing.legal_models import CreditNote
from servicebook.finance.billing.models import Invoice, InvoiceLine, Payment, Statement
from servicebook.finance.ledger.verify import chunks, entry_sides

ZERO = Decimal("0.00")


def check_invoices(limit: int) -> list[str]:
    problems: list[str] = []
    sums = {
        row["invoice_id"]: row
        for row in InvoiceLine.objects.values("invoice_id").annotate(
            gross=Sum("amount", filter=Q(kind__in=["subscription", "usage"])),
            credits=Sum("amount", filter=Q(kind="credit")),
            in_kind=Sum("amount", filter=Q(kind="in_kind")),
        )
    }
    invoices = list(
        Invoice.objects.values(
            "pk",
            "number",
            "gross",
            "credits",
            "total",
            "cash_amount",
            "in_kind_amount",
            "entry_id",
            "tax_amount",
            "total_incl_tax",
            "taxes",
        )
    )
    for inv in invoices:
        row = sums.get(inv["pk"], {})
        gross = row.get("gross") or ZERO
        credits = -(row.get("credits") or ZERO)
        if gross != inv["gross"] or credits != inv["credits"]:
            problems.append(f"{inv['number']}: lines do not add up to the invoice")
        if inv["total_incl_tax"] != inv["cash_amount"] + inv["in_kind_amount"]:
            problems.append(f"{inv['number']}: cash + in kind ≠ total including tax")
        if sum((Decimal(t["tax"]) for t in inv["taxes"] or ()), ZERO) != inv["tax_amount"]:
            problems.append(f"{inv['number']}: the tax per rate does not add up to its tax")
        if inv["total"] != 0 and inv["entry_id"] is None:
            problems.append(f"{inv['number']}: not posted")
    posted = [inv for inv in invoices if inv["entry_id"]]
    for chunk in chunks(posted):
        sides = entry_sides([inv["entry_id"] for inv in chunk])
        for inv in chunk:
            s = sides.get(inv["entry_id"], {})
            expected = {
                ("receivable", "debit"): inv["cash_amount"],
                ("in_kind_receivable", "debit"): inv["in_kind_amount"],
                ("service_credits", "debit"): inv["credits"],
                ("revenue", "credit"): inv["gross"],
                ("vat_payable", "credit"): inv["tax_amount"],
            }
            for key, amount in expected.items():
                if s.get(key, ZERO) != amount:
                    problems.append(
                        f"{inv['number']}: {key[0]} {key[1]} {s.get(key, ZERO)} ≠ {amount}"
                    )
    return problems[:limit]


def check_statements(limit: int) -> list[str]:
    problems: list[str] = []
    rows = list(Statement.objects.values("number", "recovered", "uncovered", "posted", "entry_id"))
    for st in rows:
        if st["posted"] and st["entry_id"] is None and (st["recovered"] or st["uncovered"]):
            problems.append(f"{st['number']}: marked posted but has no entry")
        if not st["posted"] and st["entry_id"] is not None:
            problems.append(f"{st['number']}: showback statement has an entry")
    posted = [st for st in rows if st["entry_id"]]
    for chunk in chunks(posted):
        sides = entry_sides([st["entry_id"] for st in chunk])
        for st in chunk:
            s = sides.get(st["entry_id"], {})
            if s.get(("internal_charges", "debit"), ZERO) != st["recovered"]:
                problems.append(f"{st['number']}: cost-centre charge ≠ recovered amount")
            if s.get(("subsidy", "debit"), ZERO) != st["uncovered"]:
                problems.append(f"{st['number']}: subsidy ≠ uncovered amount")
            if s.get(("revenue", "credit"), ZERO):
                problems.append(f"{st['number']}: an internal charge was posted as revenue")
    return problems[:limit]


def check_payments(limit: int) -> list[str]:
    problems: list[str] = []
    paid = {
        row["invoice_id"]: row
        for row in Payment.objects.values("invoice_id").annotate(
            cash=Sum("amount", filter=Q(kind="cash")), kind=Sum("amount", filter=Q(kind="in_kind"))
        )
    }
    for inv in Invoice.objects.filter(
        Q(paid_cash__gt=0) | Q(delivered_in_kind__gt=0) | Q(pk__in=list(paid))
    ).values("pk", "number", "paid_cash", "delivered_in_kind", "cash_amount", "in_kind_amount"):
        row = paid.get(inv["pk"], {})
        if (row.get("cash") or ZERO) != inv["paid_cash"]:
            problems.append(f"{inv['number']}: cash payments ≠ paid cash")
        if (row.get("kind") or ZERO) != inv["delivered_in_kind"]:
            problems.append(f"{inv['number']}: in-kind deliveries ≠ delivered in kind")
        if (
            inv["paid_cash"] > inv["cash_amount"]
            or inv["delivered_in_kind"] > inv["in_kind_amount"]
        ):
            problems.append(f"{inv['number']}: paid more than invoiced")
    payments = list(Payment.objects.values("pk", "kind", "amount", "entry_id"))
    for chunk in chunks(payments):
        sides = entry_sides([p["entry_id"] for p in chunk])
        for p in chunk:
            purpose = "receivable" if p["kind"] == "cash" else "in_kind_receivable"
            if sides.get(p["entry_id"], {}).get((purpose, "credit"), ZERO) != p["amount"]:
                problems.append(f"payment {p['pk']}: its entry does not clear {purpose}")
    return problems[:limit]


def check_credit_notes(limit: int) -> list[str]:
    """Credit notes add up to what their invoices say was credited, and each entry reverses
    revenue and VAT against the receivable (decision 0026)."""
    problems: list[str] = []
    credited = {
        row["invoice_id"]: row
        for row in CreditNote.objects.values("invoice_id").annotate(
            net=Sum("net_amount"), total=Sum("total")
        )
    }
    for inv in Invoice.objects.filter(Q(credited__gt=0) | Q(pk__in=list(credited))).values(
        "pk", "number", "credited", "credited_net", "total"
    ):
        row = credited.get(inv["pk"], {})
        if (row.get("net") or ZERO) != inv["credited_net"] or (row.get("total") or ZERO) != inv[
            "credited"
        ]:
            problems.append(f"{inv['number']}: its credit notes ≠ what it says was credited")
        if inv["credited_net"] > inv["total"]:
            problems.append(f"{inv['number']}: credited more than invoiced")
    notes = list(CreditNote.objects.values("number", "net_amount", "tax_amount", "total", "entry"))
    for chunk in chunks(notes):
        sides = entry_sides([n["entry"] for n in chunk])
        for n in chunk:
            s = sides.get(n["entry"], {})
            expected = {
                ("revenue", "debit"): n["net_amount"],
                ("vat_payable", "debit"): n["tax_amount"],
                ("receivable", "credit"): n["total"],
            }
            for key, amount in expected.items():
                if s.get(key, ZERO) != amount:
                    problems.append(
                        f"{n['number']}: {key[0]} {key[1]} {s.get(key, ZERO)} ≠ {amount}"
                    )
    return problems[:limit]


#: The checks, by the name ``verify()["checks"]`` reports them under.
CHECKS = {
    "invoices_consistent": check_invoices,
    "statements_consistent": check_statements,
    "payments_consistent": check_payments,
    "credit_notes_consistent": check_credit_notes,
}
