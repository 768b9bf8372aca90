"""Guard 1: the permission matrix, generated from the URL resolver and the API router.

Every route of the site (pages and API, read from the resolver, not listed by hand) × every demo
role and the anonymous visitor × an object of the user's own customer and one of another customer
× read (GET) and every write method the route answers. ``EXPECT`` holds one expectation per route
(or route family); a route without one fails ``test_every_route_has_an_expectation``.

The rules every cell is held to:
- nothing answers 5xx, to anybody;
- the anonymous visitor gets 401/403/404 or the sign-in page, except on ``public`` routes;
- a customer user asking for another customer's object gets 403 or 404, whatever the method
  (never 200, never 400: validation must not run before the permission check);
- a role in ``read`` gets 200 on GET (customer users: on their own objects); a role not in
  ``read`` gets 403 or 404;
- a role not in ``write`` gets 401/403/404/405 on every write (never 400 or a success);
- external customer users never receive a cost or margin field or figure (R7), and only finance
  and the admin see margins (issue 12: object-level scoping for staff too).

Known findings are listed in ``KNOWN_FAILURES`` (route, role, method, kind) and skipped; a listed
finding that no longer occurs fails the test too, so the list only shrinks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest
from django.urls import reverse

from servicebook.core.roles import is_provider_staff
from tests.guards.matrix import (
    ALL,
    CUSTOMERS,
    FIN,
    NOBODY,
    REFUSED,
    ROLES,
    STAFF,
    Finding,
    client_for,
    disclosure_findings,
    first_error_line,
    steps_of,
)
from tests.guards.routes import all_routes


@dataclass(frozen=True)
class Expect:
    """Who may read (GET → 200) and who may write a route; ``model`` fills ``<pk>`` for pages.

    ``write`` lists the roles that may *attempt* a write (the route may still refuse them for a
    domain reason, with 400/409); everybody else must be refused (401/403/404/405).
    ``ok`` lists further GET statuses that count as a success (a redirect, say).
    """

    read: frozenset = ALL
    write: frozenset = STAFF
    model: str | None = None
    public: bool = False
    ok: frozenset = field(default=frozenset({200}))
    #: ``<step>`` / ``<name>`` routes: who may read a given step or report, if not ``read``
    steps: dict = field(default_factory=dict)
    #: False where a response holds no figures (the API root lists endpoint names)
    figures: bool = True
    #: roles that write to the route from another page without reading it (docs/roles.md)
    elsewhere: frozenset = frozenset()

    def readers(self, url_kwargs) -> frozenset:
        return self.steps.get(url_kwargs.get("step") or url_kwargs.get("name"), self.read)

    def writers(self, url_kwargs) -> frozenset:
        """Who may write: ``write``, narrowed to the readers where the route has any (its form is
        offered on its own page, a button only to those it is shown to), plus ``elsewhere``."""
        readers = self.readers(url_kwargs)
        if not readers:
            return self.write
        return self.write & (readers | self.elsewhere)


def E(read=ALL, write=STAFF, model=None, **kw):
    return Expect(read=frozenset(read), write=frozenset(write), model=model, **kw)


MGR = frozenset({"admin", "manager"})
#: who records measures and readings of objectives and outcomes (strategy.services)
EDITORS = MGR | {"senior"}
CHG = frozenset({"admin", "change"})
#: R14: external customers take no part in improvement plans, so never see their actions.
PARTICIPANTS = STAFF | {"internal"}
#: Reports that show margins (revenue less cost): finance and the admin only.
MARGIN_REPORTS = {"external-margin": FIN, "revenue-capacity": FIN}

EXPECT: dict[str, Expect] = {
    # the site
    "login": E(write=ALL, public=True, ok={200, 302}),
    "logout": E(read=NOBODY, write=ALL, public=True),
    # single sign-on (issue 18): not found while it is not set up (tests/web/test_oidc.py)
    "sso-start": E(read=NOBODY, write=NOBODY),
    "sso-callback": E(read=NOBODY, write=NOBODY),
    "web:home": E(),
    "web:search": E(),
    # the first-run page answers only while no provider exists (tests/web/test_first_run.py)
    "web:first-run": E(read=NOBODY, write=NOBODY),
    # master data from CSV (issue 18): customers and the catalog; finance its offerings alone
    "web:import-master": E(read=MGR | FIN, write=MGR | FIN),
    "web:glossary": E(write=NOBODY),
    # attached files (issue 18): seen by whoever sees the record, added by whoever edits it
    "web:attachment": E(model="core.Attachment"),
    "web:attach-agreement": E(read=MGR, write=MGR, model="agreements.Agreement"),
    "web:attach-due-diligence": E(read=MGR, write=MGR, model="parties.DueDiligence"),
    "web:attach-specification": E(read=MGR, write=MGR, model="catalog.DesignSpecification"),
    "web:attach-change": E(read=CHG, write=CHG, model="changes.ChangeRequest"),
    # my work and notifications: every signed-in user, their own alone
    "notifications:my-work": E(),
    "notifications:count": E(),
    "notifications:mark-read": E(read=NOBODY, write=ALL),
    "notifications:settings": E(write=ALL),
    "my-work-list": E(),
    "notification-list": E(),
    "notification-read": E(read=NOBODY, write=ALL),
    "notification-channels": E(write=ALL, figures=False),
    # background jobs (issue 15): each user their own, the provider admin every job
    "web:jobs": E(),
    "web:job": E(model="core.Job"),
    "web:job-progress": E(model="core.Job"),
    "web:job-rejects": E(model="core.Job", ok={200, 404}),
    "web:job-retry": E(read=NOBODY, write=ALL, model="core.Job"),
    "api-root": E(figures=False),
    "api-token": E(read=NOBODY, write=ALL, public=True),
    # the API's description is public (it holds no data)
    "api-schema": E(public=True),
    "api-docs": E(public=True),
    "api-redoc": E(public=True),
    "parties:list": E(ok={200, 302}),  # a customer user is sent to its own page
    "parties:mine": E(ok={200, 302}),  # staff: the relationships they own
    # the provider's settings (issue 18): staff read (margins: finance, admin), the admin writes
    "parties:provider-settings": E(read=STAFF, write={"admin"}),
    "parties:contacts": E(),
    "parties:create": E(read=MGR),
    "parties:detail": E(model="parties.Customer"),
    "parties:edit": E(read=MGR, model="parties.Customer"),
    "parties:status": E(read=MGR | FIN, model="parties.Customer"),
    "parties:contact-create": E(read=MGR, model="parties.Customer"),
    "parties:dd-start": E(read=MGR, model="parties.Customer"),
    "parties:dd-check": E(read=MGR, model="parties.Customer"),
    "parties:dd-conclude": E(read=MGR, model="parties.Customer"),
    "parties:dd-waive": E(read=MGR, model="parties.Customer"),
    "parties:commitment": E(read=MGR, model="parties.Customer"),
    "parties:feedback": E(write=ALL, model="parties.Customer"),
    "parties:feedback-detail": E(model="parties.Feedback"),
    "parties:feedback-answer": E(read=MGR, model="parties.Feedback"),
    "parties:funding": E(read=STAFF),
    "parties:difficulty": E(read=MGR, model="parties.Customer"),
    "customer-*": E(),
    "provider-*": E(read=STAFF, write={"admin"}),
    "customer-events": E(),
    "contact-*": E(),
    "duediligence-*": E(),
    "commitment-*": E(),
    "commitment-funding-report": E(),
    "objective-*": E(),
    "objective-detail": E(read=STAFF | {"internal"}),  # objective 1 concerns no external
    "feedback-*": E(write=ALL),
    "feedback-answer": E(write=MGR),
    "jurisdictionrule-*": E(),
    "jurisdictionrule-detail": E(read=STAFF),  # rule 1 is not a customer's own jurisdiction
    "externalsupplier-*": E(write=MGR | FIN),
    # catalog
    "catalog:list": E(),
    "catalog:create": E(read=MGR),
    "catalog:detail": E(model="catalog.Service"),
    "catalog:offering-create": E(read=MGR | FIN, model="catalog.Service"),
    "catalog:spec-create": E(read=MGR, model="catalog.Service"),
    "catalog:sign-off": E(read=MGR, model="catalog.Service"),
    "catalog:status": E(read=STAFF, write=MGR, model="catalog.Service"),
    "service-*": E(),
    "offering-*": E(),
    "specification-*": E(),
    # agreements
    "agreements:list": E(),
    "agreements:create": E(read=MGR),
    "agreements:detail": E(model="agreements.Agreement"),
    "agreements:line-create": E(read=MGR, model="agreements.Agreement"),
    "agreements:status": E(read=MGR, model="agreements.Agreement"),
    "agreements:sign": E(read=MGR, write=ALL, model="agreements.Agreement"),
    "agreements:outcome": E(read=MGR, write=ALL, model="agreements.Agreement"),
    "agreements:acknowledge": E(read=MGR, write=ALL, model="agreements.Agreement"),
    "agreements:consideration": E(read=MGR | FIN, model="agreements.Agreement"),
    "agreements:amend": E(read=STAFF, write=MGR, model="agreements.Agreement"),
    # the contract's whole life (decision 0023): renewal (a button) and termination notices
    "agreements:renew": E(read=NOBODY, write=MGR, model="agreements.Agreement"),
    "agreements:notice": E(read=MGR, model="agreements.Agreement"),
    # service level settings (issue 18): service managers on a draft; calendars seen by whoever
    # sees a target measured in them
    "agreements:target-create": E(read=MGR, model="agreements.Agreement"),
    "agreements:credit-tiers": E(read=MGR, model="agreements.ServiceLevelTarget"),
    "agreements:clause-create": E(read=MGR, model="agreements.Agreement"),
    "agreements:calendars": E(),
    "agreements:calendar-create": E(read=MGR),
    "agreements:calendar": E(model="agreements.Calendar"),
    "agreements:calendar-edit": E(read=MGR, model="agreements.Calendar"),
    "agreement-*": E(),
    "agreement-acknowledge": E(write=ALL),
    "agreement-outcomes": E(write=ALL),
    "agreement-sign": E(write=ALL),
    "agreementline-*": E(),
    "calendar-*": E(),
    "serviceleveltarget-*": E(),
    "changeclause-*": E(),
    # customer orders (issue 15): customer users order and their approvers decide
    "agreements:orders": E(),
    "agreements:order-create": E(read=CUSTOMERS, write=CUSTOMERS),
    "agreements:order": E(model="agreements.Order"),
    "agreements:order-decide": E(read=CUSTOMERS, write=CUSTOMERS, model="agreements.Order"),
    "order-*": E(write=CUSTOMERS),
    # levels
    "levels:list": E(),
    "levels:agreement": E(model="agreements.Agreement"),
    "levels:recompute": E(read=STAFF, model="agreements.Agreement"),
    "levels:tickets": E(model="agreements.Agreement"),
    "levels:ticket": E(model="levels.Ticket"),
    # customer self-service (issue 15): customer users and handlers raise and work tickets
    "levels:my-tickets": E(),
    "levels:raise-ticket": E(read=MGR | CUSTOMERS, write=MGR | CUSTOMERS),
    "levels:portal-ticket": E(model="levels.Ticket"),
    "levels:ticket-comment": E(read=MGR | CUSTOMERS, write=MGR | CUSTOMERS, model="levels.Ticket"),
    "levels:ticket-step": E(read=MGR | CUSTOMERS, write=MGR | CUSTOMERS, model="levels.Ticket"),
    "portalticket-*": E(write=MGR | CUSTOMERS),
    "portalticket-move": E(write=MGR),
    "levels:import-tickets": E(read=MGR, write=MGR),
    "levels:import-outages": E(read=MGR, write=MGR),
    "levels:outages": E(),
    "levels:outage-create": E(read=MGR),
    "levels:outage-end": E(read=MGR, model="levels.Outage"),
    "ticket-*": E(),
    "outage-*": E(),
    "attainment-*": E(),
    "breach-*": E(),
    "credit-*": E(),
    # finance
    "finance:home": E(ok={200, 302}),  # a customer user is sent to its documents
    "finance:close": E(read=FIN, write=FIN),
    "finance:documents": E(),
    "finance:invoices": E(),
    "finance:statements": E(),
    "finance:payments": E(),
    "finance:statement": E(model="finance.Statement"),
    "finance:statement-csv": E(model="finance.Statement"),
    "finance:statement-pdf": E(model="finance.Statement"),
    "finance:invoice": E(model="finance.Invoice"),
    "finance:invoice-csv": E(model="finance.Invoice"),
    "finance:invoice-pdf": E(model="finance.Invoice"),
    "finance:invoice-ubl": E(model="finance.Invoice"),
    "finance:invoice-facturx": E(model="finance.Invoice"),
    "finance:invoice-payment": E(read=FIN, write=FIN, model="finance.Invoice"),
    "finance:invoice-suspend": E(read=FIN, write=FIN, model="finance.Invoice"),
    # credit notes and VAT rates (decision 0026): finance issues and keeps them; customer users
    # read their own credit notes
    "finance:invoice-credit-note": E(read=FIN, write=FIN, model="finance.Invoice"),
    "finance:credit-note": E(model="finance.CreditNote"),
    "finance:credit-note-ubl": E(model="finance.CreditNote"),
    "finance:credit-note-facturx": E(model="finance.CreditNote"),
    "finance:tax-rates": E(read=FIN, write=FIN),
    "finance:reminders": E(read=FIN, write=FIN),
    "finance:costs": E(read=STAFF, write=FIN),
    "finance:reports": E(read=STAFF),
    "finance:report-csv": E(read=STAFF, steps=MARGIN_REPORTS),
    "finance:ledger": E(read=FIN, write=FIN),
    "finance:journal-csv": E(read=FIN),
    "finance:ledger-entries": E(read=FIN),
    # adjustments and reversals (issue 18): finance and the provider admin, like the ledger
    "finance:ledger-adjust": E(read=FIN, write=FIN),
    "finance:ledger-entry": E(read=FIN, write=FIN, model="finance.JournalEntry"),
    "finance:usage": E(read=STAFF),
    "finance:usage-import": E(read=STAFF, model="finance.UsageImport"),
    "finance:usage-rejects": E(read=STAFF, model="finance.UsageImport"),
    "finance:cloud-mappings": E(read=STAFF, write=FIN),
    "finance:rates": E(read=STAFF, write=FIN),
    "finance:focus-export": E(),
    "statement-*": E(),
    "invoice-*": E(),
    "payment-*": E(write=FIN),
    "creditnote-*": E(write=FIN),
    "taxrate-*": E(read=STAFF, write=FIN),
    "reminder-*": E(write=FIN),
    "account-*": E(read=FIN, write=FIN),
    "journalentry-*": E(read=FIN, write=FIN),
    "period-*": E(read=STAFF, write=FIN),
    "costpool-*": E(read=STAFF, write=FIN),
    "allocationrule-*": E(read=STAFF),
    "servicecost-*": E(read=STAFF),
    "unitcost-*": E(read=STAFF),
    "priceoverride-*": E(read=STAFF),
    "priceoverride-check": E(read=STAFF, ok={200, 400, 404}),  # needs its query
    "financereport-*": E(read=STAFF, steps=MARGIN_REPORTS),
    "usageimport-*": E(read=STAFF),
    "cloudmapping-*": E(read=STAFF),
    "exchangerate-*": E(read=STAFF, write=FIN),
    "exchangerate-on": E(read=STAFF, ok={200, 400, 404}),  # needs its query
    "cloudcharge-*": E(read=STAFF | {"internal"}),  # an internal customer sees its cost
    "focusexport-*": E(),
    # changes
    "changes:list": E(),
    "changes:create": E(read=CHG),
    "changes:schedule": E(),
    "changes:rotate-feed": E(read=NOBODY, write=ALL, model="parties.Customer"),
    "changes:feed": E(public=True, model="changes.ScheduleFeed"),
    "changes:detail": E(model="changes.ChangeRequest"),
    "changes:step": E(read=CHG, model="changes.ChangeRequest"),
    "changes:assess": E(read=CHG, model="changes.ChangeRequest"),
    "changes:it-decision": E(read=CHG, model="changes.ChangeRequest"),
    "changes:window": E(read=CHG, write=ALL, model="changes.ChangeRequest"),
    "changes:task-create": E(write=ALL, model="changes.ChangeRequest"),
    "changes:training-create": E(read=CHG, model="changes.ChangeRequest"),
    "changes:impact-decide": E(write=ALL, model="changes.ChangeRequest"),
    "changes:impact-accept-price": E(write=ALL, model="changes.ChangeRequest"),
    "changes:impact-price": E(read=CHG, model="changes.ChangeRequest"),
    # deliverables (decision 0023): recorded by the provider, decided by the customer's approver
    "changes:deliverable-create": E(read=MGR | CHG, model="agreements.Agreement"),
    "changes:deliverable-decide": E(read=NOBODY, write=CUSTOMERS, model="changes.Deliverable"),
    "deliverable-*": E(),
    "deliverable-decide": E(write=CUSTOMERS),
    "changerequest-*": E(),
    "changerequest-window": E(write=ALL),
    "customerimpact-*": E(),
    "customerimpact-decide": E(write=ALL),
    "customerimpact-accept-price": E(write=ALL),
    "approval-*": E(),
    "customertask-*": E(),
    # R11: an internal customer adds the build, test and deployment tasks it will do itself
    "customertask-list": E(write=STAFF | {"internal"}),
    "customertask-done": E(write=ALL),
    "trainingrecord-*": E(),
    "schedulefeed-*": E(write=ALL),
    # demand
    "demand:list": E(),
    "demand:create": E(read=MGR | CUSTOMERS, write=ALL),
    "demand:capacity": E(read=STAFF),
    "demand:detail": E(model="demand.DemandRequest"),
    "demand:step": E(
        read=MGR,
        write=ALL,
        model="demand.DemandRequest",
        # the customer chooses an option; only senior management justifies (R18)
        steps={"choose": MGR | CUSTOMERS, "justify": frozenset({"senior"})},
    ),
    "demandrequest-*": E(write=ALL),
    "capacitypool-*": E(read=STAFF),
    # strategy (R9): objectives and outcomes with their measures; senior management, the admin
    # and service managers record measures and readings
    "strategy:list": E(),
    "strategy:detail": E(read=STAFF | {"internal"}, model="parties.Objective"),
    "strategy:measure-create": E(read=EDITORS, write=EDITORS, model="parties.Objective"),
    "strategy:outcome-measure-create": E(read=EDITORS, write=EDITORS, model="agreements.Outcome"),
    "strategy:reading": E(read=EDITORS, write=EDITORS, model="strategy.Measure"),
    "strategy:import": E(read=EDITORS, write=EDITORS),
    "strategy-*": E(write=NOBODY),
    "strategy-detail": E(read=STAFF | {"internal"}, write=NOBODY),  # objective 1: no external
    "measure-*": E(write=EDITORS),
    "reading-*": E(write=EDITORS),
    # improvement
    "improvement:list": E(),
    "improvement:create": E(read=MGR),
    "improvement:dashboard": E(read=STAFF),
    "improvement:health": E(read=STAFF),
    "improvement:health-detail": E(read=STAFF, model="parties.Customer"),
    "improvement:propose-retention": E(read=MGR),
    # R21: the parity report names customers: provider staff only
    "improvement:parity": E(read=STAFF),
    "improvement:parity-propose": E(read=MGR),
    "improvement:reviews": E(),
    "improvement:review-held": E(read=MGR, model="improvement.ServiceReview"),
    "improvement:review-pack": E(model="parties.Customer"),
    "improvement:review-pack-pdf": E(model="parties.Customer"),
    "improvement:detail": E(model="improvement.Improvement"),
    "improvement:edit": E(read=MGR, model="improvement.Improvement"),
    "improvement:step": E(read=MGR, model="improvement.Improvement"),
    "improvement:drop": E(read=MGR, model="improvement.Improvement"),
    "improvement:verify": E(read=MGR, model="improvement.Improvement"),
    "improvement:approve": E(write=ALL, model="improvement.Improvement"),
    "improvement:participant": E(read=MGR, model="improvement.Improvement"),
    "improvement:action-create": E(read=MGR, model="improvement.Improvement"),
    "improvement:action-done": E(read=PARTICIPANTS, write=ALL, model="improvement.Improvement"),
    "improvement:action-comment": E(read=PARTICIPANTS, write=ALL, model="improvement.Improvement"),
    "improvement-*": E(),
    "improvement-approve": E(write=ALL),
    "improvementaction-*": E(read=PARTICIPANTS),
    "improvementaction-comment": E(write=ALL),
    "improvementaction-done": E(write=ALL),
    "servicereview-*": E(),
    "relationshiphealth-*": E(read=STAFF),
    "reviewpack-*": E(),
    "improvementdashboard-*": E(read=STAFF),
    "parity-*": E(read=STAFF, write=MGR),
    "retention-*": E(read=STAFF),  # decision 0023: retention of external business
}

#: API routes whose ``pk`` is not their viewset's model.
API_MODELS = {
    "relationshiphealth-detail": "parties.Customer",
    "reviewpack-detail": "parties.Customer",
    "reviewpack-pdf": "parties.Customer",
}

#: Findings still open, each (as it is reported) a hole to fix and then to delete from here. The
#: 117 found on main at 5dedba5 (issue 12) are all fixed; keep this empty.
KNOWN_FAILURES: set[tuple[str, str, str, str]] = set()


def expectation(name: str) -> Expect | None:
    if name in EXPECT:
        return EXPECT[name]
    family = name.rsplit("-", 1)[0] + "-*"
    while family != "-*":
        if family in EXPECT:
            return EXPECT[family]
        head = family[:-2]
        if "-" not in head:
            break
        family = head.rsplit("-", 1)[0] + "-*"
    return None


ROUTES = {route.name: route for route in all_routes()}


def test_every_route_has_an_expectation():
    missing = [name for name in ROUTES if expectation(name) is None]
    assert not missing, f"routes without an expectation in EXPECT: {missing}"
    used = {name for name in EXPECT if not name.endswith("-*")}
    stale = sorted(used - set(ROUTES))
    assert not stale, f"EXPECT names routes that no longer exist: {stale}"


def test_known_failures_name_real_routes():
    unknown = sorted({key[0] for key in KNOWN_FAILURES} - set(ROUTES))
    assert not unknown, f"KNOWN_FAILURES names routes that no longer exist: {unknown}"


# -- objects ------------------------------------------------------------------------------------
def _queryset(route, expect):
    from django.apps import apps

    label = expect.model or API_MODELS.get(route.name)
    if label:
        return apps.get_model(label)._default_manager.all()
    if route.view is not None and getattr(route.view, "queryset", None) is not None:
        return route.view.queryset.all()
    return None


def _objects(queryset, user):
    """(label, object): for staff and the anonymous visitor any object; for a customer user
    one of its own customer's and one of another customer's (when both exist)."""
    queryset = queryset.order_by("pk")
    if user is None or is_provider_staff(user) or not hasattr(queryset, "visible_to"):
        return [("any", queryset.first())]  # provider-wide rows have no owner
    visible = queryset.visible_to(user)
    return [
        ("own", visible.first()),
        ("other", queryset.exclude(pk__in=visible.values("pk")).first()),
    ]


def _period():
    from servicebook.finance.ledger.models import Period

    latest = Period.objects.order_by("-period").first()
    return latest.period if latest else "2026-01"


def _kwargs(route, obj, user) -> list[dict]:
    """Every set of URL arguments to try for an object (steps and reports all expanded)."""
    variants = [{}]
    for param in route.params:
        if param in ("pk", "customer"):
            values = [obj.pk]
        elif param == "token":
            values = [obj.token]
        elif param == "step":
            values = steps_of(route)
        elif param == "name":
            from servicebook.finance.billing.selectors import REPORTS

            values = sorted(REPORTS)
        elif param == "period":
            values = [_period()]
        elif param == "impact":
            impacts = obj.impacts.order_by("pk")
            if user is not None and user.customer_id:
                impacts = impacts.filter(customer=user.customer_id) or impacts
            values = [impact.pk for impact in impacts[:1]]
        elif param == "action":
            values = [action.pk for action in obj.actions.order_by("pk")[:1]]
        else:
            raise AssertionError(f"no rule fills <{param}> of {route.name}: add one to _kwargs")
        variants = [{**v, param: value} for v in variants for value in values]
    return variants


def _targets(route, expect, user):
    """(label, url, url kwargs) a user is tried on for a route."""
    if not route.params:
        return [("none", reverse(route.name), {})]
    if not {"pk", "customer", "token"} & set(route.params):  # e.g. a report's name
        return [("none", reverse(route.name, kwargs=kw), kw) for kw in _kwargs(route, None, user)]
    queryset = _queryset(route, expect)
    assert queryset is not None, f"{route.name}: which model fills <pk>? set Expect.model"
    targets = []
    for label, obj in _objects(queryset, None if expect.public else user):
        if obj is None:
            continue
        for kwargs in _kwargs(route, obj, user):
            targets.append((label, reverse(route.name, kwargs=kwargs), kwargs))
    return targets


# -- one route, every role ---------------------------------------------------------------------
def _send(client, method, url, is_api):
    if method == "get":
        return client.get(url)
    if is_api:
        return client.generic(method.upper(), url, b"{}", content_type="application/json")
    if method == "post":
        return client.post(url, {})
    return client.generic(method.upper(), url)


def _check(expect, kwargs, role, label, method, response) -> list[tuple[str, str]]:
    readers = expect.readers(kwargs)
    status = response.status_code
    detail = f"{status} {first_error_line(response)}"
    if status >= 500:
        return [("5xx", detail)]
    found = []
    if role is None:
        signin = status == 302 and response["Location"].startswith(reverse("login"))
        if not expect.public and not (status in REFUSED or signin):
            found.append(("anonymous-allowed", detail))
        return found
    if label == "other":
        if status not in (403, 404, 405):
            found.append(("other-customer-allowed", detail))
        return found
    if method == "get":
        if role in readers and status not in expect.ok:
            found.append(("read-refused", detail))
        if role not in readers and status not in REFUSED and not _empty(response):
            found.append(("read-allowed", detail))
    elif role not in expect.writers(kwargs) and status not in REFUSED:
        found.append(("write-allowed", detail))
    if status == 200 and expect.figures:
        found += disclosure_findings(response, role)
    return found


def _empty(response) -> bool:
    """An API list that shows the role nothing (scoped to no rows) counts as a refusal."""
    if response.status_code != 200 or "json" not in response.get("Content-Type", ""):
        return False
    body = response.json()
    return body == [] or (isinstance(body, dict) and body.get("count") == 0)


#: writes are tried by the least entitled first, so a refused write changes nothing the next sees
WRITE_ORDER = (None, "external", "internal", "change", "senior", "manager", "finance", "admin")


def run_route(route, users) -> list[Finding]:
    expect = expectation(route.name)
    findings = []
    clients = {role: client_for(users.get(role)) for role in ROLES}
    order = [("get", role) for role in ROLES if "get" in route.methods]
    order += [(method, role) for role in WRITE_ORDER for method in route.writes]
    for method, role in order:
        user = users.get(role)
        for label, url, kwargs in _targets(route, expect, user):
            response = _send(clients[role], method, url, route.is_api)
            for kind, detail in _check(expect, kwargs, role, label, method, response):
                findings.append(Finding(route.name, role or "anonymous", method, kind, url, detail))
    return findings


@pytest.fixture
def demo_users(users):
    return {**users, None: None}


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_route(name, demo_users):
    route = ROUTES[name]
    findings = run_route(route, demo_users)
    if os.environ.get("GUARD_REPORT"):
        with open(os.environ["GUARD_REPORT"], "a") as out:
            for finding in findings:
                out.write(f"{finding.route}\t{finding}\n")
    keys = {finding.key for finding in findings}
    new = [str(f) for f in findings if f.key not in KNOWN_FAILURES]
    known_here = {key for key in KNOWN_FAILURES if key[0] == name}
    gone = sorted(known_here - keys)
    assert not new, f"{name}: new permission findings:\n" + "\n".join(dict.fromkeys(new))
    assert not gone, f"{name}: fixed, remove from KNOWN_FAILURES: {gone}"


@pytest.mark.parametrize("role", ROLES)
def test_django_admin_is_for_the_provider_admin_only(role, demo_users):
    """The one family rule for Django's admin site (left out of the route walk)."""
    response = client_for(demo_users[role]).get(reverse("admin:index"))
    if role == "admin":
        assert response.status_code == 200
    else:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
