"""What a request serves, and when the provider refuses it (R9, R18).

An internal customer shares the organization's objectives: its request must name at least one of
the objectives it is linked to, with a short "how". An external customer has its own desired
outcomes (on its agreement): its request names no organization objective. Both rules are the
customer's policy (``demand_names_objectives``).

The provider may refuse a request, with a written reason, on the grounds the customer's policy
allows (``refusal_grounds``): an external request that is illegal or impossible, and an internal
one that also works against the organization's objectives or its profitability. ITIL calls a
provider that does what damages the business negligent, whoever asked. Every refusal goes
through :func:`refuse`: the ground is the rejection reason, the reason the customer reads in the
request's history.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from servicebook.core.errors import DomainError
from servicebook.core.models import User
from servicebook.core.roles import Role, is_provider_staff
from servicebook.core.services import require_role, save_validated
from servicebook.demand.models import DemandObjective, DemandRequest, DemandStatus
from servicebook.demand.workflows import DEMAND_REQUEST, OPEN
from servicebook.parties.authority import acting_contact
from servicebook.parties.models import Customer, Objective
from servicebook.policy import REFUSAL_LABELS, RefusalGround, policy_for

DEMAND_MANAGERS = (Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER)

#: ``(objective, how)`` pairs, or bare objectives (no "how" yet).
Links = Iterable["Objective | tuple[Objective, str]"]


def _pairs(links: Links | None) -> list[tuple[Objective, str]]:
    pairs = []
    for link in links or ():
        objective, how = link if isinstance(link, tuple) else (link, "")
        pairs.append((objective, (how or "").strip()[:300]))
    return pairs


def check_objectives(customer: Customer, links: Links | None) -> list[tuple[Objective, str]]:
    """The objectives a new request of ``customer`` names, checked against its policy: an
    internal request names at least one of its customer's objectives, an external one none."""
    pairs = _pairs(links)
    policy = policy_for(customer)
    if not policy.demand_names_objectives:
        if pairs:
            raise DomainError(
                f"{customer.name} has its own desired outcomes, recorded on its agreement: "
                "its request names no organization objective",
                code="objectives_not_shared",
                field="objectives",
            )
        return []
    if not pairs:
        raise ValidationError(
            {"objectives": "name at least one organization objective the request serves"}
        )
    shared = set(customer.objectives.values_list("pk", flat=True))
    for objective, _ in pairs:
        if objective.pk not in shared:
            raise ValidationError(
                {"objectives": f"“{objective}” is not an objective {customer.name} shares"}
            )
    if len({o.pk for o, _ in pairs}) != len(pairs):
        raise ValidationError({"objectives": "name each objective once"})
    return pairs


def link_objectives(demand: DemandRequest, pairs: list[tuple[Objective, str]]) -> None:
    for objective, how in pairs:
        save_validated(DemandObjective(demand=demand, objective=objective, how=how))


@transaction.atomic
def serve_objective(
    *, actor: User | None, demand: DemandRequest, objective: Objective, how: str = ""
) -> DemandObjective:
    """Name a further objective an open internal request serves (or reword how it serves)."""
    _customer_side(actor, demand, action="Naming an objective the request serves")
    demand = DemandRequest.objects.select_for_update().get(pk=demand.pk)
    DEMAND_REQUEST.require(demand, OPEN, doing="name objectives")
    link = DemandObjective.objects.filter(demand=demand, objective=objective).first()
    if link is None:
        (objective, how), *_ = check_objectives(demand.customer, [(objective, how)])
        link = DemandObjective(demand=demand, objective=objective)
    link.how = how.strip()[:300]
    save_validated(link)
    DEMAND_REQUEST.record(
        demand, actor, "objective_named", note=f"{objective}: {link.how}".rstrip(": ")
    )
    return link


@transaction.atomic
def drop_objective(*, actor: User | None, demand: DemandRequest, objective: Objective) -> None:
    """Stop naming an objective; an internal request keeps at least one."""
    _customer_side(actor, demand, action="Dropping an objective")
    demand = DemandRequest.objects.select_for_update().get(pk=demand.pk)
    DEMAND_REQUEST.require(demand, OPEN, doing="drop objectives")
    links = DemandObjective.objects.filter(demand=demand)
    if not links.filter(objective=objective).exists():
        raise ValidationError({"objective": f"{demand.reference} does not name “{objective}”"})
    if links.count() == 1:
        raise ValidationError(
            {"objective": "an internal request serves at least one objective: name another first"}
        )
    links.filter(objective=objective).delete()
    DEMAND_REQUEST.record(demand, actor, "objective_dropped", note=str(objective))


def _customer_side(actor, demand: DemandRequest, *, action: str) -> None:
    if actor is not None and not is_provider_staff(actor):
        acting_contact(actor, demand.customer, None, staff_roles=DEMAND_MANAGERS, action=action)
    else:
        require_role(actor, *DEMAND_MANAGERS, action=action)


# --- refusal ------------------------------------------------------------------------------------


def refusal_grounds(demand: DemandRequest) -> list[tuple[str, str]]:
    """(ground, label) pairs the provider may refuse this request on (its customer's policy)."""
    return [(g.value, REFUSAL_LABELS[g]) for g in policy_for(demand.customer).refusal_grounds]


def refuse(demand: DemandRequest, *, actor, ground: str, reason: str) -> DemandRequest:
    """Refuse an open request on a ground its customer's policy allows, with the reason the
    customer reads. The one way a request is refused (the external check's illegal or
    impossible requests included)."""
    policy = policy_for(demand.customer)
    if not policy.may_refuse_for(ground):
        allowed = ", ".join(REFUSAL_LABELS[g].lower() for g in policy.refusal_grounds)
        raise DomainError(
            f"a {policy.label.lower()} customer's request is refused only when: {allowed}",
            code="refusal_ground",
            field="ground",
        )
    if not reason.strip():
        raise ValidationError({"reason": "write why the request is refused: the customer reads it"})
    demand.rejection_reason = str(ground)
    DEMAND_REQUEST.move(
        demand,
        DemandStatus.REJECTED,
        actor=actor,
        action="refused",
        reason=str(ground),
        note=f"{REFUSAL_LABELS[RefusalGround(ground)]}: {reason.strip()}",
    )
    return demand


@transaction.atomic
def refuse_demand(
    *, actor: User | None, demand: DemandRequest, ground: str, reason: str
) -> DemandRequest:
    """The provider refuses a request, on a ground and with a reason (R9, R18)."""
    require_role(actor, *DEMAND_MANAGERS, action="Refusing a request")
    demand = DemandRequest.objects.select_for_update().get(pk=demand.pk)
    DEMAND_REQUEST.check(demand, DemandStatus.REJECTED)
    return refuse(demand, actor=actor, ground=ground, reason=reason)
