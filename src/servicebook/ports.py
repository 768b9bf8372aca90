"""Every port of Servicebook: what one app offers the others.

The mechanism is :mod:`servicebook.core.registry`. This is the one file to read to know how the
apps are wired. Each entry names what it answers and the apps expected to provide it; the
providers plug their implementation in from ``AppConfig.ready()``, and ``registry.verify()``
fails at start-up when one of them did not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from servicebook.core import attachments, jobkinds
from servicebook.core.attachments import AttachableKind
from servicebook.core.jobkinds import JobKind
from servicebook.core.registry import Hook, Port

#: The domain apps, in layer order (lowest first); also the order their contributions come in.
DOMAIN_APPS = (
    "notifications",
    "parties",
    "catalog",
    "agreements",
    "levels",
    "finance",
    "strategy",
    "changes",
    "demand",
    "improvement",
)

# --- what every app adds to the product ---------------------------------------------------------

#: ``(url prefix, urlconf module)``: the app's pages, mounted by ``config/urls.py``.
pages: Hook[tuple[str, str]] = Hook("pages", "the app's web pages", DOMAIN_APPS)
#: ``[(prefix, viewset, basename), ...]``: the app's REST API routes (``config/api_urls.py``).
api_routes: Hook[list[tuple[str, Any, str]]] = Hook("api_routes", "the app's API", DOMAIN_APPS)
#: ``load(ctx)``: the app's part of the demo provider, run by ``servicebook demo`` in layer order.
demo_steps: Hook[Callable[[Any], None]] = Hook("demo_steps", "the app's demo data", DOMAIN_APPS)


@dataclass(frozen=True)
class Commands:
    """An app's ``servicebook`` commands: functions that add subparsers (argparse) to the top
    level (``register``), to ``servicebook import`` and to ``servicebook bench``."""

    register: Callable[[Any], None] | None = None
    register_import: Callable[[Any], None] | None = None
    register_bench: Callable[[Any], None] | None = None


#: The app's :class:`Commands`.
cli_commands: Hook[Commands] = Hook(
    "cli_commands",
    "the app's servicebook commands",
    (
        "notifications",
        "agreements",
        "levels",
        "finance",
        "strategy",
        "changes",
        "demand",
        "improvement",
    ),
)

#: The app's background job kinds (:class:`~servicebook.core.jobkinds.JobKind`: imports, period
#: closes, recomputations), run by ``servicebook worker`` through ``servicebook.core.jobs``.
job_kinds: Hook[tuple[JobKind, ...]] = Hook(
    "job_kinds", "the app's background jobs", ("levels", "finance", "improvement")
)
jobkinds.use_kinds(lambda: [kind for part in job_kinds.parts() for kind in part])
#: ``tell(job)``: who hears that a background job finished (its owner, by notification).
job_finished: Hook[Callable[[Any], None]] = Hook(
    "job_finished", "who hears a job finished", ("notifications",)
)


def _tell_job_finished(job: Any) -> None:
    for tell in job_finished.parts():
        tell(job)


jobkinds.use_finished(_tell_job_finished)

#: The app's records that take attached files (issue 18: contracts, due-diligence evidence,
#: design specifications, changes): each an :class:`~servicebook.core.attachments.AttachableKind`
#: saying who may see such a record and who may attach to it (``servicebook.core.attachments``).
attachables: Hook[AttachableKind] = Hook(
    "attachables",
    "the app's records that take attached files",
    ("parties", "catalog", "agreements", "changes"),
)
attachments.use_kinds(attachables.parts)

# --- questions a lower app asks a higher one ------------------------------------------------------

#: R20 (parties and catalog ask agreements): the agreements a change of jurisdiction, rule or
#: data location touches, and re-checking them. An object with ``agreements_of(customer)``,
#: ``agreements_in(jurisdiction)``, ``agreements_using(service)``, ``snapshot(agreements)`` and
#: ``recheck(actor=, agreements=, before=, cause=)``.
jurisdiction_law: Port[Any] = Port(
    "jurisdiction_law", "agreements re-checked against local law", ("agreements",)
)
#: R16 (parties asks agreements): ``end(actor=, customer=, on=)`` when a customer is terminated.
customer_ended: Hook[Callable[..., None]] = Hook(
    "customer_ended", "what ends with a terminated customer", ("agreements",)
)
#: R6 (agreements ask finance): ``price_floor_problems(agreement) -> [reason]``, a line priced
#: under cost for an external customer of a commercial provider.
price_floor: Port[Callable[[Any], list[str]]] = Port(
    "price_floor", "lines priced under cost", ("finance",)
)
#: R5 (agreements ask finance, issue 15): ``charged_unit_cost(offering, customer, period) ->
#: Decimal | None``, what one unit will be charged to a customer charged at cost in ``period``
#: (the period's unit cost, else the standard one, under the enterprise policy's margin), in
#: the customer's billing currency; None when unknown. Shown to internal customers only (R7).
charged_unit_cost: Port[Callable[..., Any]] = Port(
    "charged_unit_cost", "the unit cost a customer charged at cost pays", ("finance",)
)


@dataclass(frozen=True)
class OverdueDocument:
    """A billing document still unpaid after its due date."""

    number: str
    kind: str  # "invoice" | "statement"
    due: date


@dataclass(frozen=True)
class BillingDocuments:
    """A customer's invoices and statements, as parties asks about them:
    ``overdue_documents(customer, today=)`` and ``invoice_currencies(customer)`` (the currency
    lock)."""

    overdue_documents: Callable[..., list[OverdueDocument]]
    invoice_currencies: Callable[[Any], set[str]]


#: R16 (parties asks finance): the :class:`BillingDocuments` of the finance app.
billing_documents: Port[BillingDocuments] = Port(
    "billing_documents", "a customer's invoices and statements", ("finance",)
)
#: R19 (parties asks finance): ``consumption_at_cost(customers, period, scope=None) -> {id:
#: Consumption}`` (``scope``: the same customers as a queryset of ids, for long lists).
consumption_at_cost: Port[Callable[..., dict]] = Port(
    "consumption_at_cost", "each customer's consumption at cost", ("finance",)
)


@dataclass(frozen=True)
class ServiceCredits:
    """Service credits a breached contract earned: ``pending(agreement, period)`` lists
    those not yet on an invoice, ``mark_applied(credits=, reference=, actor=)`` records the
    invoice that carries them."""

    pending: Callable[[Any, str], list[Any]]
    mark_applied: Callable[..., None]


#: R13 (finance asks levels): the :class:`ServiceCredits` of the service levels app.
service_credits: Port[ServiceCredits] = Port(
    "service_credits", "service credits earned by breached contracts", ("levels",)
)
#: R13 (levels asks improvement): ``propose_from_breaches(breaches=[{target:, period:,
#: attainment:, breaching_tickets_count:}, ...])``: each missed target of an internal agreement
#: becomes an improvement item (a batch at once: a recomputation finds them all together).
breach_improvement: Port[Callable[..., Any]] = Port(
    "breach_improvement", "improvement items for internal breaches", ("improvement",)
)
#: R15 (parties asks catalog and improvement): ``follow_up(feedback) -> object | None`` after
#: feedback is recorded: what it proposes (``policy.feedback_follow_up``). Catalog answers a
#: design revision for the service's owner to review, improvement an improvement item; each
#: part acts on its own kind of follow-up only and returns None otherwise.
feedback_follow_up: Hook[Callable[[Any], Any]] = Hook(
    "feedback_follow_up", "what a piece of feedback proposes", ("catalog", "improvement")
)
#: Reads never write (issue 15): ``measurement_changed(agreement=None)`` after a change of what
#: attainment is measured from (a calendar, an agreement made active; levels' own tickets and
#: outages too) queues one recomputation job when the transaction commits.
measurement_changed: Port[Callable[..., None]] = Port(
    "measurement_changed", "attainment recomputed when its inputs change", ("levels",)
)


# --- daily work ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkItem:
    """One thing waiting for a user in "My work": its kind (a ``notifications.kinds.Kind``
    value), what to do, the page to do it on, and since when it waits (oldest first)."""

    kind: str
    title: str
    link: str
    since: datetime
    customer: str = ""


#: ``work_for(user) -> [WorkItem]``: what waits for ``user`` in the app (approvals and sign-offs,
#: changes to accept, overdue invoices to chase, targets at risk, actions they own, ...). Each
#: item is for the user alone, scoped like everything else they see.
work_items: Hook[Callable[[Any], list[WorkItem]]] = Hook(
    "work_items",
    "what waits for a user (My work)",
    ("agreements", "levels", "finance", "changes", "demand", "improvement"),
)


# --- search ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    """One object the search box found: what it is called, a line about it, and its page."""

    title: str
    link: str
    detail: str = ""


@dataclass(frozen=True)
class SearchSource:
    """One kind of object the navigation bar's search box finds (issue 15): ``find(user, text,
    limit) -> [SearchHit]`` searches by number, name or text among the objects ``user`` may see
    (``visible_to``), never showing a cost; ``more`` is the URL name of the kind's list page,
    which filters by ``?q=`` the same way."""

    kind: str
    find: Callable[[Any, str, int], list[SearchHit]]
    more: str = ""


#: ``[SearchSource]``: what each app's objects the search box finds (``web.search``).
search_sources: Hook[list[SearchSource]] = Hook(
    "search_sources",
    "what the search box finds",
    ("parties", "agreements", "levels", "finance", "changes", "demand", "improvement"),
)
#: ``tell(today=) -> int``: what an app tells people once a day (invoices that fell overdue,
#: ...), run by ``servicebook notifications daily`` before the digests are sent.
daily_notices: Hook[Callable[..., int]] = Hook(
    "daily_notices", "what is told once a day", ("levels", "finance")
)


# --- the agreement page -------------------------------------------------------------------------


@dataclass(frozen=True)
class PageSection:
    """A part a higher app adds to a lower app's page: a template and its context (decision
    0023: the deliverables of an agreement, kept by changes, on the agreement page)."""

    template: str
    context: dict


#: ``section(agreement, user) -> PageSection | None``: what an app adds to the agreement page,
#: scoped to what ``user`` may see.
agreement_sections: Hook[Callable[[Any, Any], PageSection | None]] = Hook(
    "agreement_sections", "parts of the agreement page", ("changes",)
)
