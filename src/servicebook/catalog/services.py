"""Every write to the service catalog."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from servicebook import ports
from servicebook.catalog.models import (
    TIERED_MODELS,
    DesignSpecification,
    Offering,
    Positioning,
    PriceTier,
    Service,
    ServiceStatus,
    SpecificationStatus,
)
from servicebook.catalog.selectors import go_live_blockers, offered_to_signers
from servicebook.core.errors import DomainError
from servicebook.core.models import User
from servicebook.core.roles import Role
from servicebook.core.services import apply_changes, require_role, save_validated
from servicebook.parties.models import CustomerEvent, Provider

CATALOG_EDITORS = (Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER)


@transaction.atomic
def create_service(
    *, actor: User | None, provider: Provider, established: bool = False, **fields
) -> Service:
    """Add a service. A new one starts in the pipeline when internal customers sign off designs:
    it goes live once they have (``update_service``). ``established``: a service already live
    before Servicebook (loaded from master data, or the demo's), whose design was agreed then."""
    require_role(actor, *CATALOG_EDITORS, action="Adding a service")
    service = Service(provider=provider, **fields)
    if service.status == ServiceStatus.LIVE and not established and offered_to_signers(service):
        raise DomainError(
            "a new service offered to internal customers starts in the pipeline and goes live "
            "once one of them has signed off its design; an established service loads as live "
            "through the master data import",
            code="go_live_refused",
            field="status",
        )
    save_validated(service)
    return service


@transaction.atomic
def update_service(*, actor: User | None, service: Service, **changes) -> Service:
    """Change a service; going live from the pipeline needs the sign-offs of R10."""
    require_role(actor, *CATALOG_EDITORS, action="Changing a service")
    changes.pop("provider", None)
    going_live = service.status == ServiceStatus.PIPELINE and changes.get("status") == "live"
    if going_live and (blockers := go_live_blockers(service)):
        raise DomainError("cannot go live: " + "; ".join(blockers), code="go_live_refused")
    moving = "data_locations" in changes and changes["data_locations"] != service.data_locations
    law = ports.jurisdiction_law.get()  # R20: the agreements app re-checks its agreements
    agreements = law.agreements_using(service) if moving else []
    before = law.snapshot(agreements)
    changed = apply_changes(service, changes)
    if changed:
        save_validated(service)
    if moving:
        old, new = changed["data_locations"]
        # R20: every agreement using the service is checked again against its customer's law.
        law.recheck(
            actor=actor,
            agreements=law.agreements_using(service),
            before=before,
            cause=f"{service.name}'s data locations changed from {', '.join(old) or 'none'} "
            f"to {', '.join(new) or 'none'}",
        )
    return service


@transaction.atomic
def create_offering(
    *,
    actor: User | None,
    service: Service,
    tiers: list[tuple[Decimal, Decimal]] | None = None,
    **fields,
) -> Offering:
    require_role(actor, *CATALOG_EDITORS, Role.FINANCE, action="Adding an offering")
    offering = Offering(service=service, **fields)
    save_validated(offering)
    _set_tiers(offering, tiers or [])
    return offering


@transaction.atomic
def update_offering(
    *,
    actor: User | None,
    offering: Offering,
    tiers: list[tuple[Decimal, Decimal]] | None = None,
    **changes,
) -> Offering:
    require_role(actor, *CATALOG_EDITORS, Role.FINANCE, action="Changing an offering")
    changes.pop("service", None)
    if apply_changes(offering, changes):
        save_validated(offering)
    if tiers is not None or "charge_model" in changes:
        existing = [(t.lower_bound, t.unit_price) for t in offering.tiers.all()]
        _set_tiers(offering, existing if tiers is None else tiers)
    return offering


def _set_tiers(offering: Offering, tiers: list[tuple[Decimal, Decimal]]) -> None:
    if offering.charge_model in TIERED_MODELS:
        if not tiers:
            raise ValidationError({"tiers": "graduated and volume offerings need tiers"})
        bounds = [Decimal(lower) for lower, _ in tiers]
        if bounds[0] != 0:
            raise ValidationError({"tiers": "the first tier must start at 0"})
        if bounds != sorted(set(bounds)):
            raise ValidationError({"tiers": "tier lower bounds must be strictly increasing"})
    elif tiers:
        raise ValidationError({"tiers": "only graduated and volume offerings have tiers"})
    offering.tiers.all().delete()
    for lower, price in tiers:
        tier = PriceTier(offering=offering, lower_bound=lower, unit_price=price)
        save_validated(tier)


@transaction.atomic
def create_specification(
    *, actor: User | None, service: Service, customer=None, **fields
) -> DesignSpecification:
    """A new version of a service's design specification (R10).

    Customers join design only in the positionings their policy allows, and expected ROI is
    recorded only for customers whose policy has the provider record it (internal ones).
    """
    require_role(actor, *CATALOG_EDITORS, action="Writing a design specification")
    positioning = fields.get("positioning", Positioning.PRE_DEFINED)
    if customer is not None:
        policy = customer.policy
        if not policy.may_join_design(positioning):
            raise DomainError(
                f"{customer} may join design only in "
                f"{' or '.join(sorted(policy.design_participation))} positioning",
                code="design_participation_refused",
                field="positioning",
            )
        if fields.get("expected_roi") and not policy.records_customer_roi:
            raise DomainError(
                "the provider does not compute an external customer's return on investment",
                code="no_customer_roi",
                field="expected_roi",
            )
    last = service.specifications.order_by("-version").first()
    spec = DesignSpecification(
        service=service, customer=customer, version=(last.version + 1) if last else 1, **fields
    )
    save_validated(spec)
    return spec


@transaction.atomic
def sign_off_specification(
    *, actor: User | None, specification: DesignSpecification, contact
) -> DesignSpecification:
    """The customer's approver signs the specification off; older signed versions with the
    same customer are superseded."""
    require_role(actor, *CATALOG_EDITORS, action="Recording a sign-off")
    if specification.status != SpecificationStatus.DRAFT:
        raise DomainError("only a draft specification can be signed off", code="not_draft")
    if specification.customer_id is None or contact.customer_id != specification.customer_id:
        raise DomainError(
            "the sign-off must come from the customer the design was made with", field="contact"
        )
    if not (contact.active and contact.is_approver):
        raise DomainError(f"{contact.name} is not an approver", code="no_authority")
    specification.service.specifications.filter(
        customer=specification.customer, status=SpecificationStatus.SIGNED_OFF
    ).update(status=SpecificationStatus.SUPERSEDED)
    specification.status = SpecificationStatus.SIGNED_OFF
    specification.signed_off_by, specification.signed_off_at = contact, timezone.now()
    save_validated(specification)
    CustomerEvent.objects.create(
        customer=specification.customer,
        actor=actor,
        action="specification_signed_off",
        from_state=SpecificationStatus.DRAFT,
        to_state=SpecificationStatus.SIGNED_OFF,
        note=f"{specification} signed off by {contact.name}",
    )
    return specification
