"""Issue 12: a NUL byte in a ticket crashed the CLI import and answered 500 from
``POST /api/tickets/import/`` on PostgreSQL (which cannot store it). The row goes to the rejects
with its row number and reason, the rest is imported, and the counts reconcile. Run this module on
PostgreSQL too (``DATABASE_URL=postgres://…``): that is where the crash showed."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from django.urls import reverse

from servicebook.cli import main
from servicebook.core.errors import DomainError
from servicebook.levels import services
from servicebook.levels.models import Outage, Ticket

HEADER = "number,agreement,priority,opened_at,short_description\n"
REASON = "'short_description' contains a NUL character (\\x00), which is not text"


def _file(tmp_path) -> Path:
    path = tmp_path / "tickets-with-nul.csv"
    path.write_text(
        HEADER
        + "NUL-1,SLA-MKT-2026,3,2026-03-02T09:00:00+01:00,Printer\n"
        + "NUL-2,SLA-MKT-2026,3,2026-03-02T10:00:00+01:00,Bad\x00byte\n"
        + "NUL-3,SLA-MKT-2026,3,2026-03-02T11:00:00+01:00,Screen\n",
        encoding="utf-8",
    )
    return path


def test_cli_import_rejects_the_row_with_a_nul_and_imports_the_rest(db, settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path
    before = Ticket.objects.count()
    assert main(["import", "tickets", str(_file(tmp_path)), "--format", "csv", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows_read"] == 3 and summary["rows_rejected"] == 1
    assert summary["rows_accepted"] + summary["rows_rejected"] == summary["rows_read"]
    assert summary["tickets_created"] == 2 and Ticket.objects.count() == before + 2
    assert not Ticket.objects.filter(number="NUL-2").exists()
    with Path(summary["rejects_path"]).open(newline="", encoding="utf-8") as handle:
        (rejected,) = list(csv.DictReader(handle))
    assert rejected["row"] == "2" and rejected["number"] == "NUL-2"
    assert rejected["reason"] == REASON


def test_servicenow_row_with_a_nul_in_its_number_is_rejected(users):
    columns = ["number", "incident_state", "sys_mod_count", "opened_at", "sys_updated_at"]
    columns += ["impact", "urgency", "priority"]
    good = dict(
        zip(
            columns,
            ["INC-N1", "New", "0", "2/3/2026 09:00", "2/3/2026 09:00", "2", "2", "3 - Moderate"],
            strict=True,
        )
    )
    bad = {**good, "number": "INC-N\x002"}
    result = services.import_tickets(
        actor=users["manager"],
        rows=[good, bad],
        fmt="servicenow",
        columns=columns,
        agreement="SLA-MKT-2026",
    )
    assert result.rows_read == 2 and len(result.rejects) == 1
    assert result.rejects[0][0] == 2 and "'number' contains a NUL" in result.rejects[0][2]
    assert Ticket.objects.filter(number="INC-N1").exists()


def test_api_import_rejects_the_row_with_a_nul(users, client_for):
    body = {
        "format": "csv",
        "agreement": "CT-PAC-2026",
        "rows": [
            {"number": "NUL-API-1", "opened_at": "2026-03-02T09:00:00+08:00", "priority": 2},
            {
                "number": "NUL-API-2",
                "opened_at": "2026-03-02T09:00:00+08:00",
                "priority": 2,
                "short_description": "a\u0000b",
            },
            {"number": "NUL\u0000API-3", "opened_at": "2026-03-02T09:00:00+08:00", "priority": 2},
        ],
    }
    before = Ticket.objects.count()
    response = client_for(users["manager"]).post(reverse("ticket-import"), body, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["rows_read"] == 3 and data["tickets_created"] == 1 and data["rows_rejected"] == 2
    assert [r["row"] for r in data["rejects"]] == [2, 3]
    assert data["rejects"][0]["reason"] == REASON
    assert Ticket.objects.count() == before + 1


def test_api_import_refuses_a_nul_in_a_column_name(users, client_for):
    body = {
        "format": "csv",
        "agreement": "CT-PAC-2026",
        "rows": [{"number": "X", "opened_at": "2026-03-02T09:00:00Z", "priority": 2, "a\u0000": 1}],
    }
    before = Ticket.objects.count()
    response = client_for(users["manager"]).post(reverse("ticket-import"), body, format="json")
    assert response.status_code == 400
    assert "NUL" in json.dumps(response.json())
    assert Ticket.objects.count() == before


@pytest.mark.parametrize("name", ["source", "agreement"])
def test_service_refuses_a_nul_in_source_or_agreement(users, name):
    before = Ticket.objects.count()
    with pytest.raises(DomainError, match="NUL"):
        services.import_tickets(
            actor=users["manager"],
            rows=[{"number": "X", "opened_at": "2026-03-02T09:00:00Z", "priority": "2"}],
            fmt="csv",
            columns=["number", "opened_at", "priority"],
            **{"agreement": "SLA-MKT-2026", name: "x\x00y"},
        )
    assert Ticket.objects.count() == before


def test_outage_row_with_a_nul_is_rejected(users):
    columns = ["reference", "service", "start", "description"]
    rows = [
        {"reference": "OUT-N1", "service": "service-desk", "start": "2026-07-01T08:00:00Z"},
        {
            "reference": "OUT-N2",
            "service": "service-desk",
            "start": "2026-07-01T08:00:00Z",
            "description": "x\x00",
        },
    ]
    result = services.import_outages(actor=users["manager"], rows=rows, columns=columns)
    assert result["outages_created"] == 1 and result["rows_rejected"] == 1
    assert result["rejects"][0][0] == 2 and "NUL" in result["rejects"][0][2]
    assert not Outage.objects.filter(reference="OUT-N2").exists()
