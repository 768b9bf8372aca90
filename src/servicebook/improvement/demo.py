"""Demo: an improvement register with both kinds of items, a relationship in difficulty, reviews.

* Marketing (internal, shares the objective "Grow digital revenue"): faster P1 resolution for
  campaign launches, planned with Clara Dupont (member, approves the plan, owns an action,
  comments), verified: the expectation was met.
* Finance and HR (internal, one plan for two customers): self-service password resets to cut the
  service desk's cost per user, verified: the result fell short of the expectation.
* SkyBridge Airlines (external, not in difficulty: sees expected results only): re-tiered VM
  prices (cost reduction at competitive service levels) verified, and a Frankfurt-only hosting
  option (competitiveness) in progress.
* Meridian Retail (external, lowest satisfaction, a March outage credit, an overdue invoice): a
  retention plan the provider runs; the retailer sees its expected result and progress only.
* Pacific Analytics (external): a complaint about where its data is stored, the relationship
  flagged in difficulty, its CTO invited into a retention plan she approved.
* Service reviews of October 2026: Marketing (held, with minutes) and Meridian Retail (prepared).

Marketing's draft item for its April breach (levels demo) is left as the levels app raised it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from servicebook.improvement import demo_parity, services
from servicebook.parties import services as parties


def _run(item, manager, *, approve_for=(), actions=(), verify=None, stop_at="verified"):
    """Walk an item through its workflow as a service manager would."""
    for contact in approve_for:
        services.approve_plan(actor=manager, improvement=item, contact=contact)
    if not approve_for:
        services.approve_plan(actor=manager, improvement=item)
    services.start(actor=manager, improvement=item, note="kick-off meeting held")
    for action, by in actions:
        services.complete_action(actor=by, action=action)
    if stop_at == "in_progress":
        return item
    services.complete(actor=manager, improvement=item)
    value, on, note = verify
    return services.verify(
        actor=manager, improvement=item, measured_value=value, measured_on=on, note=note
    )


def load(ctx) -> None:
    contact = {
        key: customer.contacts.order_by("pk").first() for key, customer in ctx.customers.items()
    }
    _marketing(ctx, contact)
    _finance_and_hr(ctx, contact)
    _skybridge(ctx)
    _meridian(ctx)
    _pacific(ctx, contact)
    _service_reviews(ctx)
    demo_parity.load(ctx)


def _marketing(ctx, contact) -> None:
    c, manager, clara = ctx.customers, ctx.users["manager"], ctx.users["internal"]
    workplace, desk = ctx.offerings["laptop"].service, ctx.offerings["desk"].service
    growth = ctx.provider.objectives.get(title__startswith="Grow digital revenue")
    # --- Marketing: internal, linked to an organization objective, customer takes part ---------
    launch = services.create_improvement(
        actor=manager,
        customer=c["marketing"],
        title="Campaign launches: P1 incidents resolved within 4 business hours",
        source="feedback",
        services=[workplace, desk],
        description="Marketing's surveys of September: 'tickets take too long to be resolved', "
        "and two P1 incidents missed their target during April's campaign launch.",
        driver="business_objectives",
        objective=growth,
        expected_measure="P1 incidents resolved within 4 business hours (%)",
        expected_direction="at_least",
        baseline_value=D("33.3"),
        expected_value=D("95"),
        expected_by=dt.date(2026, 10, 31),
        estimated_cost=D("6000"),
        internal_notes="Funded from the service desk's training budget.",
    )
    services.add_participant(
        actor=manager, improvement=launch, contact=contact["marketing"], note="Head of Marketing"
    )
    queue = services.add_action(
        actor=manager,
        improvement=launch,
        description="A dedicated P1 queue staffed during campaign launches",
        owner_user=manager,
        due=dt.date(2026, 7, 31),
    )
    calendar = services.add_action(
        actor=manager,
        improvement=launch,
        description="Share the campaign calendar with the service desk every month",
        owner_contact=contact["marketing"],
        due=dt.date(2026, 7, 15),
    )
    services.comment_on_action(
        actor=clara, action=calendar, body="The calendar is in the shared Marketing planner."
    )
    services.approve_plan(actor=clara, improvement=launch, note="Agreed at the monthly review.")
    services.start(actor=manager, improvement=launch, note="kick-off with Marketing")
    services.complete_action(actor=manager, action=queue)
    services.complete_action(actor=clara, action=calendar)
    services.complete(actor=manager, improvement=launch)
    services.verify(
        actor=manager,
        improvement=launch,
        measured_value=D("100"),
        measured_on=dt.date(2026, 11, 5),
        note="October's two launches: every P1 incident resolved within target.",
    )


def _finance_and_hr(ctx, contact) -> None:
    c, manager, desk = ctx.customers, ctx.users["manager"], ctx.offerings["desk"].service
    # --- Finance and HR: internal, cost/quality balance, result short of the expectation ---------
    resets = services.create_improvement(
        actor=manager,
        customer=c["finance"],
        customers=[c["hr"]],
        title="Self-service password resets to cut the service desk's cost per user",
        source="cost_review",
        services=[desk],
        description="A third of service desk calls are password resets.",
        driver="cost_quality_balance",
        expected_measure="Service desk cost per user-month (EUR)",
        expected_direction="at_most",
        baseline_value=D("6.80"),
        expected_value=D("6.50"),
        expected_by=dt.date(2026, 10, 31),
        estimated_cost=D("3500"),
    )
    for key in ("finance", "hr"):
        services.add_participant(actor=manager, improvement=resets, contact=contact[key])
    rollout = services.add_action(
        actor=manager,
        improvement=resets,
        description="Roll out self-service password reset to Finance and HR",
        owner_user=manager,
        due=dt.date(2026, 9, 30),
    )
    _run(
        resets,
        manager,
        approve_for=[contact["finance"], contact["hr"]],
        actions=[(rollout, manager)],
        verify=(D("6.62"), dt.date(2026, 11, 10), "Adoption reached 60% of users, not 80%."),
    )


def _skybridge(ctx) -> None:
    c, manager, finance_user = ctx.customers, ctx.users["manager"], ctx.users["finance"]
    hosting = ctx.offerings["vm"].service
    # --- SkyBridge: external, provider-run plans; the customer sees expected results ----------
    tiers = services.create_improvement(
        actor=manager,
        customer=c["airline"],
        agreement=ctx.agreements["airline"],
        title="Competitive hosting price: graduated VM tiers for 12,000 hours a month",
        source="competitive_review",
        services=[hosting],
        description="A competitor quotes EUR 0.075 per VM-hour at this volume.",
        driver="cost_reduction",
        expected_measure="Price per VM-hour at 12,000 hours a month (EUR)",
        expected_direction="at_most",
        baseline_value=D("0.081"),
        expected_value=D("0.075"),
        expected_by=dt.date(2026, 9, 30),
        price_impact=D("-72.00"),
        estimated_cost=D("1500"),
        internal_notes="Margin stays above the minimum after the re-tiering.",
    )
    retier = services.add_action(
        actor=manager,
        improvement=tiers,
        description="Re-tier the VM price list and move idle VMs to cheaper hosts",
        owner_user=finance_user,
        due=dt.date(2026, 8, 31),
    )
    _run(
        tiers,
        manager,
        actions=[(retier, manager)],
        verify=(D("0.074"), dt.date(2026, 10, 5), "September invoice: EUR 0.074 per VM-hour."),
    )
    frankfurt = services.create_improvement(
        actor=manager,
        customer=c["airline"],
        agreement=ctx.agreements["airline"],
        title="Frankfurt-only hosting option for EU data",
        source="feedback",
        services=[hosting],
        description="SkyBridge asked for its EU data never to leave Germany (design feedback).",
        driver="competitiveness",
        expected_measure="SkyBridge VMs hosted in Frankfurt only (%)",
        expected_direction="at_least",
        baseline_value=D("0"),
        expected_value=D("100"),
        expected_by=dt.date(2027, 3, 31),
        estimated_cost=D("8000"),
        internal_notes="Needs a second storage array in Frankfurt.",
    )
    placement = services.add_action(
        actor=manager,
        improvement=frankfurt,
        description="Design a Frankfurt-only placement policy",
        owner_user=manager,
        due=dt.date(2026, 12, 15),
    )
    services.add_action(
        actor=manager,
        improvement=frankfurt,
        description="Migrate SkyBridge's VMs to Frankfurt",
        owner_user=manager,
        due=dt.date(2027, 2, 28),
    )
    _run(frankfurt, manager, actions=[(placement, manager)], stop_at="in_progress")


def _meridian(ctx) -> None:
    c, manager = ctx.customers, ctx.users["manager"]
    workplace, desk = ctx.offerings["laptop"].service, ctx.offerings["desk"].service
    # --- Meridian Retail: a retention plan the provider runs (results only for the customer) ----
    keep_meridian = services.create_improvement(
        actor=manager,
        customer=c["retail"],
        agreement=ctx.agreements["retail"],
        title="Keep Meridian: a resilient store service desk",
        source="feedback",
        services=[desk, workplace],
        description="Stores lost their service desk for ten hours in March; store managers "
        "rate us 2 to 3 out of 5.",
        driver="retention",
        expected_measure="Store service desk availability (%)",
        expected_direction="at_least",
        baseline_value=D("98.7"),
        expected_value=D("99.9"),
        expected_by=dt.date(2027, 1, 31),
        price_impact=D("0"),
        estimated_cost=D("12000"),
        internal_notes="Worth it: Meridian is our second largest contract.",
    )
    services.add_action(
        actor=manager,
        improvement=keep_meridian,
        description="A second telephony carrier for the store service desk",
        owner_user=manager,
        due=dt.date(2026, 12, 31),
    )
    _run(keep_meridian, manager, stop_at="in_progress")


def _pacific(ctx, contact) -> None:
    c, manager, hosting = ctx.customers, ctx.users["manager"], ctx.offerings["vm"].service
    # --- Pacific Analytics: flagged in difficulty, invited into a retention plan ---------------
    parties.submit_feedback(
        actor=manager,
        customer=c["pacific"],
        service=hosting,
        period="2026-10",
        topic="complaint",
        comment="Our analytics data sits in Europe while our clients ask for Singapore.",
    )
    pacific = parties.flag_in_difficulty(
        actor=manager,
        customer=c["pacific"],
        reason="Its CTO says a Singapore provider offers local hosting; an open complaint about "
        "where its data is stored.",
    )
    keep_pacific = services.create_improvement(
        actor=manager,
        customer=pacific,
        agreement=ctx.agreements["pacific"],
        title="Keep Pacific: a Singapore hosting region for its analytics data",
        source="customer_request",
        services=[hosting],
        description="Host Pacific's analytics in a Singapore colocation partner's site.",
        driver="retention",
        expected_measure="Pacific's data stored in Singapore (%)",
        expected_direction="at_least",
        baseline_value=D("0"),
        expected_value=D("100"),
        expected_by=dt.date(2027, 2, 28),
        price_impact=D("450.00"),
        estimated_cost=D("9000"),
        internal_notes="Partner site quote received; margin holds at the new price.",
    )
    services.add_participant(
        actor=manager,
        improvement=keep_pacific,
        contact=contact["pacific"],
        note="Invited into the plan while the relationship is in difficulty",
    )
    services.add_action(
        actor=manager,
        improvement=keep_pacific,
        description="Contract a Singapore colocation partner",
        owner_user=manager,
        due=dt.date(2026, 12, 20),
    )
    services.add_action(
        actor=manager,
        improvement=keep_pacific,
        description="Confirm the new monthly price and the migration window",
        owner_contact=contact["pacific"],
        due=dt.date(2027, 1, 15),
    )
    _run(keep_pacific, manager, approve_for=[contact["pacific"]], stop_at="in_progress")
    services.propose_retention_improvements(actor=manager, period="2026-11")


def _service_reviews(ctx) -> None:
    c, manager = ctx.customers, ctx.users["manager"]
    # --- service reviews of October 2026 -------------------------------------------------------
    marketing_review = services.prepare_review(
        actor=manager, customer=c["marketing"], period="2026-10", meeting_on=dt.date(2026, 11, 12)
    )
    services.record_review_held(
        actor=manager,
        review=marketing_review,
        meeting_on=dt.date(2026, 11, 12),
        minutes="Every target met in October; both campaign launches supported within target. "
        "Consumption within funding. Agreed: keep the P1 launch queue; Marketing to stop buying "
        "SaaS tools without IT (exclusivity commitment).",
    )
    services.prepare_review(
        actor=manager,
        customer=c["retail"],
        period="2026-10",
        meeting_on=dt.date(2026, 11, 26),
    )
