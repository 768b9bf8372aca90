"""Demo: the R&D Lab's secure data centre, internal customers competing for capacity, and an
external request accepted because it is legal, possible and profitable.

The R&D Lab asks for a secure data centre on its Munich campus (EUR 800,000). The provider
challenges it: a business case (NPV, payback at the provider's 8% discount rate) and two
alternatives; a Frankfurt colocation hall is equally secure and 25% cheaper. The Lab insists on
Munich, so the demand is held until a senior manager records the senior-management
justification; then it is approved and reserves engineering hours and racks. Marketing and HR
compete for the same engineering pool.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from servicebook.demand import services
from servicebook.parties.models import Contact, Objective

SECURE_DC_REQUIREMENTS = [
    "ISO 27001 certified site, Tier III or better",
    "Data stays in the EU on premises the provider controls",
    "Biometric access control and 24×7 guarding",
    "Ready by the third quarter",
]


def load(ctx) -> None:
    contact = {c.name: c for c in Contact.objects.all()}
    engineering, racks = _pools(ctx.users["manager"])
    _secure_data_centre(ctx, contact, engineering, racks)
    _competing_requests(ctx, contact, engineering)
    _external_request(ctx, contact, racks)


def _objective(title_start: str) -> Objective:
    return Objective.objects.get(title__startswith=title_start)


def _pools(manager):
    year = dt.date.today().year
    engineering = services.create_pool(
        actor=manager,
        name="Infrastructure engineering",
        kind="staff_hours",
        unit="engineer-hour",
        period_start=dt.date(year, 1, 1),
        period_end=dt.date(year, 12, 31),
        capacity=D("3000"),
        unit_cost=D("85.00"),
    )
    racks = services.create_pool(
        actor=manager,
        name="Secure data centre racks",
        kind="technology_units",
        unit="rack",
        period_start=dt.date(year, 1, 1),
        period_end=dt.date(year, 12, 31),
        capacity=D("40"),
        unit_cost=D("9000.00"),
    )

    return engineering, racks


def _secure_data_centre(ctx, contact, engineering, racks) -> None:
    manager, senior = ctx.users["manager"], ctx.users["senior"]
    # The R&D Lab's secure data centre: challenged, held, justified, approved.
    lena = contact["Dr. Lena Novak"]
    secure = services.create_demand(
        actor=manager,
        customer=ctx.customers["rnd"],
        requester=lena,
        title="Secure data centre for confidential research",
        description="A dedicated secure data centre on the Munich research campus.",
        expected_outcomes="Run confidential materials research on premises the Lab trusts.",
        required_investment=D("800000.00"),
        requirements=SECURE_DC_REQUIREMENTS,
        requested_option="Munich campus data centre (new build)",
        objectives=[
            (
                _objective("Protect the group's research"),
                "Keeps confidential research data on premises the group controls, so no "
                "sensitive work is hosted outside the group.",
            )
        ],
    )
    requirements = list(secure.requirements.all())
    services.record_business_case(
        actor=manager,
        demand=secure,
        expected_business_outcomes="Two confidential research contracts a year become possible; "
        "no more hosting outside the group for sensitive work.",
        yearly_net_benefit=D("180000.00"),
        years=7,
    )
    services.add_alternative(
        actor=manager,
        demand=secure,
        name="Frankfurt colocation hall (Tier III, ISO 27001)",
        cost=D("600000.00"),
        meets=requirements,
        description="A caged hall in the group's Frankfurt colocation: equally secure.",
    )
    services.add_alternative(
        actor=manager,
        demand=secure,
        name="Public cloud confidential-computing region",
        cost=D("350000.00"),
        meets=[r for r in requirements if "premises" not in r.text],
        description="Cheapest, but the data would leave premises the provider controls.",
    )
    munich = secure.alternatives.get(is_requested=True)
    services.choose_alternative(
        actor=manager,
        demand=secure,
        alternative=munich,
        note="The Lab insists on the campus: researchers carry samples between lab and racks.",
    )
    services.set_capacity_need(actor=manager, demand=secure, pool=engineering, quantity=D("1200"))
    services.set_capacity_need(actor=manager, demand=secure, pool=racks, quantity=D("24"))
    services.record_justification(
        actor=senior,
        demand=secure,
        justification="The executive board accepts Munich although Frankfurt is 25% cheaper: "
        "sample custody rules require the racks within walking distance of the campus labs "
        "(board minute 2026-14).",
    )
    services.approve_demand(actor=manager, demand=secure, approver=lena)


def _competing_requests(ctx, contact, engineering) -> None:
    manager, internal = ctx.users["manager"], ctx.users["internal"]
    # Marketing and HR compete for the same engineering pool (open, by business value).
    cdp = services.create_demand(
        actor=internal,
        customer=ctx.customers["marketing"],
        title="Customer data platform",
        expected_outcomes="One view of each customer across campaigns; 8% better conversion.",
        required_investment=D("250000.00"),
        requirements=["GDPR-compliant consent records", "Integrates with the web shop"],
        positioning="needs_based",
        objectives=[
            (_objective("Grow digital revenue"), "Better-targeted campaigns convert more visits.")
        ],
    )
    services.record_business_case(
        actor=manager,
        demand=cdp,
        expected_business_outcomes="More conversions from the same campaign budget.",
        yearly_net_benefit=D("95000.00"),
        years=5,
    )
    services.add_alternative(
        actor=manager,
        demand=cdp,
        name="SaaS customer data platform",
        cost=D("160000.00"),
        meets=list(cdp.requirements.all()),
    )
    services.set_capacity_need(actor=manager, demand=cdp, pool=engineering, quantity=D("900"))
    onboarding = services.create_demand(
        actor=manager,
        customer=ctx.customers["hr"],
        requester=contact["Amira Haddad"],
        title="Self-service onboarding portal",
        expected_outcomes="New joiners productive on day one.",
        required_investment=D("120000.00"),
        requirements=["Single sign-on", "Works on phones"],
        objectives=[(_objective("Cut the cost of operations"), "Less manual onboarding work.")],
    )
    services.record_business_case(
        actor=manager,
        demand=onboarding,
        expected_business_outcomes="Two days saved per new joiner, 300 joiners a year.",
        yearly_net_benefit=D("30000.00"),
        years=5,
    )
    services.set_capacity_need(
        actor=manager, demand=onboarding, pool=engineering, quantity=D("700")
    )


def _external_request(ctx, contact, racks) -> None:
    manager = ctx.users["manager"]
    # An external request: legal, possible and profitable, so accepted on its revenue.
    gpu = services.create_demand(
        actor=manager,
        customer=ctx.customers["pacific"],
        requester=contact["Wei Ling Tan"],
        title="GPU analytics cluster hosting",
        kind="changed_service",
        service=ctx.offerings["vm"].service,
        expected_outcomes="Train demand-forecasting models overnight.",
        required_investment=D("120000.00"),
        requirements=["Hosted in an ISO 27001 site", "Results by 06:00 Singapore time"],
        positioning="demand_based",
    )
    services.record_external_check(
        actor=manager,
        demand=gpu,
        legal=True,
        legal_note="Analytics on the customer's own sales data; no personal data export.",
        feasible=True,
        feasibility_note="Four GPU nodes fit in the existing racks.",
        quoted_price=D("120000.00"),
        estimated_cost=D("88000.00"),
    )
    services.set_capacity_need(actor=manager, demand=gpu, pool=racks, quantity=D("4"))
    services.approve_demand(actor=manager, demand=gpu, approver=contact["Wei Ling Tan"])
