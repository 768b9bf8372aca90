"""Demo: changes that affect internal and external customers, each approving its own way.

- RFC-…-0001 "Storage tier upgrade" (Cloud Hosting, normal): Marketing's approver co-authorizes
  with IT and adds a test task; R&D co-authorizes; SkyBridge, Pacific and Meridian (backups)
  approve under their contracts; SkyBridge and Pacific accept the quoted price impact, and
  their contacts are trained for the scripted deployment step. Scheduled.
- RFC-…-0002 "Hypervisor security patches" (Cloud Hosting, normal): awaiting the customers'
  approvals, with a price impact for SkyBridge to accept (try it as ``internal``/``external``).
- RFC-…-0003 "Monthly workplace patching" (standard): pre-approved; Meridian Retail is notified
  with the five days' notice its contract gives. Scheduled.
- RFC-…-0004 "Payroll hotfix" (emergency): scheduled and implemented first, approved after the
  fact by IT and Finance, reviewed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from django.utils import timezone

from servicebook.changes import services
from servicebook.parties.models import Contact


def _at(days: int, hour: int) -> dt.datetime:
    today = timezone.now().astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    return today.replace(hour=hour) + dt.timedelta(days=days)


def load(ctx) -> None:
    contact = {c.name: c for c in Contact.objects.all()}
    storage = _storage_upgrade(ctx, contact)
    _deployment_steps(ctx, storage, contact)
    _deliverables(ctx, storage)
    _awaiting_approvals(ctx)
    _standard_change(ctx)
    _emergency_change(ctx, contact)
    for customer in ctx.customers.values():
        services.rotate_feed(actor=None, customer=customer)


def _storage_upgrade(ctx, contact):
    users = ctx.users
    change_manager, internal, external = users["change"], users["internal"], users["external"]
    hosting = ctx.offerings["vm"].service
    today = timezone.now().date()

    # 1. A normal change for internal and external customers, each approving its own way.
    storage = services.create_change(
        actor=change_manager,
        title="Storage tier upgrade to NVMe",
        change_type="normal",
        services=[hosting],
        description="Move block storage to the new NVMe tier in both data centres.",
        deployment_procedure="1. Snapshot volumes. 2. Live-migrate by tenant. 3. Verify I/O.",
    )
    _assess(storage, change_manager, "medium", "Storage read-only for up to 30 minutes.", "48000")
    impacts = {i.customer.code: i for i in storage.impacts.select_related("customer")}
    services.set_price_impact(
        actor=change_manager, impact=impacts["skybridge"], price_impact=D("350.00")
    )
    services.set_price_impact(
        actor=change_manager, impact=impacts["pacific"], price_impact=D("180.00")
    )
    services.submit_for_approval(actor=change_manager, change=storage)
    services.record_it_decision(
        actor=change_manager, change=storage, verdict="approve", note="CAB of this week"
    )
    services.record_customer_decision(
        actor=internal, impact=impacts["marketing"], verdict="approve", note="Fine for Marketing"
    )
    services.add_customer_task(
        actor=internal,
        change=storage,
        customer=ctx.customers["marketing"],
        kind="test",
        title="Regression-test the campaign analytics dashboards on the new tier",
        due_date=today + dt.timedelta(days=28),
        contact=contact["Clara Dupont"],
    )
    services.set_schedule(
        actor=internal,
        change=storage,
        planned_start=_at(30, 21),
        planned_end=_at(30, 23),
        note="Marketing prefers a late evening window",
    )
    services.record_customer_decision(
        actor=change_manager,
        impact=impacts["rnd"],
        verdict="approve",
        contact=contact["Dr. Lena Novak"],
        note="Signed e-mail from the Director of Research",
    )
    services.record_customer_decision(
        actor=external, impact=impacts["skybridge"], verdict="approve", note="Approved per §7"
    )
    services.accept_price_impact(actor=external, impact=impacts["skybridge"])
    services.record_customer_decision(
        actor=change_manager,
        impact=impacts["pacific"],
        verdict="approve",
        contact=contact["Wei Ling Tan"],
    )
    services.accept_price_impact(
        actor=change_manager, impact=impacts["pacific"], contact=contact["Wei Ling Tan"]
    )
    services.record_customer_decision(
        actor=change_manager,
        impact=impacts["meridian"],
        verdict="approve",
        contact=contact["Katrin Vogel"],
        note="Backups only; approved by the COO",
    )
    return storage


def _deployment_steps(ctx, storage, contact) -> None:
    """External customers' scripted deployment steps, their contacts trained; scheduled."""
    change_manager = ctx.users["change"]
    today = timezone.now().date()
    impacts = {i.customer.code: i for i in storage.impacts.select_related("customer")}
    for code, person, step in (
        ("skybridge", "Sophie Martin", "Remount the booking analytics volume on the new endpoint"),
        ("pacific", "Wei Ling Tan", "Restart the ingestion workers after the cut-over"),
    ):
        services.add_customer_task(
            actor=change_manager,
            change=storage,
            customer=impacts[code].customer,
            kind="deployment",
            title=step,
            script="1. Wait for the provider's go message.\n2. Run the runbook step.\n"
            "3. Confirm the health check is green in the portal.",
            contact=contact[person],
            due_date=(_at(30, 21)).date(),
        )
        services.record_training(
            actor=change_manager,
            change=storage,
            contact=contact[person],
            completed_on=today,
            topic="Cut-over runbook walkthrough",
        )
    services.schedule_change(actor=change_manager, change=storage)


