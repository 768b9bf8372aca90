"""VAT on invoices (decision 0026): which regime a sale falls under, which rate applies to each
line, the tax per rate, and the legal mentions an invoice must print.

- Internal statements carry no tax: they are transfers inside one organization, not sales
  (``policy.charges_tax``, decided in ``servicebook.policy``).
- A business customer with a valid VAT number of *another* EU member state than the provider's:
  **reverse charge** (no VAT charged, category AE, with the Article 196 mention).
- A business customer established outside the EU, served by a provider in the EU: the supply is
  outside the scope of EU VAT (Article 44; category O).
- Otherwise the provider's home jurisdiction taxes the line at the rate of the service's kind
  (standard, reduced, exempt) valid on the last day of the supply. No valid rate is a refusal
  naming the jurisdiction, kind and date -- never a silent 0.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from enum import StrEnum

from django.db import transaction
from django.db.models import Q

from servicebook.catalog.models import Service, TaxKind
from servicebook.core.errors import DomainError
from servicebook.core.money import round_money
from servicebook.core.services import require_role, save_validated
from servicebook.finance.billing.legal_models import TaxRate
from servicebook.finance.billing.models import LineKind
from servicebook.finance.ledger.services import FINANCE
from servicebook.parties.legal import EU_MEMBER_STATES, vat_country
from servicebook.policy import policy_for

REVERSE_CHARGE_MENTION = (
    "Reverse charge: VAT to be accounted for by the recipient, "
    "Article 196 Council Directive 2006/112/EC"
)
OUTSIDE_SCOPE_MENTION = (
    "VAT not applicable: services to a business established outside the EU, place of supply "
    "Article 44 Council Directive 2006/112/EC"
)
EXEMPT_MENTION = "Exempt from VAT: Article 132 Council Directive 2006/112/EC"
#: the lines that are sold (and so taxed); in-kind lines only say how the total is settled
TAXED_LINES = (LineKind.SUBSCRIPTION, LineKind.USAGE, LineKind.CREDIT)
#: UNCL 5305 duty/tax category codes (EN 16931): S standard, AA lower rate, E exempt,
#: AE reverse charge, O outside the scope of VAT
CATEGORY = {TaxKind.STANDARD: "S", TaxKind.REDUCED: "AA", TaxKind.EXEMPT: "E"}


class Regime(StrEnum):
    NONE = "none"  # internal: no sale
    DOMESTIC = "domestic"
    REVERSE_CHARGE = "reverse_charge"
    OUTSIDE_SCOPE = "outside_scope"


def regime_for(provider, customer) -> Regime:
    """The VAT regime of a sale by ``provider`` to ``customer``."""
    if not policy_for(customer).charges_tax:
        return Regime.NONE
    home = provider.country
    if home in EU_MEMBER_STATES:
        vat = customer.vat_number
        if vat and vat_country(vat) in EU_MEMBER_STATES and vat_country(vat) != home:
            return Regime.REVERSE_CHARGE
        if customer.jurisdiction and customer.jurisdiction not in EU_MEMBER_STATES:
            return Regime.OUTSIDE_SCOPE
    return Regime.DOMESTIC


class Rates:
    """Every tax rate, loaded once per close; ``find`` the one valid on a day."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[str, str], list[TaxRate]] = defaultdict(list)
        for rate in TaxRate.objects.order_by("valid_from"):
            self.by_key[(rate.jurisdiction, rate.kind)].append(rate)

    def find(self, jurisdiction: str, kind: str, on: dt.date) -> TaxRate | None:
        for rate in self.by_key.get((jurisdiction, kind), ()):
            if rate.valid_from <= on and (rate.valid_to is None or on <= rate.valid_to):
                return rate
        return None


