"""Services and offerings from the organization's own CSV files (``servicebook import master``).

Each row goes through :mod:`servicebook.catalog.services` (``create_service`` /
``update_service``, ``create_offering`` / ``update_offering``), the functions the forms and the
API use: a service goes live from the pipeline only with its sign-offs (R10), tiers are checked
as on the page. The machinery is :mod:`servicebook.core.masterdata`.

Natural keys
    services: ``code``; offerings: ``code`` (unique across the catalog), within the service
    named by the ``service`` column (an offering never moves to another service).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from servicebook.catalog import services
from servicebook.catalog.models import Offering, Service
from servicebook.core.masterdata import MasterKind, RowProblem, upsert
from servicebook.core.roles import Role
from servicebook.parties.models import Provider

#: Who may load offerings: those the offering services let change prices (finance too).
OFFERING_EDITORS = (*services.CATALOG_EDITORS, Role.FINANCE)


def parse_locations(text: str) -> list[str]:
    """``FR;DE`` (or ``FR, DE``) as ``["FR", "DE"]``."""
    return [code.strip().upper() for code in text.replace(",", ";").split(";") if code.strip()]


def parse_tiers(text: str) -> list[tuple[Decimal, Decimal]]:
    """``0:12.50;100:10.00``: from 0 units at 12.50, from 100 at 10.00."""
    tiers = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        lower, _, price = part.partition(":")
        try:
            tiers.append((Decimal(lower.strip()), Decimal(price.strip())))
        except InvalidOperation:
            raise ValueError(
                f"{part!r} is not FROM:PRICE (write tiers as 0:12.50;100:10.00)"
            ) from None
    return tiers


def write_service(actor, values: dict) -> str:
    service = Service.objects.filter(code=values["code"]).first()
    return upsert(
        service,
        values,
        key=("code",),
        create=lambda fields: services.create_service(
            actor=actor, provider=Provider.current(), established=True, **fields
        ),
        update=lambda changes: services.update_service(actor=actor, service=service, **changes),
    )


def _service(code: str) -> Service:
    service = Service.objects.filter(code=code).first()
    if service is None:
        raise RowProblem("service", f"no service has the code {code!r}")
    return service


def _tiers_of(offering: Offering) -> list[tuple[Decimal, Decimal]]:
    return [(t.lower_bound, t.unit_price) for t in offering.tiers.all()]


def write_offering(actor, values: dict) -> str:
    service = _service(values.pop("service"))
    tiers = values.pop("tiers", None)
    offering = Offering.objects.filter(code=values["code"]).select_related("service").first()
    if offering is not None and offering.service_id != service.pk:
        raise RowProblem(
            "service",
            f"offering {offering.code} belongs to {offering.service.code}: an offering does not "
            "move to another service",
        )
    new_tiers = (
        offering is not None
        and tiers is not None
        and [(Decimal(a), Decimal(b)) for a, b in tiers] != _tiers_of(offering)
    )
    return upsert(
        offering,
        values,
        key=("code",),
        create=lambda fields: services.create_offering(
            actor=actor, service=service, tiers=tiers, **fields
        ),
        update=lambda changes: services.update_offering(
            actor=actor, offering=offering, tiers=tiers, **changes
        ),
        changed=new_tiers,
    )


SERVICES = MasterKind(
    name="services",
    title="Services",
    model=Service,
    key=("code",),
    required=("code", "name"),
    optional=("description", "status", "offered_to", "data_locations"),
    write=write_service,
    roles=services.CATALOG_EDITORS,
    parsers={"data_locations": parse_locations},
    help={
        "code": "short identifier, unique (letters, digits, - and _), e.g. workplace: the key",
        "name": "the service's name",
        "description": "free text",
        "status": "pipeline (the default), live or retired; going live from the pipeline "
        "needs the internal customers' sign-off of its design",
        "offered_to": "all (the default), internal or external customers",
        "data_locations": "ISO country codes where it stores data, separated by ;, e.g. FR;DE",
    },
)

OFFERINGS = MasterKind(
    name="offerings",
    title="Offerings",
    model=Offering,
    key=("code",),
    required=("service", "code", "name", "unit", "list_price", "currency"),
    optional=("charge_model", "package_size", "standard_unit_cost", "active", "tiers"),
    write=write_offering,
    roles=OFFERING_EDITORS,
    parsers={"service": str.strip, "tiers": parse_tiers},
    help={
        "service": "the service's code (load services first)",
        "code": "short identifier, unique across the catalog, e.g. workplace-std: the key",
        "name": "the offering's name",
        "unit": "user_month, device_month, gb_month, vm_hour, ticket, hour, api_call, "
        "licence_month or month",
        "list_price": "price per unit (per package, or per period if flat), e.g. 45.00",
        "currency": "e.g. EUR",
        "charge_model": "per_unit (the default), flat, graduated, volume or package",
        "package_size": "package offerings only: units in one package",
        "standard_unit_cost": "what one unit costs the provider (never shown to external "
        "customers)",
        "active": "yes or no (blank: yes)",
        "tiers": "graduated and volume offerings: FROM:PRICE pairs separated by ;, the first "
        "from 0, e.g. 0:12.50;100:10.00",
    },
)

KINDS = (SERVICES, OFFERINGS)
