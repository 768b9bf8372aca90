"""Ticket intake through the service, the API and the CLI: idempotent, rejects with reasons."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from django.urls import reverse

from servicebook.cli import main
from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.levels import services
from servicebook.levels.models import ImportBatch, Ticket, TicketStateChange

DATA = Path(__file__).resolve().parents[1] / "data" / "tickets"
SNOW = DATA / "servicenow_incidents.csv"
GENERIC = DATA / "tickets.csv"


def rows_of(path):
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return reader.fieldnames, list(reader)


def snow(actor, rows=None, **extra):
    columns, file_rows = rows_of(SNOW)
    options = {"agreement": "SLA-MKT-2026", "time_zone": "Europe/Paris", **extra}
    return services.import_tickets(
        actor=actor,
        rows=rows if rows is not None else file_rows,
        fmt="servicenow",
        columns=columns,
        **options,
    )


def counts():
    return Ticket.objects.count(), TicketStateChange.objects.count()


def test_servicenow_import_is_idempotent_and_a_later_export_updates(users):
    before = counts()
    first = snow(users["manager"])
    assert first.summary()["rows_read"] == 310
    assert (first.tickets_created, first.tickets_updated, first.rows_rejected) == (44, 0, 4)
    assert first.rows_accepted + first.rows_rejected == first.rows_read
    after_first = counts()
    assert after_first[0] == before[0] + 44 and after_first[1] == before[1] + 306
    again = snow(users["manager"])
    assert (again.tickets_created, again.tickets_updated, again.tickets_unchanged) == (0, 0, 44)
    assert counts() == after_first
    # a later export: one more update of INC0099001 (reopened) and a changed assignment group
    _columns, rows = rows_of(SNOW)
    later = [dict(r) for r in rows if r["number"] == "INC0099001"]
    newest = dict(max(later, key=lambda r: int(r["sys_mod_count"])))
    newest.update(
        sys_mod_count="6",
        incident_state="Active",
        sys_updated_at="9/3/2026 10:00",
        reopen_count="1",
        active="true",
        assignment_group="Group 2",
    )
    update = snow(users["manager"], rows=[*later, newest])
    assert (update.tickets_created, update.tickets_updated) == (0, 1)
    ticket = Ticket.objects.get(source="servicenow", number="INC0099001")
    assert ticket.state == "Active" and ticket.reopen_count == 1
    assert ticket.assignment_group == "Group 2"
    assert ticket.history.count() == 7
    # re-importing the older file does not roll the ticket back
    snow(users["manager"])
    ticket.refresh_from_db()
    assert ticket.state == "Active" and ticket.history.count() == 7
    batch = ImportBatch.objects.filter(format="servicenow").first()
    assert batch.actor == users["manager"] and batch.rows_read == 310


def test_priority_comes_from_impact_and_urgency_and_source_is_kept(users):
    snow(users["manager"])
    ticket = Ticket.objects.get(number="INC0099001")
    assert (ticket.impact, ticket.urgency, ticket.priority) == (1, 2, 2)
    assert ticket.source_priority is None and ticket.source_made_sla is False
    assert ticket.opened_at.isoformat() == "2026-03-02T08:05:00+00:00"  # 09:05 Paris


def test_generic_csv_places_rows_by_their_agreement_column(users):
    columns, rows = rows_of(GENERIC)
    result = services.import_tickets(
        actor=users["manager"], rows=rows, fmt="csv", columns=columns, time_zone="Europe/Paris"
    )
    assert (result.rows_read, result.tickets_created, result.rows_rejected) == (13, 9, 4)
    assert result.agreements == ["CT-MER-2026", "SLA-MKT-2026"]
    reasons = {n: why for n, _, why in result.rejects}
    assert reasons[10] == "unknown agreement 'CT-NOPE-1'"
    assert Ticket.objects.get(number="CSV-2001").agreement.reference == "CT-MER-2026"
    # the same number from another source is another ticket; moving a ticket is refused
    moved = [dict(rows[0], agreement="CT-MER-2026")]
    refused = services.import_tickets(
        actor=users["manager"], rows=moved, fmt="csv", columns=columns
    )
    assert refused.rejects[0][2] == "CSV-1001 already belongs to another agreement"
    other = services.import_tickets(
        actor=users["manager"], rows=moved, fmt="csv", columns=columns, source="other-desk"
    )
    assert other.tickets_created == 1
    # a later CSV row replaces the history (a pause added)
    changed = [dict(rows[0], pauses="2026-03-02T10:00:00+01:00/2026-03-02T10:30:00+01:00")]
    update = services.import_tickets(
        actor=users["manager"], rows=changed, fmt="csv", columns=columns
    )
    assert update.tickets_updated == 1
    states = list(
        Ticket.objects.get(source="csv", number="CSV-1001").history.values_list("state", flat=True)
    )
    assert states == ["New", "Active", "Awaiting User Info", "Active", "Resolved", "Closed"]


@pytest.mark.parametrize("who", ["internal", "external", "finance", "change"])
def test_only_service_managers_and_admins_import(users, who):
    before = counts()
    with pytest.raises(PermissionDenied):
        snow(users[who])
    assert counts() == before


def test_whole_file_refusals_change_nothing(users):
    before = counts()
    with pytest.raises(DomainError, match="missing servicenow column"):
        services.import_tickets(
            actor=users["manager"], rows=[{"number": "X"}], fmt="servicenow", columns=["number"]
        )
    with pytest.raises(DomainError, match="unknown format"):
        services.import_tickets(actor=users["manager"], rows=[], fmt="xlsx", columns=[])
    with pytest.raises(DomainError, match="unknown time zone"):
        snow(users["manager"], time_zone="Mars/Olympus")
    assert counts() == before


def test_api_batch_import(users, client_for):
    url = reverse("ticket-import")
    body = {
        "format": "csv",
        "agreement": "CT-PAC-2026",
        "rows": [
            {
                "number": "API-1",
                "opened_at": "2026-03-02T09:00:00+08:00",
                "priority": 2,
                "responded_at": "2026-03-02T09:20:00+08:00",
            },
            {"number": "API-2", "opened_at": "not a date", "priority": 3},
        ],
    }
    response = client_for(users["manager"]).post(url, body, format="json")
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["rows_read"] == 2 and data["tickets_created"] == 1 and data["rows_rejected"] == 1
    assert data["rejects"] == [
        {"row": 2, "reason": "opened_at: 'not a date' is not an ISO 8601 date and time"}
    ]
    again = client_for(users["manager"]).post(url, body, format="json").json()
    assert again["tickets_created"] == 0 and again["tickets_updated"] == 0
    before = counts()
    for who in ("external", "internal"):
        refused = client_for(users[who]).post(url, body, format="json")
        assert refused.status_code == 403
    bad = client_for(users["manager"]).post(url, {"format": "csv", "rows": []}, format="json")
    assert bad.status_code == 400
    assert counts() == before


def test_cli_import_prints_a_json_summary_and_writes_rejects(users, settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path
    code = main(
        [
            "import",
            "tickets",
            str(SNOW),
            "--format",
            "servicenow",
            "--agreement",
            "SLA-MKT-2026",
            "--time-zone",
            "Europe/Paris",
            "--json",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows_read"] == summary["rows_accepted"] + summary["rows_rejected"] == 310
    assert (summary["tickets_created"], summary["tickets_updated"], summary["rows_rejected"]) == (
        44,
        0,
        4,
    )
    rejects = Path(summary["rejects_path"])
    assert rejects.parent == tmp_path / "rejects"
    with rejects.open(newline="") as handle:
        rejected = list(csv.DictReader(handle))
    assert next(r["reason"] for r in rejected) == "unknown incident_state '-100'"
    assert rejected[0]["number"].startswith("INC")
    assert (
        main(
            [
                "import",
                "tickets",
                str(SNOW),
                "--format",
                "servicenow",
                "--agreement",
                "SLA-MKT-2026",
                "--time-zone",
                "Europe/Paris",
                "--json",
            ]
        )
        == 0
    )
    second = json.loads(capsys.readouterr().out)
    assert second["tickets_created"] == 0 and second["tickets_updated"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere.csv", "--format", "csv"], "cannot read nowhere.csv: no such file"),
        (["EMPTY", "--format", "csv"], "is empty: expected a CSV header line"),
        (["HEADER", "--format", "csv"], "missing csv column(s): number, opened_at"),
        ([str(GENERIC), "--format", "servicenow"], "missing servicenow column(s)"),
        ([str(GENERIC), "--format", "csv", "--time-zone", "Nowhere/City"], "unknown time zone"),
    ],
)
def test_cli_refuses_bad_input_in_one_line(users, settings, tmp_path, capsys, args, message):
    settings.VAR_DIR = tmp_path
    (tmp_path / "EMPTY").write_text("")
    (tmp_path / "HEADER").write_text("foo,bar\n1,2\n")
    args = [str(tmp_path / a) if a in ("EMPTY", "HEADER") else a for a in args]
    before = counts()
    assert main(["import", "tickets", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("servicebook import tickets: ")
    assert message in err[0]
    assert counts() == before


def test_cli_bad_format_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["import", "tickets", "x.csv", "--format", "xlsx"])
    assert exit_info.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_cli_streams_the_file_and_writes_late_rejects_with_their_rows(users, settings, tmp_path):
    """The CLI reads the file row by row; rows rejected once read (an unknown agreement) are read
    again from the file for the rejects file, each with its reason and its cells."""
    settings.VAR_DIR = tmp_path
    _, rows = rows_of(SNOW)
    args = [str(SNOW), "--format", "servicenow", "--agreement", "NOPE-1", "--json"]
    before = counts()
    assert main(["import", "tickets", *args]) == 0
    (rejects,) = (tmp_path / "rejects").glob("tickets-*.csv")
    with rejects.open(newline="", encoding="utf-8") as handle:
        written = list(csv.DictReader(handle))
    assert [r["number"] for r in written] == [r["number"] for r in rows]  # each row, in order
    late = [r for r in written if r["reason"] == "unknown agreement 'NOPE-1'"]
    assert len(late) > len(rows) // 2  # the others are the sample's unreadable rows
    assert all(r["opened_at"] and r["sys_mod_count"] for r in late)
    assert counts() == before