def _awaiting_approvals(ctx) -> None:
    change_manager = ctx.users["change"]
    hosting = ctx.offerings["vm"].service
    # 2. Awaiting approvals: try it as the internal and the external demo users.
    patches = services.create_change(
        actor=change_manager,
        title="Hypervisor security patches",
        change_type="normal",
        services=[hosting],
        description="Apply the vendor's hypervisor security patches; hosts restart in turn.",
    )
    _assess(patches, change_manager, "high", "Virtual machines live-migrate; brief stalls.", "9500")
    sky = patches.impacts.get(customer=ctx.customers["airline"])
    services.set_price_impact(
        actor=change_manager,
        impact=sky,
        price_impact=D("120.00"),
        note="Extended support licence",
    )
    services.set_schedule(
        actor=change_manager, change=patches, planned_start=_at(30, 1), planned_end=_at(30, 4)
    )
    services.submit_for_approval(actor=change_manager, change=patches)
    services.record_it_decision(actor=change_manager, change=patches, verdict="approve")


def _standard_change(ctx) -> None:
    change_manager = ctx.users["change"]
    workplace = ctx.offerings["laptop"].service
    # 3. A standard change: pre-approved; the retailer is notified within its notice period.
    patching = services.create_change(
        actor=change_manager,
        title="Monthly workplace patching",
        change_type="standard",
        services=[workplace],
        description="Operating system and Microsoft 365 updates, staged by ring.",
        planned_start=_at(12, 18),
        planned_end=_at(12, 22),
    )
    _assess(patching, change_manager, "low", "Laptops restart once overnight.", "1200")
    services.submit_for_approval(actor=change_manager, change=patching)
    services.schedule_change(actor=change_manager, change=patching)


def _emergency_change(ctx, contact) -> None:
    change_manager = ctx.users["change"]
    payroll = ctx.offerings["payroll"].service
    # 4. An emergency change: done first, approved after the fact, reviewed.
    hotfix = services.create_change(
        actor=change_manager,
        title="Payroll hotfix for the tax table",
        change_type="emergency",
        services=[payroll],
        description="The new tax table broke the payroll run; vendor hotfix applied at once.",
        planned_start=_at(-2, 7),
        planned_end=_at(-2, 8),
    )
    _assess(hotfix, change_manager, "high", "Payroll unavailable for one hour.", "800")
    services.submit_for_approval(actor=change_manager, change=hotfix)
    services.schedule_change(actor=change_manager, change=hotfix, note="payroll run at risk")
    services.implement_change(actor=change_manager, change=hotfix)
    services.record_it_decision(actor=change_manager, change=hotfix, verdict="approve")
    services.record_customer_decision(
        actor=change_manager,
        impact=hotfix.impacts.get(),
        verdict="approve",
        contact=contact["Jonas Weber"],
        note="Confirmed by phone, then e-mail",
    )
    services.review_change(actor=change_manager, change=hotfix, note="Run completed on time")


def _assess(change, actor, risk, impact, cost):
    services.start_assessment(actor=actor, change=change)
    services.assess_change(
        actor=actor, change=change, risk=risk, service_impact=impact, cost_impact=D(cost)
    )


def _deliverables(ctx, storage) -> None:
    """Decision 0023: what the airline's contract and the storage change it paid for deliver.
    Marc (the airline's approver) accepted the change's deliverable and rejected the release
    plan with a reason, so that one stays open."""
    from servicebook.agreements.models import Agreement
    from servicebook.changes.deliverables import services as deliverables

    sky = Agreement.objects.get(reference="CT-SKY-2026", status="active")
    nvme = deliverables.add_deliverable(
        actor=ctx.users["change"],
        agreement=sky,
        change=storage,
        title="SkyBridge block storage on the NVMe tier",
        description="Every SkyBridge volume migrated, I/O verified against the agreed baseline.",
    )
    deliverables.decide_deliverable(actor=ctx.users["external"], deliverable=nvme, verdict="accept")
    plan = deliverables.add_deliverable(
        actor=ctx.users["manager"],
        agreement=sky,
        title="Check-in app release plan (a release every two weeks)",
        due_date=timezone.now().date() + dt.timedelta(days=14),
    )
    deliverables.decide_deliverable(
        actor=ctx.users["external"],
        deliverable=plan,
        verdict="reject",
        reason="The plan skips the release before the summer peak; please add it.",
    )
