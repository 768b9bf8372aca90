"""Every write to demand and investment requests: validated, permission-checked, audited.

The internal-vs-external rules come from the customer's policy only: ``demand_check``
("challenge" | "legal_possible_profitable"), ``records_customer_roi`` and ``may_join_design``.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.text import slugify

from servicebook.catalog import services as catalog_services
from servicebook.catalog.models import Service
from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.core.models import User
from servicebook.core.money import Money
from servicebook.core.roles import Role, has_role, holds_role, is_provider_staff
from servicebook.core.services import require_role, save_validated
from servicebook.demand import investment
from servicebook.demand.models import (
    Alternative,
    BusinessCase,
    CapacityNeed,
    CapacityPool,
    DemandKind,
    DemandRequest,
    DemandStatus,
    ExternalCheck,
    Requirement,
)
from servicebook.demand.strategy import (
    DEMAND_MANAGERS,
    Links,
    check_objectives,
    link_objectives,
    refuse,
)
from servicebook.demand.workflows import DEMAND_REQUEST, OPEN
from servicebook.parties import services as parties_services
from servicebook.parties.authority import (
    acting_contact,
    require_approver,
    require_customer_in_good_standing,
    require_requester,
)
from servicebook.parties.models import Contact, Customer, CustomerStatus, Sector
from servicebook.policy import DemandCheck, RefusalGround, policy_for

#: R18: senior management justifies a request; the IT admin (even a superuser) cannot.
SENIOR_MANAGEMENT = Role.SENIOR_MANAGER
#: Minimum margin on an external request when the provider records none (commercial sector).
DEFAULT_MINIMUM_MARGIN = Decimal("0.10")


def _locked(demand: DemandRequest) -> DemandRequest:
    return DemandRequest.objects.select_for_update().get(pk=demand.pk)


def _require_check(demand: DemandRequest, check: str, *, doing: str) -> None:
    policy = policy_for(demand.customer)
    if policy.demand_check != check:
        message = (
            "an external customer's request is accepted when legal, possible and profitable; "
            "it is not challenged"
            if check == "challenge"
            else "an internal customer's request is challenged with a business case and "
            "alternatives"
        )
        raise DomainError(f"{doing}: {message}", code="wrong_check", field="status")


# --- who may do what (asked by the services, the pages and the API alike) -------------------------


def may_manage(user) -> bool:
    """Provider staff who run the demand process (business case, alternatives, check, decide)."""
    return is_provider_staff(user) and has_role(user, *DEMAND_MANAGERS)


def may_justify(user) -> bool:
    """Only a senior manager records a senior-management justification, never the IT
    admin: holding the role is required, the superuser shortcut does not count."""
    return is_provider_staff(user) and holds_role(user, SENIOR_MANAGEMENT)


def may_choose(user, demand: DemandRequest) -> bool:
    """Staff record the customer's choice; a customer user chooses for its own customer."""
    if is_provider_staff(user):
        return may_manage(user)
    return getattr(user, "customer_id", None) == demand.customer_id


def _start_assessment(demand, actor) -> None:
    if demand.status == DemandStatus.SUBMITTED:
        DEMAND_REQUEST.move(demand, DemandStatus.ASSESSMENT, actor=actor)


