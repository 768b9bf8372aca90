"""Demo: the R&D Lab's signed-off design of Secure Research Computing, and a pipeline service
waiting for an internal customer's sign-off."""

from __future__ import annotations

from decimal import Decimal as D

from servicebook.catalog import services


def load(ctx) -> None:
    rnd = ctx.customers["rnd"]
    research = ctx.offerings["hpc"].service
    spec = services.create_specification(
        actor=None,
        service=research,
        customer=rnd,
        positioning="needs_based",
        functionality="Isolated compute nodes and storage for confidential research; "
        "no internet egress; per-project encryption keys.",
        manageability="99.5% availability in office hours; restores within 4 hours; "
        "quarterly access reviews with the Lab.",
        constraints="Group security policy SEC-12; data stays in the Paris data centre.",
        expected_roi="Two patents a year protected; avoids EUR 400k/year of cloud HPC spend.",
    )
    lena = rnd.contacts.get(is_approver=True)
    services.sign_off_specification(actor=None, specification=spec, contact=lena)
    pipeline = services.create_service(
        actor=None,
        established=True,
        provider=ctx.provider,
        code="data-platform",
        name="Data Platform",
        description="A governed analytics platform for business units (in design).",
        status="pipeline",
        offered_to="internal",
        data_locations=["FR"],
    )
    services.create_specification(
        actor=None,
        service=pipeline,
        customer=ctx.customers["marketing"],
        positioning="demand_based",
        functionality="Self-service dashboards over sales and campaign data.",
        manageability="Daily loads by 07:00; 99% availability in office hours.",
        expected_roi="Campaign decisions a week faster; EUR 150k/year of agency reports saved.",
    )
    services.create_offering(
        actor=None,
        service=pipeline,
        code="dp-seat",
        name="Analyst seat",
        unit="user_month",
        charge_model="per_unit",
        list_price=D("60"),
        currency="EUR",
        standard_unit_cost=D("48"),
    )
