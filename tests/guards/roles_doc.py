"""The role × page × action table of docs/roles.md, rendered from the permission matrix.

The permission matrix (``tests/guards/test_permission_matrix.py``) holds, for every route, who may
read it and who may write to it, and checks every cell against the running site. This module
renders the pages' part of those expectations as the table in docs/roles.md, between two marker
lines; ``tests/guards/test_roles_doc.py`` fails when the file differs from what the matrix
expects. To write the table again after changing the matrix::

    DEBUG=1 .venv/bin/python -m tests.guards.roles_doc

Nothing here decides a permission: names for the pages are the only thing it adds.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "roles.md"
BEGIN = "<!-- role table: generated from tests/guards/test_permission_matrix.py; do not edit -->"
END = "<!-- end of the role table -->"
COMMAND = "DEBUG=1 .venv/bin/python -m tests.guards.roles_doc"

#: The matrix's roles, in its order, as the table's columns.
COLUMNS = (
    ("admin", "Provider admin"),
    ("manager", "Service manager"),
    ("finance", "Finance"),
    ("change", "Change manager"),
    ("senior", "Senior manager"),
    ("internal", "Internal customer"),
    ("external", "External customer"),
)

#: URL namespaces as the areas of the site, in the navigation's order.
AREAS = (
    ("web", "Home, search and files"),
    ("notifications", "My work"),
    ("parties", "Customers"),
    ("catalog", "Service catalog"),
    ("agreements", "Agreements"),
    ("levels", "Service levels"),
    ("finance", "Finance"),
    ("strategy", "Strategy"),
    ("changes", "Changes"),
    ("demand", "Demand"),
    ("improvement", "Improvement"),
    ("", "Signing in"),
)

#: Routes no signed-in role reaches from a page: left out of the table (see the note under it).
LEFT_OUT = {"web:first-run", "sso-start", "sso-callback"}

#: What people call each page (the URL name is the fallback, then the view's own title).
PAGE_NAMES = {
    "login": "Sign in",
    "logout": "Sign out",
    "web:home": "Home",
    "web:search": "Search",
    "web:glossary": "Glossary",
    "web:import-master": "Import master data (CSV)",
    "web:jobs": "Background jobs",
    "web:job": "A background job",
    "web:job-progress": "A job's progress",
    "web:job-rejects": "A job's rejected rows",
    "web:job-retry": "Retry a failed job",
    "web:attachment": "Download an attached file",
    "web:attach-agreement": "Attach a file to an agreement",
    "web:attach-change": "Attach a file to a request for change",
    "web:attach-due-diligence": "Attach due-diligence evidence",
    "web:attach-specification": "Attach a file to a design specification",
    "notifications:my-work": "My work",
    "notifications:count": "Unread count (navigation bar)",
    "notifications:mark-read": "Mark notifications read",
    "notifications:settings": "Notification settings",
    "parties:list": "Customers",
    "parties:mine": "My customers",
    "parties:contacts": "Contacts",
    "parties:create": "New customer",
    "parties:detail": "A customer",
    "parties:feedback-detail": "A piece of feedback and its follow-up",
    "parties:feedback-answer": "Answer a complaint",
    "parties:edit": "Change a customer",
    "parties:status": "Change a customer's status",
    "parties:contact-create": "Add a contact",
    "parties:dd-start": "Start a due diligence",
    "parties:dd-check": "Record a due-diligence check",
    "parties:dd-conclude": "Conclude a due diligence",
    "parties:dd-waive": "Record a due-diligence waiver",
    "parties:commitment": "Record a commitment",
    "parties:feedback": "Give feedback",
    "parties:funding": "Funding report",
    "parties:difficulty": "Flag a customer in difficulty",
    "parties:provider-settings": "Provider settings",
    "catalog:list": "Service catalog",
    "catalog:create": "New service",
    "catalog:detail": "A service",
    "catalog:offering-create": "Add an offering",
    "catalog:spec-create": "New design specification version",
    "catalog:sign-off": "Record a design sign-off",
    "catalog:status": "Put a service live",
    "agreements:list": "Agreements",
    "agreements:create": "New agreement",
    "agreements:detail": "An agreement",
    "agreements:line-create": "Add a line",
    "agreements:status": "Change an agreement's status",
    "agreements:sign": "Record a signature",
    "agreements:outcome": "Record a desired business outcome",
    "agreements:acknowledge": "Record a data-location acknowledgement",
    "agreements:consideration": "Set the consideration split",
    "agreements:amend": "Amend an active agreement",
    "agreements:renew": "Renew an agreement (draft the next term)",
    "agreements:notice": "Record a termination notice",
    "agreements:target-create": "Add a service level target",
    "agreements:credit-tiers": "Set credit tiers",
    "agreements:clause-create": "Add a change clause",
    "agreements:calendars": "Business calendars",
    "agreements:calendar": "A business calendar",
    "agreements:calendar-create": "New business calendar",
    "agreements:calendar-edit": "Change a business calendar",
    "agreements:orders": "Orders",
    "agreements:order-create": "Place an order",
    "agreements:order": "An order",
    "agreements:order-decide": "Decide an order",
    "levels:list": "Service levels",
    "levels:agreement": "An agreement's service levels",
    "levels:recompute": "Recompute attainment",
    "levels:tickets": "An agreement's tickets",
    "levels:ticket": "A ticket",
    "levels:my-tickets": "My tickets",
    "levels:raise-ticket": "Raise a ticket",
    "levels:portal-ticket": "A ticket (self-service)",
    "levels:ticket-comment": "Comment on a ticket",
    "levels:ticket-step": "Move a ticket on",
    "levels:import-tickets": "Import tickets",
    "levels:import-outages": "Import outages",
    "levels:outages": "Outages and planned maintenance",
    "levels:outage-create": "Record an outage",
    "levels:outage-end": "End an ongoing outage",
    "finance:home": "Finance",
    "finance:close": "Close a period",
    "finance:documents": "Statements and invoices",
    "finance:invoices": "Invoices",
    "finance:statements": "Statements",
    "finance:payments": "Payments",
    "finance:statement": "A statement",
    "finance:statement-csv": "A statement (CSV)",
    "finance:statement-pdf": "A statement (PDF)",
    "finance:invoice": "An invoice",
    "finance:invoice-csv": "An invoice (CSV)",
    "finance:invoice-pdf": "An invoice (PDF)",
    "finance:invoice-ubl": "An invoice as UBL (Peppol BIS 3.0)",
    "finance:invoice-facturx": "An invoice as Factur-X",
    "finance:invoice-payment": "Record a payment",
    "finance:invoice-suspend": "Suspend for non-payment",
    "finance:invoice-credit-note": "Issue a credit note",
    "finance:credit-note": "A credit note",
    "finance:credit-note-ubl": "A credit note as UBL (Peppol BIS 3.0)",
    "finance:credit-note-facturx": "A credit note as Factur-X",
    "finance:tax-rates": "VAT rates",
    "finance:reminders": "Send payment reminders",
    "finance:costs": "Costs and allocation",
    "finance:reports": "Finance reports",
    "finance:report-csv": "Report (CSV)",
    "finance:ledger": "Ledger",
    "finance:ledger-adjust": "Journal adjustment",
    "finance:ledger-entries": "Journal entries",
    "finance:ledger-entry": "A journal entry",
    "finance:journal-csv": "Journal (CSV export)",
    "finance:usage": "Usage imports",
    "finance:usage-import": "A usage import",
    "finance:usage-rejects": "A usage import's rejects (CSV)",
    "finance:cloud-mappings": "Cloud account mappings",
    "finance:rates": "Exchange rates",
    "finance:focus-export": "FOCUS export",
    "changes:list": "Requests for change",
    "changes:create": "New request for change",
    "changes:schedule": "Deployment schedule",
    "changes:rotate-feed": "Renew the schedule feed's address",
    "changes:feed": "Schedule feed (iCalendar, by secret address)",
    "changes:detail": "A request for change",
    "changes:step": "Move a change on",
    "changes:assess": "Assess a change",
    "changes:it-decision": "IT change manager's decision",
    "changes:window": "Set the window and procedure",
    "changes:deliverable-create": "Record a deliverable",
    "changes:deliverable-decide": "Accept or reject a deliverable",
    "changes:task-create": "Add a customer task",
    "changes:training-create": "Record a training",
    "changes:impact-decide": "A customer's decision on a change",
    "changes:impact-accept-price": "Accept a change's price",
    "changes:impact-price": "Price a change for a customer",
    "strategy:list": "Objectives and desired outcomes",
    "strategy:detail": "An objective's strategy page",
    "strategy:measure-create": "Add a measure of an objective",
    "strategy:outcome-measure-create": "Add a measure of a desired outcome",
    "strategy:reading": "Record a reading",
    "strategy:import": "Import readings (CSV)",
    "demand:list": "Demand and investment requests",
    "demand:create": "New demand request",
    "demand:capacity": "Capacity pools",
    "demand:detail": "A demand request",
    "demand:step": "A demand request's step",
    "improvement:list": "Improvement register",
    "improvement:create": "New improvement",
    "improvement:dashboard": "Provider dashboard",
    "improvement:health": "Relationship health",
    "improvement:health-detail": "A customer's relationship health",
    "improvement:propose-retention": "Propose a retention plan",
    "improvement:parity": "Customer-service parity report",
    "improvement:parity-propose": "Propose improvements for parity gaps",
    "improvement:reviews": "Service reviews",
    "improvement:review-held": "Record a review held",
    "improvement:review-pack": "Service review pack",
    "improvement:review-pack-pdf": "Service review pack (PDF)",
    "improvement:detail": "An improvement",
    "improvement:edit": "Change an improvement plan",
    "improvement:step": "Move an improvement on",
    "improvement:drop": "Drop an improvement",
    "improvement:verify": "Verify an improvement's result",
    "improvement:approve": "Approve an improvement plan",
    "improvement:participant": "Add a participant",
    "improvement:action-create": "Add an action",
    "improvement:action-done": "Mark an action done",
    "improvement:action-comment": "Comment on an action",
}


def page_name(route) -> str:
    if route.name in PAGE_NAMES:
        return PAGE_NAMES[route.name]
    title = getattr(route.view, "title", None)
    if isinstance(title, str) and title:
        return title
    return route.name.split(":")[-1].replace("-", " ").capitalize()


def _variants(route):
    """(suffix, url kwargs) for each step or report a route takes; one plain row otherwise."""
    from tests.guards.matrix import steps_of

    if "step" in route.params:
        module = sys.modules[route.view.__module__]
        return [(_step_label(step, module.STEPS[step]), {"step": step}) for step in steps_of(route)]
    if "name" in route.params:
        from servicebook.finance.billing.selectors import REPORTS

        return [(name.replace("-", " "), {"name": name}) for name in sorted(REPORTS)]
    return [("", {})]


def _step_label(step: str, entry) -> str:
    words = [item for item in entry if isinstance(item, str)] if isinstance(entry, tuple) else []
    return words[0].lower() if words else step.replace("-", " ")


def _cell(route, expect, kwargs, role) -> str:
    """``view`` (GET answers 200), ``act`` (a write is let through: the matrix's ``writers``,
    everybody else refused), both, or ``—``."""
    view = "get" in route.methods and role in expect.readers(kwargs)
    act = bool(route.writes) and role in expect.writers(kwargs)
    return {(True, True): "view, act", (True, False): "view", (False, True): "act"}.get(
        (view, act), "—"
    )


def _sort_key(page: str) -> str:
    """Pages by name, the article left aside ("An agreement" next to "Agreements")."""
    for article in ("a ", "an ", "the "):
        if page.lower().startswith(article):
            return page[len(article) :].lower()
    return page.lower()


def rows():
    """(area, page, [cell per role]) for every page the matrix holds an expectation for."""
    from tests.guards.test_permission_matrix import ROUTES, expectation

    order = {namespace: index for index, (namespace, _) in enumerate(AREAS)}
    found = []
    for route in ROUTES.values():
        if route.is_api or route.name in LEFT_OUT:
            continue
        expect = expectation(route.name)
        assert expect is not None, f"{route.name} has no expectation in the permission matrix"
        namespace = route.name.split(":")[0] if ":" in route.name else ""
        for suffix, kwargs in _variants(route):
            page = page_name(route) + (f": {suffix}" if suffix else "")
            cells = [_cell(route, expect, kwargs, role) for role, _ in COLUMNS]
            found.append((order.get(namespace, len(order)), namespace, page, cells))
    found.sort(key=lambda row: (row[0], _sort_key(row[2])))
    return [(namespace, page, cells) for _, namespace, page, cells in found]


def render() -> str:
    """The table's Markdown (between the markers, markers excluded)."""
    titles = dict(AREAS)
    lines = []
    current = None
    header = "| page | " + " | ".join(label for _, label in COLUMNS) + " |"
    rule = "| --- |" + " --- |" * len(COLUMNS)
    for namespace, page, cells in rows():
        if namespace != current:
            current = namespace
            lines += ["", f"### {titles.get(namespace, namespace)}", "", header, rule]
        lines.append(f"| {page} | " + " | ".join(cells) + " |")
    return "\n".join(lines).strip("\n")


def document(text: str, table: str) -> str:
    """``text`` with the part between the markers replaced by ``table``."""
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{DOC}: the markers of the role table are missing ({BEGIN!r})")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table}\n{END}{tail}"


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicebook.config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    text = DOC.read_text()
    new = document(text, render())
    if new != text:
        DOC.write_text(new)
        print(f"{DOC.relative_to(ROOT)}: role table written")
    else:
        print(f"{DOC.relative_to(ROOT)}: role table already up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