def _next_reference() -> str:
    prefix = f"DEM-{timezone.now().year}-"
    last = (
        DemandRequest.objects.filter(reference__startswith=prefix)
        .order_by("-reference")
        .values_list("reference", flat=True)
        .first()
    )
    number = int(last.removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{number:04d}"


def _customer_side(actor, demand: DemandRequest, *, action: str) -> None:
    """The customer's own users act as themselves; staff record for the requester."""
    if actor is not None and not is_provider_staff(actor):
        acting_contact(actor, demand.customer, None, staff_roles=DEMAND_MANAGERS, action=action)
    else:
        require_role(actor, *DEMAND_MANAGERS, action=action)


# --- the request --------------------------------------------------------------------------------


@transaction.atomic
def create_demand(
    *,
    actor: User | None,
    customer: Customer,
    title: str,
    expected_outcomes: str,
    required_investment: Decimal,
    requirements: list[str] | None = None,
    requester: Contact | None = None,
    kind: str = DemandKind.NEW_SERVICE,
    service: Service | None = None,
    description: str = "",
    positioning: str = "bespoke",
    requested_option: str = "As requested",
    reference: str = "",
    objectives: Links | None = None,
) -> DemandRequest:
    """A customer's authorized requester asks for a new or changed service.

    A customer user asks as itself; provider staff record a request for a named requester.
    An internal request names the organization objectives it serves (``objectives``: objectives
    or ``(objective, how)`` pairs, at least one of its customer's); an external one names none.
    An internal request gets its preferred option as the first alternative to challenge.
    """
    requester = acting_contact(
        actor, customer, requester, staff_roles=DEMAND_MANAGERS, action="Requesting a service"
    )
    require_customer_in_good_standing(customer, what="new requests")
    require_requester(requester)
    served = check_objectives(customer, objectives)
    demand = DemandRequest(
        reference=reference or _next_reference(),
        customer=customer,
        requester=requester,
        kind=kind,
        service=service,
        title=title,
        description=description,
        expected_outcomes=expected_outcomes,
        required_investment=required_investment,
        currency=customer.billing_currency,
        positioning=positioning,
    )
    save_validated(demand)
    link_objectives(demand, served)
    texts = [t.strip() for t in (requirements or []) if t and t.strip()]
    if len(set(texts)) != len(texts):
        raise ValidationError({"requirements": "each requirement once"})
    created = [Requirement(demand=demand, text=text) for text in texts]
    for requirement in created:
        save_validated(requirement)
    DEMAND_REQUEST.record(
        demand,
        actor,
        "submitted",
        to_state=demand.status,
        note=f"by {requester.name}: {Money(required_investment, demand.currency)}",
    )
    if policy_for(customer).demand_check is DemandCheck.CHALLENGE:
        option = Alternative(
            demand=demand,
            name=requested_option or "As requested",
            cost=required_investment,
            is_requested=True,
        )
        save_validated(option)
        option.meets.set(created)
    return demand


@transaction.atomic
def add_requirement(*, actor: User | None, demand: DemandRequest, text: str) -> Requirement:
    """Add a requirement every acceptable option must meet (the customer's or the provider's)."""
    _customer_side(actor, demand, action="Adding a requirement")
    demand = _locked(demand)
    DEMAND_REQUEST.require(demand, OPEN, doing="get new requirements")
    requirement = Requirement(demand=demand, text=text.strip())
    save_validated(requirement)
    DEMAND_REQUEST.record(demand, actor, "requirement_added", note=requirement.text)
    _reconsider_hold(demand, actor)
    return requirement


# --- internal: the challenge --------------------------------------------------------------------


@transaction.atomic
def record_business_case(
    *,
    actor: User | None,
    demand: DemandRequest,
    expected_business_outcomes: str,
    yearly_net_benefit: Decimal,
    years: int = 5,
) -> BusinessCase:
    """Expected business outcomes and ROI at the provider's discount rate (internal only)."""
    require_role(actor, *DEMAND_MANAGERS, action="Recording a business case")
    demand = _locked(demand)
    DEMAND_REQUEST.require(demand, OPEN, doing="get a business case")
    if not policy_for(demand.customer).records_customer_roi:
        raise DomainError(
            "the provider does not compute an external customer's return on investment",
            code="no_customer_roi",
            field="yearly_net_benefit",
        )
    case = BusinessCase.objects.filter(demand=demand).first() or BusinessCase(demand=demand)
    old_npv = case.npv if case.pk else None
    case.expected_business_outcomes = expected_business_outcomes
    case.yearly_net_benefit = yearly_net_benefit
    case.years = years
    _figure(case, demand)
    save_validated(case)
    _start_assessment(demand, actor)
    DEMAND_REQUEST.record(demand, actor, "business_case", note=_case_note(case, demand))
    if old_npv is not None and old_npv != case.npv:
        _withdraw_justification(demand, "negative_npv")
    _reconsider_hold(demand, actor)
    return case


def _figure(case: BusinessCase, demand: DemandRequest) -> None:
    """NPV, payback and ROI on the demand's investment: the chosen option's cost once the
    customer has chosen, else what it asked for; at the provider's discount rate."""
    rate = demand.customer.provider.discount_rate
    try:
        numbers = investment.figures(
            investment=demand.investment,
            yearly_benefit=case.yearly_net_benefit,
            years=case.years,
            rate=rate,
        )
    except ValueError as error:
        raise ValidationError({"years": str(error)}) from None
    case.investment = demand.investment
    case.discount_rate = rate
    case.npv = numbers.npv
    case.payback_years = numbers.payback_years
    case.roi_percent = numbers.roi_percent


def _case_note(case: BusinessCase, demand: DemandRequest) -> str:
    payback = f"{case.payback_years} years" if case.payback_years else "none in horizon"
    return (
        f"NPV {Money(case.npv, demand.currency)} on an investment of "
        f"{Money(case.investment, demand.currency)} at {case.discount_rate * 100:.2f}% over "
        f"{case.years} years; payback {payback}"
    )


def _refigure_case(demand: DemandRequest, actor) -> None:
    """Once an option is chosen, the business case is figured on that option's cost."""
    case = BusinessCase.objects.filter(demand=demand).first()
    if case is None or case.investment == demand.investment:
        return
    _figure(case, demand)
    save_validated(case)
    DEMAND_REQUEST.record(
        demand,
        actor,
        "business_case",
        note=f"refigured on the chosen option “{demand.chosen.name}”: {_case_note(case, demand)}",
    )


def _withdraw_justification(demand: DemandRequest, code: str) -> None:
    """The facts a justification covered changed: it no longer covers ``code``."""
    if code not in demand.justified_reasons:
        return
    left = sorted(demand.justified_reasons - {code})
    if left:
        demand.justified_for = ",".join(left)
    else:
        demand.justification, demand.justified_by, demand.justified_at = "", None, None
        demand.justified_for = ""
    save_validated(demand)


@transaction.atomic
def add_alternative(
    *,
    actor: User | None,
    demand: DemandRequest,
    name: str,
    cost: Decimal,
    meets: list[Requirement] | None = None,
    description: str = "",
) -> Alternative:
    """An alternative with its cost and the requirements it meets (internal challenge)."""
    require_role(actor, *DEMAND_MANAGERS, action="Adding an alternative")
    demand = _locked(demand)
    DEMAND_REQUEST.require(demand, OPEN, doing="get alternatives")
    _require_check(demand, "challenge", doing="Adding an alternative")
    meets = list(meets or [])
    if any(r.demand_id != demand.pk for r in meets):
        raise ValidationError({"meets": "requirements of another demand"})
    alternative = Alternative(demand=demand, name=name, cost=cost, description=description)
    save_validated(alternative)
    alternative.meets.set(meets)
    _start_assessment(demand, actor)
    every = "meets every requirement" if alternative.meets_every_requirement() else "falls short"
    DEMAND_REQUEST.record(
        demand,
        actor,
        "alternative_added",
        note=f"{name}: {Money(cost, demand.currency)}, {every}",
    )
    _reconsider_hold(demand, actor)
    return alternative


def _cached_one(demand: DemandRequest, name: str, model):
    """The demand's one-to-one ``name`` (business case, external check): from the instance when
    the list's query brought it (``select_related``), else read fresh; None when there is none."""
    descriptor = getattr(DemandRequest, name)
    if descriptor.is_cached(demand):
        try:
            return getattr(demand, name)
        except model.DoesNotExist:
            return None
    return model.objects.filter(demand=demand).first()


def _alternatives(demand: DemandRequest) -> list[Alternative]:
    """The demand's options with what each meets: prefetched by a list, else read here."""
    if "alternatives" in getattr(demand, "_prefetched_objects_cache", {}):
        return list(demand.alternatives.all())
    return list(demand.alternatives.prefetch_related("meets"))


def cheaper_compliant(demand: DemandRequest, chosen: Alternative | None = None):
    """The cheapest option meeting every requirement that costs less than the chosen one."""
    chosen = chosen or demand.chosen
    if chosen is None:
        return None
    options = [
        alt
        for alt in _alternatives(demand)
        if alt.pk != chosen.pk and alt.cost < chosen.cost and alt.meets_every_requirement()
    ]
    return min(options, key=lambda alt: (alt.cost, alt.pk), default=None)


def difference_percent(demand: DemandRequest) -> Decimal | None:
    """How much cheaper the cheapest compliant alternative is than the chosen option."""
    cheaper = cheaper_compliant(demand)
    if cheaper is None:
        return None
    return investment.cheaper_by_percent(chosen=demand.chosen.cost, cheaper=cheaper.cost)


def justification_reasons(demand: DemandRequest) -> list[tuple[str, str]]:
    """(code, reason) pairs for which the request needs a senior-management justification
    before approval (R18), as the customer's policy says: an internal business case with a
    negative NPV, or a costlier option chosen over a cheaper one meeting every requirement."""
    needed = policy_for(demand.customer).justification_needed_for
    reasons = []
    if "negative_npv" in needed:
        case = _cached_one(demand, "business_case", BusinessCase)
        if case is not None and case.npv < 0:
            reasons.append(
                (
                    "negative_npv",
                    f"the business case's NPV is negative ({Money(case.npv, demand.currency)} "
                    f"on {Money(case.investment, demand.currency)})",
                )
            )
    if "costlier_option" in needed and demand.chosen_id:
        cheaper = cheaper_compliant(demand)
        if cheaper is not None:
            percent = investment.cheaper_by_percent(chosen=demand.chosen.cost, cheaper=cheaper.cost)
            reasons.append(
                (
                    "costlier_option",
                    f"“{cheaper.name}” meets every requirement and is {percent}% cheaper than "
                    f"the chosen “{demand.chosen.name}”",
                )
            )
    return reasons


def unjustified_reasons(demand: DemandRequest) -> list[tuple[str, str]]:
    """The reasons needing a justification that no recorded justification covers yet."""
    covered = demand.justified_reasons
    return [(code, reason) for code, reason in justification_reasons(demand) if code not in covered]


def _reconsider_hold(demand: DemandRequest, actor) -> None:
    """Hold the demand while a reason needs a senior-management justification; release it
    when none is left."""
    if demand.status not in OPEN:
        return
    missing = unjustified_reasons(demand)
    if missing and demand.status != DemandStatus.HELD:
        DEMAND_REQUEST.move(
            demand,
            DemandStatus.HELD,
            actor=actor,
            reason=missing[0][0],
            note="; ".join(reason for _, reason in missing)
            + ": a senior-management justification is needed",
        )
    elif not missing and demand.status == DemandStatus.HELD:
        DEMAND_REQUEST.move(
            demand, DemandStatus.ASSESSMENT, actor=actor, note="nothing left to justify"
        )


@transaction.atomic
def choose_alternative(
    *, actor: User | None, demand: DemandRequest, alternative: Alternative, note: str = ""
) -> DemandRequest:
    """The customer chooses an option; a costlier one than a compliant alternative holds it."""
    _customer_side(actor, demand, action="Choosing an option")
    demand = _locked(demand)
    DEMAND_REQUEST.require(demand, OPEN, doing="change its chosen option")
    _require_check(demand, "challenge", doing="Choosing an option")
    if alternative.demand_id != demand.pk:
        raise ValidationError({"alternative": "an option of another demand"})
    if demand.chosen_id != alternative.pk and demand.justified_at:
        demand.justification, demand.justified_by, demand.justified_at = "", None, None
        demand.justified_for = ""
    demand.chosen = alternative
    save_validated(demand)
    _start_assessment(demand, actor)
    DEMAND_REQUEST.record(
        demand,
        actor,
        "option_chosen",
        note=f"{alternative.name}: {Money(alternative.cost, demand.currency)}. {note}".strip(),
    )
    _refigure_case(demand, actor)
    _reconsider_hold(demand, actor)
    return demand


@transaction.atomic
def record_justification(
    *, actor: User | None, demand: DemandRequest, justification: str
) -> DemandRequest:
    """A senior manager records the justification of a held internal request: it covers
    every reason the request is held for (a negative NPV, a costlier option)."""
    if actor is not None and not may_justify(actor):
        raise PermissionDenied(
            "Recording a senior-management justification needs the senior_manager role: "
            "senior management justifies a request, not the IT admin or a service manager"
        )
    demand = _locked(demand)
    missing = unjustified_reasons(demand)
    if demand.status != DemandStatus.HELD or not missing:
        raise DomainError(
            f"{demand.reference} is not held for a justification",
            code="not_held",
            field="justification",
        )
    if not justification.strip():
        raise ValidationError({"justification": "write the justification"})
    demand.justification = justification.strip()
    demand.justified_by = actor
    demand.justified_at = timezone.now()
    demand.justified_for = ",".join(code for code, _ in justification_reasons(demand))
    save_validated(demand)
    DEMAND_REQUEST.move(
        demand,
        DemandStatus.ASSESSMENT,
        actor=actor,
        action="justified",
        note="; ".join(reason for _, reason in missing) + f": {demand.justification}",
    )
    return demand


# --- external: legal, possible, profitable ------------------------------------------------------


def minimum_margin(provider) -> Decimal:
    """The margin an external price must carry over cost: the provider's setting when it
    has one; otherwise 10% for a commercial provider, and for a non-profit or government
    provider the share of cost it must recover (recovery share − 1, e.g. 0 or below)."""
    configured = getattr(provider, "minimum_margin", None)
    if configured is not None:
        return configured
    if provider.sector == Sector.COMMERCIAL:
        return DEFAULT_MINIMUM_MARGIN
    return provider.recovery_share - Decimal(1)


@transaction.atomic
def record_external_check(
    *,
    actor: User | None,
    demand: DemandRequest,
    legal: bool,
    feasible: bool,
    quoted_price: Decimal,
    estimated_cost: Decimal,
    legal_note: str = "",
    feasibility_note: str = "",
    suspend_customer: bool = False,
) -> ExternalCheck:
    """Record whether an external request is legal, possible and profitable.

    An illegal request is refused at once and, with ``suspend_customer``, the customer is
    suspended for an illegal request (R16). An impossible one is refused. An unprofitable one
    stays open to be re-quoted; it cannot be approved.
    """
    require_role(actor, *DEMAND_MANAGERS, action="Checking a request")
    demand = _locked(demand)
    DEMAND_REQUEST.require(demand, OPEN, doing="be checked")
    _require_check(demand, "legal_possible_profitable", doing="Checking a request")
    if suspend_customer and legal:
        raise ValidationError({"suspend_customer": "only an illegal request suspends a customer"})
    margin = minimum_margin(demand.customer.provider)
    floor = investment.price_floor(cost=estimated_cost, minimum_margin=margin)
    check = ExternalCheck.objects.filter(demand=demand).first() or ExternalCheck(demand=demand)
    check.legal = legal
    check.legal_note = legal_note
    check.feasible = feasible
    check.feasibility_note = feasibility_note
    check.quoted_price = quoted_price
    check.estimated_cost = estimated_cost
    check.minimum_margin = margin
    check.profitable = quoted_price >= floor
    check.checked_by = actor
    save_validated(check)
    _start_assessment(demand, actor)
    # The customer can read the history: profitability (cost, margin) stays in the check (R7).
    DEMAND_REQUEST.record(
        demand,
        actor,
        "checked",
        note=f"legal: {'yes' if legal else 'no'}; possible: {'yes' if feasible else 'no'}; "
        f"quoted {Money(quoted_price, demand.currency)}",
    )
    if not legal:
        refuse(
            demand,
            actor=actor,
            ground=RefusalGround.ILLEGAL,
            reason=legal_note or "the legal check failed",
        )
        if suspend_customer:
            parties_services.change_customer_status(
                actor=actor,
                customer=demand.customer,
                to_status=CustomerStatus.SUSPENDED,
                reason="illegal_request",
                note=f"{demand.reference}: {legal_note}".strip(": "),
            )
    elif not feasible:
        refuse(
            demand,
            actor=actor,
            ground=RefusalGround.NOT_FEASIBLE,
            reason=feasibility_note or "the feasibility check failed",
        )
    return check


# --- capacity -----------------------------------------------------------------------------------


@transaction.atomic
def create_pool(*, actor: User | None, **fields) -> CapacityPool:
    """A pool of staff hours or technology units for a period."""
    require_role(actor, *DEMAND_MANAGERS, action="Creating a capacity pool")
    fields.setdefault("currency", _base_currency())
    pool = CapacityPool(**fields)
    save_validated(pool)
    return pool


def _base_currency() -> str:
    from servicebook.parties.models import Provider

    return Provider.current().base_currency


def reserved_in(pool: CapacityPool, *, exclude_demand: DemandRequest | None = None) -> Decimal:
    queryset = pool.needs.filter(reserved=True)
    if exclude_demand is not None:
        queryset = queryset.exclude(demand=exclude_demand)
    return queryset.aggregate(total=Sum("quantity"))["total"] or Decimal(0)


@transaction.atomic
def set_capacity_need(
    *, actor: User | None, demand: DemandRequest, pool: CapacityPool, quantity: Decimal
) -> CapacityNeed:
    """How much of a pool the demand needs (reserved on approval)."""
    require_role(actor, *DEMAND_MANAGERS, action="Planning capacity")
    demand = _locked(demand)
    DEMAND_REQUEST.require(demand, OPEN, doing="change its capacity needs")
    need = CapacityNeed.objects.filter(demand=demand, pool=pool).first() or CapacityNeed(
        demand=demand, pool=pool
    )
    need.quantity = quantity
    save_validated(need)
    DEMAND_REQUEST.record(
        demand, actor, "capacity_need", note=f"{quantity} {pool.unit} of {pool.name}"
    )
    return need


# --- decision -----------------------------------------------------------------------------------


def approval_blockers(demand: DemandRequest) -> list[tuple[str, str]]:
    """(code, reason) pairs that keep a demand from being approved, by the customer's policy."""
    blockers = []
    check = policy_for(demand.customer).demand_check
    if check == "challenge":
        if _cached_one(demand, "business_case", BusinessCase) is None:
            blockers.append(("no_business_case", "record the business case (outcomes and ROI)"))
        if all(alt.is_requested for alt in _alternatives(demand)):
            blockers.append(("no_alternatives", "challenge the request with alternatives"))
        if demand.chosen_id is None:
            blockers.append(("no_choice", "the customer has not chosen an option"))
        blockers.extend(
            (
                "justification_required",
                f"{reason}: a senior manager must record a senior-management justification",
            )
            for _, reason in unjustified_reasons(demand)
        )
    else:
        external = _cached_one(demand, "external_check", ExternalCheck)
        if external is None:
            blockers.append(("not_checked", "check it is legal, possible and profitable"))
        elif not external.legal:
            blockers.append(("illegal_request", "the request is not legal"))
        elif not external.feasible:
            blockers.append(("not_feasible", "the request is not possible"))
        elif not external.profitable:
            blockers.append(
                ("not_profitable", "the quoted price does not cover cost plus the minimum margin")
            )
    return blockers


def blockers_shown_to(user, demand: DemandRequest) -> list[str]:
    """The approval blockers as ``user`` may read them (the page and the API alike): whether the
    quote covers cost plus the minimum margin is for those who see margins only."""
    from servicebook.policy import user_may_see_margin

    blockers = approval_blockers(demand)
    if not user_may_see_margin(user):
        blockers = [
            (code, "the provider is preparing its quote" if code == "not_profitable" else reason)
            for code, reason in blockers
        ]
    return [reason for _, reason in blockers]


def value_at_stake(demand: DemandRequest) -> Decimal:
    """What the customer's approver commits to: the chosen option, else the request."""
    if demand.chosen_id:
        return demand.chosen.cost
    external = getattr(demand, "external_check", None)
    if external is not None:
        return external.quoted_price
    return demand.required_investment


@transaction.atomic
def approve_demand(
    *, actor: User | None, demand: DemandRequest, approver: Contact, note: str = ""
) -> DemandRequest:
    """Approve a demand: the provider decides, the customer's approver commits.

    Refused for a suspended customer (R16), without enough authority (R17), while the policy's
    check is incomplete (R18), or when a capacity pool cannot hold what the demand needs. An
    approved new service becomes a pipeline service; the policy says whether the customer joins
    its design (R10).
    """
    require_role(actor, *DEMAND_MANAGERS, action="Approving a demand")
    demand = _locked(demand)
    DEMAND_REQUEST.check(demand, DemandStatus.APPROVED)
    customer = demand.customer
    require_customer_in_good_standing(customer, what="approvals")
    if approver.customer_id != customer.pk:
        raise DomainError(
            f"{approver.name} is not a contact of {customer.name}",
            code="wrong_customer",
            field="approver",
        )
    blockers = approval_blockers(demand)
    if blockers:
        code = blockers[0][0]
        raise DomainError(
            "cannot approve: " + "; ".join(reason for _, reason in blockers),
            code=code,
            field="status",
        )
    require_approver(approver, amount=value_at_stake(demand), currency=demand.currency)
    for need in demand.capacity_needs.select_related("pool").select_for_update():
        pool = CapacityPool.objects.select_for_update().get(pk=need.pool_id)
        left = pool.capacity - reserved_in(pool, exclude_demand=demand)
        if need.quantity > left:
            raise DomainError(
                f"{pool.name} has {left} {pool.unit} left; {demand.reference} needs "
                f"{need.quantity}",
                code="capacity_exhausted",
                field="capacity",
            )
        need.reserved = True
        save_validated(need)
    demand.approved_by_contact = approver
    policy = policy_for(customer)
    demand.customer_joins_design = policy.may_join_design(demand.positioning)
    if demand.kind == DemandKind.NEW_SERVICE and demand.design_service_id is None:
        demand.design_service = catalog_services.create_service(
            actor=actor,
            provider=customer.provider,
            code=slugify(demand.reference)[:40],
            name=demand.title[:200],
            description=f"From demand {demand.reference} of {customer.name}.",
            status="pipeline",
        )
    DEMAND_REQUEST.move(
        demand,
        DemandStatus.APPROVED,
        actor=actor,
        note=f"committed by {approver.name}"
        + (", customer joins the design" if demand.customer_joins_design else "")
        + (f". {note}" if note else ""),
    )
    return demand


@transaction.atomic
def reject_demand(
    *, actor: User | None, demand: DemandRequest, reason: str = "declined", note: str = ""
) -> DemandRequest:
    require_role(actor, *DEMAND_MANAGERS, action="Rejecting a demand")
    demand = _locked(demand)
    DEMAND_REQUEST.check(demand, DemandStatus.REJECTED)
    demand.rejection_reason = reason[:40]
    DEMAND_REQUEST.move(demand, DemandStatus.REJECTED, actor=actor, reason=reason[:40], note=note)
    return demand
