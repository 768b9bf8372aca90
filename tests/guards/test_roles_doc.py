"""docs/roles.md's role × page × action table is the permission matrix's (issue 18).

The table is rendered from the matrix's expectations (``tests/guards/roles_doc.py``); when a
route or an expectation changes, this test fails until the table is written again with
``DEBUG=1 .venv/bin/python -m tests.guards.roles_doc``.
"""

from __future__ import annotations

from tests.guards import roles_doc


def test_the_role_table_in_docs_matches_the_permission_matrix():
    text = roles_doc.DOC.read_text()
    expected = roles_doc.document(text, roles_doc.render())
    assert text == expected, (
        "docs/roles.md's role table differs from the permission matrix; write it again with: "
        f"{roles_doc.COMMAND}"
    )


def test_every_page_has_a_name_people_use():
    from tests.guards.test_permission_matrix import ROUTES

    unnamed = [
        route.name
        for route in ROUTES.values()
        if not route.is_api
        and route.name not in roles_doc.LEFT_OUT
        and route.name not in roles_doc.PAGE_NAMES
        and not isinstance(getattr(route.view, "title", None), str)
    ]
    assert not unnamed, f"name these pages in tests/guards/roles_doc.py PAGE_NAMES: {unnamed}"


def test_the_ledger_and_margins_are_for_finance_and_the_admin_only():
    """The issue's own example: finance and admin see the ledger; the change manager does not."""
    columns = [role for role, _ in roles_doc.COLUMNS]
    ledger = {page: cells for _, page, cells in roles_doc.rows()}["Ledger"]
    allowed = {role for role, cell in zip(columns, ledger, strict=True) if "view" in cell}
    assert allowed == {"admin", "finance"}
