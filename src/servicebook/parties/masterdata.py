"""Customers and contacts from the organization's own CSV files (``servicebook import master``).

Each row goes through :mod:`servicebook.parties.services` (``create_customer`` /
``update_customer``, ``create_contact`` / ``update_contact``), the functions the forms and the
API use: the same checks, the same events. The machinery (columns, cells, rejects, dry run) is
:mod:`servicebook.core.masterdata`.

Natural keys
    customers: ``code`` (unique across the provider); contacts: ``customer`` (the customer's
    code) and ``email`` (compared without regard to case).
"""

from __future__ import annotations

from servicebook.core.masterdata import MasterKind, RowProblem, upsert
from servicebook.core.models import User
from servicebook.parties import services
from servicebook.parties.models import Contact, Customer, Provider

#: Every field a person may set on a customer but the key, the name and the kind (relations,
#: which name a record rather than hold a value, are left to the customer's page).
CUSTOMER_OPTIONAL = tuple(
    name
    for name in Customer.EDITABLE_FIELDS
    if name not in ("code", "name", "kind") and not Customer._meta.get_field(name).is_relation
)
CUSTOMER_OPTIONAL += ("relationship_owner",)
CONTACT_OPTIONAL = ("phone", "title", "is_requester", "is_approver", "is_billing")
CONTACT_OPTIONAL += ("is_technical", "authority_limit", "active")


def write_customer(actor, values: dict) -> str:
    code = values["code"]
    customer = Customer.objects.filter(code=code).first()
    if customer is None:
        clash = Customer.objects.filter(name=values["name"]).exclude(code=code).first()
        if clash is not None:
            raise RowProblem("name", f"customer {clash.code} already has this name")
    return upsert(
        customer,
        values,
        key=("code",),
        create=lambda fields: services.create_customer(
            actor=actor, provider=Provider.current(), **fields
        ),
        update=lambda changes: services.update_customer(actor=actor, customer=customer, **changes),
    )


def _customer(code: str) -> Customer:
    customer = Customer.objects.filter(code=code).first()
    if customer is None:
        raise RowProblem("customer", f"no customer has the code {code!r}")
    return customer


def write_contact(actor, values: dict) -> str:
    customer = _customer(values.pop("customer"))
    found = list(customer.contacts.filter(email__iexact=values["email"])[:2])
    if len(found) > 1:
        raise RowProblem(
            "email", f"{customer.code} has two contacts with this e-mail: correct them first"
        )
    contact = found[0] if found else None
    return upsert(
        contact,
        values,
        key=("email",),
        create=lambda fields: services.create_contact(actor=actor, customer=customer, **fields),
        update=lambda changes: services.update_contact(actor=actor, contact=contact, **changes),
    )


def _code(text: str) -> str:
    return text.strip()


def _user(username: str) -> User | None:
    """A user by user name (blank: nobody); the services decide whether they may own it."""
    if not username:
        return None
    user = User.objects.filter(username=username).first()
    if user is None:
        raise ValueError(f"no user is named {username!r}")
    return user


CUSTOMERS = MasterKind(
    name="customers",
    title="Customers",
    model=Customer,
    key=("code",),
    required=("code", "name", "kind"),
    optional=CUSTOMER_OPTIONAL,
    write=write_customer,
    roles=services.CUSTOMER_EDITORS,
    parsers={"relationship_owner": _user},
    help={
        "code": "short identifier, unique (letters, digits, - and _), e.g. rnd: the key",
        "name": "the customer's name, unique",
        "kind": "internal (a department) or external (a separate legal entity)",
        "description": "free text",
        "confidential": "yes or no",
        "business_unit": "internal customers: the department's business unit",
        "cost_centre": "internal customers: the cost centre charged",
        "funding_model": "internal customers: central_allocation, showback, chargeback or "
        "partial_recovery",
        "budget_per_period": "internal customers: monthly IT budget, e.g. 25000.00",
        "exclusivity_commitment": "internal customers: yes or no",
        "legal_name": "external customers: the legal entity's name",
        "registration_number": "external customers: company registration number",
        "jurisdiction": "external customers: ISO country code, e.g. FR",
        "currency": "external customers: invoice currency, e.g. EUR",
        "payment_terms_days": "external customers: days an invoice is due after issue (0 to 365)",
        "credit_limit": "external customers: e.g. 50000.00",
        "relationship_owner": "the user name of the staff member who owns the relationship "
        "(blank: nobody)",
    },
)

CONTACTS = MasterKind(
    name="contacts",
    title="Contacts",
    model=Contact,
    key=("customer", "email"),
    required=("customer", "email", "name"),
    optional=CONTACT_OPTIONAL,
    write=write_contact,
    roles=services.CUSTOMER_EDITORS,
    parsers={"customer": _code},
    help={
        "customer": "the customer's code (load customers first): part of the key",
        "email": "the person's e-mail address: part of the key",
        "name": "the person's name",
        "phone": "free text",
        "title": "job title",
        "is_requester": "yes or no: may request services",
        "is_approver": "yes or no: may approve and sign (needs an authority limit)",
        "is_billing": "yes or no: receives invoices and statements",
        "is_technical": "yes or no: technical counterpart",
        "authority_limit": "largest yearly value this person may commit to, e.g. 100000",
        "active": "yes or no (blank: yes)",
    },
)

KINDS = (CUSTOMERS, CONTACTS)
