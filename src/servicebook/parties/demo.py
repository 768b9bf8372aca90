"""Demo: shared objectives, internal commitments and their breaches, satisfaction surveys."""

from __future__ import annotations

import datetime as dt

from servicebook.parties import owners, services
from servicebook.parties import provider as provider_settings
from servicebook.parties.models import Feedback

SURVEY = {  # customer → scores for months 2026-07 … 2026-10 on its main service
    "marketing": [4, 4, 3, 4],
    "finance": [5, 4, 4, 5],
    "hr": [4, 4, 4, 4],
    "rnd": [3, 4, 4, 5],
    "airline": [4, 3, 3, 4],
    "retail": [3, 2, 2, 3],
    "pacific": [4, 4, 5, 4],
}


#: customer → the demo user who owns the relationship (Pacific Analytics has none yet)
OWNERS = {
    "marketing": "manager",
    "finance": "manager",
    "airline": "manager",
    "retail": "manager",
    "hr": "admin",
    "rnd": "admin",
    "orion": "admin",
}


#: the provider's legal identity printed on its invoices (decision 0026)
ISSUER = {
    "legal_name": "Northwind Group IT Services SAS",
    "address": "12 avenue des Champs\n75008 Paris\nFrance",
    "registration_number": "RCS Paris 303 265 045",
    "vat_number": "FR40303265045",
    "iban": "FR7630006000011234567890189",
    "bic": "BNPAFRPPXXX",
}


def load(ctx) -> None:
    _owners(ctx.customers, ctx.users)
    # one change in the provider settings' history: the admin records the home country and
    # what every invoice must say about its issuer
    provider_settings.update_provider_settings(
        actor=ctx.users["admin"], provider=ctx.provider, country="FR", **ISSUER
    )
    _objectives(ctx.provider, ctx.customers, ctx.offerings)
    _commitments(ctx.customers, hosting=ctx.offerings["vm"].service)
    _feedback(ctx.customers, ctx.offerings)


def _owners(customers: dict, users: dict) -> None:
    """Relationship owners: the service manager owns most relationships, the admin the rest."""
    for key, username in OWNERS.items():
        owners.set_relationship_owner(actor=None, customer=customers[key], owner=users[username])


def _objectives(provider, customers: dict, offerings: dict) -> None:
    """The organization's objectives, shared by the customers and services that serve them."""
    workplace = offerings["laptop"].service
    hosting = offerings["vm"].service
    services.create_objective(
        actor=None,
        provider=provider,
        title="Grow digital revenue by 20% by 2028",
        description="Online campaigns and e-commerce need reliable, fast workplaces and hosting.",
        customers=[customers["marketing"], customers["finance"]],
        services=[workplace, hosting],
    )
    services.create_objective(
        actor=None,
        provider=provider,
        title="Protect the group's research and intellectual property",
        description="Confidential research stays on premises, isolated and audited.",
        customers=[customers["rnd"]],
        services=[offerings["hpc"].service],
    )
    services.create_objective(
        actor=None,
        provider=provider,
        title="Cut the cost of operations by 10%",
        customers=[customers["hr"], customers["finance"]],
        services=[offerings["desk"].service],
    )


def _commitments(customers: dict, *, hosting) -> None:
    """Internal customers' funding and exclusivity commitments, and their breaches."""
    start = dt.date(2026, 1, 1)
    for key in ("marketing", "finance", "hr", "rnd"):
        customer = customers[key]
        services.add_commitment(
            actor=None,
            customer=customer,
            kind="funding",
            amount_per_period=customer.budget_per_period,
            service_level="the service levels of its 2026 agreement",
            starts=start,
            ends=dt.date(2026, 12, 31),
        )
        services.add_commitment(
            actor=None,
            customer=customer,
            kind="exclusivity",
            starts=start,
            note="No external IT providers while the agreed service levels are met.",
        )
    # R19: an external supplier under exclusivity is detected as a breach; a second one is kept
    # next to the first, never over it.
    services.record_external_supplier(
        actor=None,
        customer=customers["marketing"],
        service=hosting,
        supplier="CampaignCloud SaaS",
        since=dt.date(2026, 9, 14),
        note="Marketing bought a SaaS campaign tool with its own hosting without asking IT.",
    )
    services.report_commitment_breach(
        actor=None,
        commitment=customers["marketing"].commitments.get(kind="exclusivity"),
        on=dt.date(2026, 10, 20),
        note="A freelance web agency hosts the autumn campaign site outside IT.",
    )
    services.detect_funding_breaches(actor=None, on=dt.date(2026, 10, 1))


def _feedback(customers: dict, offerings: dict) -> None:
    """Monthly satisfaction scores on each customer's main service, and one design request."""
    workplace = offerings["laptop"].service
    hosting = offerings["vm"].service
    main_service = {"airline": hosting, "pacific": hosting, "rnd": offerings["hpc"].service}
    rows = []
    for key, scores in SURVEY.items():
        service = main_service.get(key, workplace)
        for month, score in enumerate(scores, start=7):
            rows.append(
                Feedback(
                    customer=customers[key],
                    service=service,
                    period=f"2026-{month:02d}",
                    score=score,
                    comment="" if score >= 4 else "Tickets take too long to be resolved.",
                )
            )
    Feedback.objects.bulk_create(rows)
    Feedback.objects.create(
        customer=customers["airline"],
        service=hosting,
        period="2026-10",
        topic="design",
        comment="Please offer a Frankfurt-only option so our EU data never leaves Germany.",
    )
