"""The home dashboard."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch
from django.shortcuts import render

from servicebook.agreements.models import Agreement, AgreementLine, AgreementStatus
from servicebook.catalog.models import Service
from servicebook.core.charts import chart_json
from servicebook.core.tenancy import customer_of
from servicebook.parties.models import Customer, CustomerStatus


@login_required
def home(request):
    user = request.user
    agreements = (
        Agreement.objects.visible_to(user)
        .select_related("customer__provider")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=AgreementLine.objects.select_related("offering__service").prefetch_related(
                    "offering__tiers"
                ),
            )
        )
    )
    active = [a for a in agreements if a.status == AgreementStatus.ACTIVE]
    by_kind: dict[str, Decimal] = {}
    for agreement in active:
        label = f"{agreement.get_kind_display()} ({agreement.currency})"
        by_kind[label] = by_kind.get(label, Decimal(0)) + (agreement.monthly_charge() or 0)
    customers = Customer.objects.visible_to(user)
    context = {
        "customer": customer_of(user),
        "customer_count": customers.count(),
        "customers_by_status": [
            {"status": CustomerStatus(row["status"]).label, "n": row["n"]}
            for row in customers.values("status").annotate(n=Count("pk")).order_by("status")
        ],
        "service_count": Service.objects.visible_to(user).count(),
        "active_agreements": active,
        "chart": chart_json(by_kind, by_kind.values()),
    }
    return render(request, "web/home.html", context)
