"""Every levels write of the API checks the role first (issue 12: "400 before 403").

Ticket import, outages (record, end) and attainment recompute: a customer user, or a staff
member without the role the service needs, gets 403 with the reason whatever the body and
whichever customer's object it names, and nothing changes. Driven from the router, so a new
write action is covered when it is added.
"""

from __future__ import annotations

import pytest

from servicebook.levels.api import ROUTES
from servicebook.levels.selfservice.api import PortalTicketViewSet
from tests.agreements.router_writes import fingerprint, refusals, writes_of

WRITES = writes_of(ROUTES)
#: customer users raise, comment on and close their own portal tickets (issue 15): every other
#: levels write, and moving a portal ticket, is refused to them
CUSTOMER_REFUSED = [
    write for write in WRITES if write.viewset is not PortalTicketViewSet or write.action == "move"
]


def test_the_router_maps_the_levels_writes():
    names = {(write.url_name, write.method) for write in WRITES}
    assert {
        ("ticket-import", "post"),
        ("outage-list", "post"),
        ("outage-end", "post"),
        ("attainment-recompute", "post"),
        ("portalticket-list", "post"),
        ("portalticket-comment", "post"),
        ("portalticket-close", "post"),
        ("portalticket-move", "post"),
    } <= names


@pytest.mark.parametrize("role", ["internal", "external", "change", "senior"])
def test_every_levels_write_refuses_a_role_without_it(role, users, client_for):
    before = fingerprint("levels", "agreements")
    writes = CUSTOMER_REFUSED if role in ("internal", "external") else WRITES
    wrong = refusals(writes, users[role], client_for(users[role]), client_for(users["admin"]))
    assert not wrong, "\n".join(wrong)
    assert fingerprint("levels", "agreements") == before


def test_finance_may_only_recompute(users, client_for):
    finance = users["finance"]
    others = [write for write in WRITES if write.action != "recompute"]
    before = fingerprint("levels")
    wrong = refusals(others, finance, client_for(finance), client_for(users["admin"]))
    assert not wrong, "\n".join(wrong)
    assert fingerprint("levels") == before
    response = client_for(finance).post("/api/attainment/recompute/", {}, format="json")
    assert response.status_code == 400 and "agreement" in response.json()


def test_ticket_import_body_is_still_validated_for_a_manager(users, client_for):
    response = client_for(users["manager"]).post("/api/tickets/import/", {}, format="json")
    assert response.status_code == 400 and "format" in response.json()
