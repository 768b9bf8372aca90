"""The home dashboard."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch
from django.shortcuts import render

from servicebook.agreements.models import Agreement, AgreementLine, AgreementStatus
from servicebook.catalog.models import Offering, Service
from servicebook.core.charts import chart_json
from servicebook.core.tenancy import customer_of
from servicebook.parties.models import Customer, CustomerStatus, Provider

#: Active agreements the home page lists (the agreements page lists them all).
LATEST = 10
#: What makes two lines charge alike: the same charge for the same offering and quantity.
LINE_KEY = (
    "agreement__kind",
    "agreement__currency",
    "agreement__customer__kind",
    "agreement__customer__provider",
    "offering",
    "quantity",
    "unit_price",
)


def _with_lines():
    return Prefetch(
        "lines",
        queryset=AgreementLine.objects.select_related("offering__service").prefetch_related(
            "offering__tiers"
        ),
    )


def monthly_charges(active) -> dict[str, Decimal]:
    """The monthly charge of the ``active`` agreements (a queryset) by kind and currency, as
    ``Agreement.monthly_charge`` answers it, with one charge computed per kind of line: lines
    are grouped in the database (kind, currency, offering, quantity, price) rather than loaded
    one by one. An agreement one of whose lines has no charge counts nothing (as on its page)."""
    lines = AgreementLine.objects.filter(agreement__in=active.values("pk"))
    groups = list(lines.values_list(*LINE_KEY).annotate(n=Count("pk")).order_by())
    offerings = Offering.objects.prefetch_related("tiers").select_related("service")
    offerings = offerings.in_bulk({g[4] for g in groups})
    providers = Provider.objects.in_bulk({g[3] for g in groups})
    charge = {}
    for key in {g[:-1] for g in groups}:
        kind, currency, customer_kind, provider, offering, quantity, unit_price = key
        customer = Customer(kind=customer_kind, provider=providers[provider])
        agreement = Agreement(kind=kind, currency=currency, customer=customer)
        line = AgreementLine(agreement=agreement, quantity=quantity, unit_price=unit_price)
        line.offering = offerings[offering]
        charge[key] = line.monthly_charge()
    unknown = [key for key, amount in charge.items() if amount is None]
    if unknown:  # leave out the agreements with a line of unknown charge
        lines_unknown = AgreementLine.objects.none()
        for key in unknown:
            lines_unknown |= lines.filter(**dict(zip(LINE_KEY, key, strict=True)))
        lines = lines.exclude(agreement__in=lines_unknown.values("agreement"))
        groups = list(lines.values_list(*LINE_KEY).annotate(n=Count("pk")).order_by())
    labels = dict(Agreement._meta.get_field("kind").choices)
    by_kind: dict[str, Decimal] = {}
    for *key, n in groups:
        label = f"{labels.get(key[0], key[0])} ({key[1]})"
        by_kind[label] = by_kind.get(label, Decimal(0)) + charge[tuple(key)] * n
    return by_kind


@login_required
def home(request):
    user = request.user
    active = Agreement.objects.visible_to(user).filter(status=AgreementStatus.ACTIVE)
    latest = (
        active.select_related("customer__provider")
        .prefetch_related(_with_lines())
        .order_by("-created_at", "-pk")[:LATEST]
    )
    by_kind = monthly_charges(active)
    customers = Customer.objects.visible_to(user)
    context = {
        "customer": customer_of(user),
        "customer_count": customers.count(),
        "customers_by_status": [
            {"status": CustomerStatus(row["status"]).label, "n": row["n"]}
            for row in customers.values("status").annotate(n=Count("pk")).order_by("status")
        ],
        "service_count": Service.objects.visible_to(user).count(),
        "active_count": active.count(),
        "active_agreements": list(latest),
        "chart": chart_json(by_kind, by_kind.values()),
    }
    return render(request, "web/home.html", context)
