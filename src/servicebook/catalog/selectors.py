"""Reads about the catalog: what stands between a service and going live."""

from __future__ import annotations

from servicebook.catalog.models import Service, SpecificationStatus
from servicebook.policy import POLICIES


def offered_to_signers(service: Service) -> bool:
    """Whether customers whose policy signs off designs (internal ones) may be offered it."""
    return any(
        service.offered_to in p.catalog_audiences for p in POLICIES.values() if p.signs_off_design
    )


def go_live_blockers(service: Service) -> list[str]:
    """A service offered to customers whose policy signs off designs (internal customers) goes
    live only with the latest specification made with each such customer signed off, and at
    least one signed off when it is offered to them at all."""
    offered = offered_to_signers(service)
    latest: dict[int, object] = {}
    for spec in service.specifications.select_related("customer").order_by("version"):
        if spec.customer_id and spec.customer.policy.signs_off_design:
            latest[spec.customer_id] = spec
    blockers = [
        f"the specification v{spec.version} made with {spec.customer} is not signed off"
        for spec in latest.values()
        if spec.status != SpecificationStatus.SIGNED_OFF
    ]
    if offered and not latest:
        blockers.append(
            "no internal customer has signed off a design specification of this service"
        )
    return blockers
