"""Parsing a ServiceNow incident event log and the generic CSV (pure, no database)."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from servicebook.levels import intake

DATA = Path(__file__).resolve().parents[1] / "data" / "tickets"
PARIS = ZoneInfo("Europe/Paris")


def read(name):
    with (DATA / name).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return reader.fieldnames, list(reader)


def paris(*args) -> int:
    return int(datetime(*args, tzinfo=PARIS).timestamp())


def test_servicenow_sample_every_row_is_placed_or_rejected_with_its_reason():
    columns, rows = read("servicenow_incidents.csv")
    intake.check_columns(columns, "servicenow", has_agreement=True)
    tickets, rejects = intake.parse_servicenow(rows, agreement="SLA-MKT-2026", tz="Europe/Paris")
    accepted = sum(len(t.rows) for t in tickets)
    assert accepted + len(rejects) == len(rows) == 310
    reasons = {n: why for n, _, why in rejects}
    assert reasons == {
        151: "unknown incident_state '-100'",
        152: "sys_updated_at: '31/2/2026 10:00' is not a day/month/year hour:minute date",
        303: "duplicate row: INC0000002 sys_mod_count 3 seen before",
        304: "number is empty",
    }


def test_servicenow_history_is_rebuilt_in_sys_mod_count_order_with_unpadded_dates():
    _, rows = read("servicenow_incidents.csv")
    tickets, _ = intake.parse_servicenow(rows, agreement="X", tz="Europe/Paris")
    ticket = next(t for t in tickets if t.number == "INC0099001")
    # file order swapped rows 1 and 3; sys_mod_count puts them back
    assert [state for _, _, state in ticket.history] == [
        "New",
        "Active",
        "Awaiting Evidence",
        "Active",
        "Resolved",
        "Closed",
    ]
    assert ticket.history[1][1] == paris(2026, 3, 2, 9, 40)
    f = ticket.fields
    assert f["opened"] == paris(2026, 3, 2, 9, 5)
    assert f["resolved"] == paris(2026, 3, 3, 11, 0)
    assert f["source_priority"] is None  # "?" means empty
    assert (f["impact"], f["urgency"]) == (1, 2)
    assert f["source_made_sla"] is False and f["active"] is False
    reopened = [t for t in tickets if t.fields["reopen_count"]]
    assert reopened, "the sample has reopened incidents"
    states = {s for t in tickets for _, _, s in t.history}
    assert set(intake.SERVICENOW_STATES) <= states


@pytest.mark.parametrize(
    ("text", "expected"),
    [("29/2/2016 01:16", (2016, 2, 29, 1, 16)), ("2/3/2026 9:05", (2026, 3, 2, 9, 5))],
)
def test_servicenow_dates(text, expected):
    assert intake._servicenow_time(text, "Europe/Paris") == paris(*expected)


@pytest.mark.parametrize("text", ["2016-02-29 01:16", "29/2/2016", "30/2/2026 10:00", "x"])
def test_servicenow_bad_dates(text):
    if text == "29/2/2016":  # a date alone is midnight
        midnight = datetime(2016, 2, 29, tzinfo=ZoneInfo("UTC"))
        assert intake._servicenow_time(text, "UTC") == int(midnight.timestamp())
        return
    with pytest.raises(intake.RowError):
        intake._servicenow_time(text, "UTC")


def test_missing_columns_refuse_the_whole_file():
    with pytest.raises(ValueError, match="missing servicenow column"):
        intake.check_columns(["number", "incident_state"], "servicenow", has_agreement=True)
    with pytest.raises(ValueError, match=r"priority \(or impact and urgency\)"):
        intake.check_columns(["number", "opened_at"], "csv", has_agreement=True)
    intake.check_columns(["number", "opened_at", "impact", "urgency"], "csv", has_agreement=True)


def test_generic_csv_builds_history_from_times_and_pauses():
    _, rows = read("tickets.csv")
    tickets, rejects = intake.parse_csv(rows, agreement=None, tz="Europe/Paris")
    assert len(tickets) + len(rejects) == len(rows)
    by_number = {t.number: t for t in tickets}
    laptop = by_number["CSV-1003"]  # naive times: read in the import's time zone
    assert [s for _, _, s in laptop.history] == [
        "New",
        "Active",
        "Awaiting Vendor",
        "Active",
        "Resolved",
        "Closed",
    ]
    assert laptop.history[2][1] == paris(2026, 3, 5, 14, 0)
    assert laptop.fields["kind"] == "request" and laptop.fields["source_priority"] == 4
    printer = by_number["CSV-1002"]
    assert printer.history[2][2] == intake.DEFAULT_PAUSE_STATE
    assert by_number["CSV-1006"].fields["active"] is True
    assert {n: why for n, _, why in rejects} == {
        11: "responded_at is before opened_at",
        12: "opened_at: '04/03/2026 9h' is not an ISO 8601 date and time",
        13: "no priority, and impact or urgency is empty",
    }
    # the unknown agreement is rejected by the service (it needs the database)
    assert by_number["CSV-9001"].agreement == "CT-NOPE-1"


def test_rows_need_an_agreement():
    tickets, rejects = intake.parse_csv(
        [{"number": "A1", "opened_at": "2026-03-02T09:00:00Z", "priority": "2"}], agreement=None
    )
    assert not tickets
    assert rejects[0][2] == "no agreement: give --agreement or an 'agreement' column"


def test_unknown_time_zone():
    with pytest.raises(ValueError, match="unknown time zone"):
        intake.parse_csv([], agreement="X", tz="Mars/Olympus")
