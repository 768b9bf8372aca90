"""The design specifications' API answers what its schema declares (issue 12, fuzz guard: the
signer's name was left out, though required, for a specification not signed off yet)."""

from __future__ import annotations

import pytest

from tests.parties.schema_truth import violations


@pytest.mark.parametrize("role", ["admin", "manager", "internal", "external"])
def test_specifications_match_their_schema(users, client_for, role):
    response = client_for(users[role]).get("/api/specifications/")
    assert response.status_code == 200
    assert violations(response.json(), "/api/specifications/") == []


def test_a_specification_not_signed_off_names_no_signer(users, client_for):
    rows = client_for(users["admin"]).get("/api/specifications/").json()["results"]
    unsigned = [row for row in rows if row["signed_off_by"] is None]
    assert unsigned
    assert all(row["signed_off_by_name"] is None for row in unsigned)
