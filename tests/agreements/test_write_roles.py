"""Every agreements write of the API checks the role first (issue 12: "400 before 403").

A customer user (internal or external), or a staff member without an agreement role, gets 403
with the reason on every write the router maps for the agreements viewsets, whatever the body
and whichever customer's object it names, and nothing changes. Before the fix a body was
validated first, so a customer user learned from the 400 what another customer's data held.
"""

from __future__ import annotations

import pytest

from servicebook.agreements.api import ROUTES
from servicebook.agreements.orders.api import OrderViewSet
from tests.agreements.router_writes import fingerprint, refusals, writes_of

WRITES = writes_of(ROUTES)
#: customer users order and decide their own customer's orders (issue 15): every other
#: agreements write is refused to them
CUSTOMER_REFUSED = [write for write in WRITES if write.viewset is not OrderViewSet]


def test_the_router_maps_the_agreements_writes():
    names = {(write.url_name, write.method) for write in WRITES}
    assert ("agreement-list", "post") in names
    assert ("agreement-amend", "post") in names
    assert ("agreementline-detail", "put") in names
    assert ("changeclause-list", "post") in names
    assert {("order-list", "post"), ("order-approve", "post"), ("order-reject", "post")} <= names


@pytest.mark.parametrize("role", ["internal", "external", "change", "senior"])
def test_every_agreements_write_refuses_a_role_without_it(role, users, client_for):
    before = fingerprint("agreements", "levels")
    writes = CUSTOMER_REFUSED if role in ("internal", "external") else WRITES
    wrong = refusals(writes, users[role], client_for(users[role]), client_for(users["admin"]))
    assert not wrong, "\n".join(wrong)
    assert fingerprint("agreements", "levels") == before


def test_finance_may_only_set_the_consideration(users, client_for):
    finance = users["finance"]
    others = [write for write in WRITES if write.action != "consideration"]
    before = fingerprint("agreements")
    wrong = refusals(others, finance, client_for(finance), client_for(users["admin"]))
    assert not wrong, "\n".join(wrong)
    assert fingerprint("agreements") == before


def test_a_manager_still_gets_the_validation_message(users, client_for):
    """The role check comes first; for a role that may write, the body is validated as before."""
    response = client_for(users["manager"]).post("/api/agreements/", {}, format="json")
    assert response.status_code == 400 and "customer" in response.json()