def rate_on(jurisdiction: str, kind: str, on: dt.date) -> TaxRate | None:
    """The rate of ``jurisdiction`` for ``kind`` valid on ``on`` (None: none is)."""
    return (
        TaxRate.objects.filter(jurisdiction=jurisdiction, kind=kind, valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .first()
    )


def service_kinds() -> dict[int, str]:
    return dict(Service.objects.values_list("pk", "tax_kind"))


def missing_rate(jurisdiction: str, kind: str, on: dt.date) -> str:
    return (
        f"no {kind} VAT rate of {jurisdiction or '(no home country)'} is valid on {on:%Y-%m-%d}: "
        "add it under Finance › Tax rates (or the API) before closing"
    )


def apply_tax(doc, *, provider, rates: Rates, kinds: dict[int, str], on: dt.date) -> list[str]:
    """Tax the lines of an invoice being planned; the problems that stop the close."""
    regime = regime_for(provider, doc.customer)
    doc.tax_regime = "" if regime is Regime.NONE else str(regime)
    if regime is Regime.NONE:
        return []
    problems: list[str] = []
    mentions: list[str] = []
    found: dict[str, TaxRate | None] = {}  # the rate of each kind of tax on this invoice
    for item in doc.items:
        if item.kind not in TAXED_LINES:
            continue
        kind = kinds.get(item.service_id, TaxKind.STANDARD) if item.service_id else "standard"
        if regime is Regime.REVERSE_CHARGE:
            item.tax_category, item.tax_rate = "AE", Decimal("0.00")
            continue
        if regime is Regime.OUTSIDE_SCOPE:
            item.tax_category, item.tax_rate = "O", Decimal("0.00")
            continue
        if kind in found:
            rate = found[kind]
        else:
            rate = found[kind] = rates.find(provider.country, kind, on)
        if rate is None:
            problem = f"{doc.agreement.reference}: {missing_rate(provider.country, kind, on)}"
            if problem not in problems:
                problems.append(problem)
            continue
        item.tax_category, item.tax_rate = CATEGORY[TaxKind(kind)], rate.rate
        if rate.mention and rate.mention not in mentions:
            mentions.append(rate.mention)
    if regime is Regime.REVERSE_CHARGE:
        mentions.append(REVERSE_CHARGE_MENTION)
    elif regime is Regime.OUTSIDE_SCOPE:
        mentions.append(OUTSIDE_SCOPE_MENTION)
    doc.taxes = summarize(doc.items, doc.currency)
    doc.tax = sum((Decimal(t["tax"]) for t in doc.taxes), Decimal("0.00"))
    doc.mentions = mentions
    return problems


def summarize(items, currency: str) -> list[dict]:
    """The tax per category and rate: taxable base and tax, rounded per rate (EN 16931)."""
    bases: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
    for item in items:
        if item.kind in TAXED_LINES and item.tax_category:
            bases[(item.tax_category, item.tax_rate)] += item.amount
    return [
        {
            "category": category,
            "rate": str(rate),
            "base": str(round_money(base, currency)),
            "tax": str(round_money(base * rate / 100, currency)),
        }
        for (category, rate), base in sorted(bases.items(), key=lambda kv: (kv[0][0], kv[0][1]))
    ]


# --- the rates a fresh install starts with --------------------------------------------------------

#: standard and reduced VAT rates (percent) of some EU member states, as published by the
#: European Commission ("VAT rates applied in the Member States", 2025); check yours.
DEFAULT_RATES = {
    "AT": ("20", "10"),
    "BE": ("21", "6"),
    "DE": ("19", "7"),
    "ES": ("21", "10"),
    "FI": ("25.5", "14"),
    "FR": ("20", "5.5"),
    "IE": ("23", "13.5"),
    "IT": ("22", "10"),
    "LU": ("17", "8"),
    "NL": ("21", "9"),
    "PL": ("23", "8"),
    "PT": ("23", "6"),
    "SE": ("25", "6"),
}
DEFAULT_VALID_FROM = dt.date(2025, 1, 1)


def seed_rates(country: str, *, valid_from: dt.date = DEFAULT_VALID_FROM) -> list[TaxRate]:
    """The home country's standard, reduced and exempt rates when it has none yet (the demo,
    ``servicebook init``); nothing for a country this table does not know."""
    if country not in DEFAULT_RATES or TaxRate.objects.filter(jurisdiction=country).exists():
        return []
    standard, reduced = DEFAULT_RATES[country]
    rows = [
        TaxRate(jurisdiction=country, kind=TaxKind.STANDARD, rate=Decimal(standard)),
        TaxRate(jurisdiction=country, kind=TaxKind.REDUCED, rate=Decimal(reduced)),
        TaxRate(jurisdiction=country, kind=TaxKind.EXEMPT, rate=Decimal(0), mention=EXEMPT_MENTION),
    ]
    for row in rows:
        row.valid_from = valid_from
        row.full_clean()
        row.save()
    return rows


# --- writes --------------------------------------------------------------------------------------


@transaction.atomic
def save_tax_rate(*, actor, instance: TaxRate | None = None, **fields) -> TaxRate:
    """Add a tax rate, or change one (finance and the admin): validated, never overlapping
    another rate of the same jurisdiction and kind."""
    require_role(actor, *FINANCE, action="Changing tax rates")
    unknown = sorted(set(fields) - set(TaxRate.EDITABLE_FIELDS))
    if unknown:
        raise DomainError(f"not a tax rate field: {', '.join(unknown)}", field=unknown[0])
    instance = instance or TaxRate()
    for name, value in fields.items():
        setattr(instance, name, value.strip().upper() if name == "jurisdiction" else value)
    save_validated(instance)
    return instance
