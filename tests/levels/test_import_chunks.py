"""The ticket import writes a chunk of tickets at a time as the export is read: the chunk size
changes nothing in what is stored, a ticket whose rows are apart in the file is still one ticket,
a failure part-way writes nothing, and the web upload reads its file row by row."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from servicebook.levels import jobs as level_jobs
from servicebook.levels import services
from servicebook.levels.models import Ticket, TicketStateChange
from servicebook.levels.ticket_writes import TicketWrites

SNOW = Path(__file__).resolve().parents[1] / "data" / "tickets" / "servicenow_incidents.csv"
OPTIONS = {"fmt": "servicenow", "agreement": "SLA-MKT-2026", "time_zone": "Europe/Paris"}
FIELDS = ("number", "state", "active", "priority", "opened_at", "resolved_at", "closed_at")


def rows_of(path=SNOW):
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return reader.fieldnames, list(reader)


def stored(source: str) -> dict:
    """The tickets of ``source`` by number: their fields and their state history."""
    tickets = Ticket.objects.filter(source=source)
    history: dict[str, list] = {}
    for number, sequence, at, state in (
        TicketStateChange.objects.filter(ticket__source=source)
        .order_by("ticket__number", "sequence")
        .values_list("ticket__number", "sequence", "at", "state")
    ):
        history.setdefault(number, []).append((sequence, at, state))
    return {t.number: ([getattr(t, f) for f in FIELDS], history[t.number]) for t in tickets}


def counts():
    return Ticket.objects.count(), TicketStateChange.objects.count()


def run(users, rows, source, **extra):
    columns, _ = rows_of()
    return services.import_tickets(
        actor=users["manager"], rows=rows, columns=columns, source=source, **OPTIONS, **extra
    )


def test_a_small_chunk_stores_what_one_chunk_stores(users):
    _, rows = rows_of()
    whole = run(users, rows, "whole", chunk=100_000)
    small = run(users, iter(rows), "small", chunk=3, reread=lambda: iter(rows))
    assert whole.summary() == small.summary()
    assert (small.tickets_created, small.rows_rejected) == (44, 4)
    assert [n for n, _, _ in whole.rejects] == [n for n, _, _ in small.rejects]
    assert stored("whole") == stored("small") and len(stored("small")) == 44
    # imported again in small chunks: merged, nothing duplicated
    before = counts()
    again = run(users, rows, "small", chunk=3)
    assert (again.tickets_created, again.tickets_updated, again.tickets_unchanged) == (0, 0, 44)
    assert counts() == before


def test_a_ticket_whose_rows_are_apart_is_still_one_ticket(users):
    _, rows = rows_of()
    ordered = run(users, rows, "ordered")
    shuffled = list(rows)
    random.Random(4).shuffle(shuffled)
    reads = []

    def reread():
        reads.append(1)
        return iter(shuffled)

    apart = run(users, iter(shuffled), "apart", chunk=5, reread=reread)
    assert reads  # read again whole once a ticket's rows were found apart
    assert apart.summary() == ordered.summary()
    assert sorted(r for _, _, r in apart.rejects) == sorted(r for _, _, r in ordered.rejects)
    assert stored("apart") == stored("ordered")


def test_a_failure_part_way_writes_nothing(users, monkeypatch):
    _, rows = rows_of()
    save = TicketWrites.save
    calls = []

    def failing(self, result, progress=None):
        calls.append(1)
        if len(calls) == 3:  # two chunks written already
            raise RuntimeError("disk full")
        return save(self, result, progress)

    monkeypatch.setattr(TicketWrites, "save", failing)
    before = counts()
    with pytest.raises(RuntimeError, match="disk full"):
        run(users, rows, "failing", chunk=5)
    assert len(calls) == 3 and counts() == before


def test_the_web_upload_reads_its_file_row_by_row(users, tmp_path, monkeypatch):
    """The job hands the importer the file's reader (and a way to read it again), never a list of
    its rows; what it stores is what the CLI stores."""
    path = tmp_path / "input-servicenow_incidents.csv"
    path.write_bytes(SNOW.read_bytes())
    given = {}
    real = services.import_tickets

    def spy(**kwargs):
        given.update(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(level_jobs.services, "import_tickets", spy)
    monkeypatch.setattr(level_jobs, "read_csv", None)  # the whole-file reader is not used
    monkeypatch.setattr(level_jobs.jobs, "write_rejects", lambda job, columns, rejects: "x.csv")

    class Job:
        user = users["manager"]
        input_file = str(path)
        params = {"format": "servicenow", "agreement": "SLA-MKT-2026", "source": "web"}
        params["time_zone"] = "Europe/Paris"

    summary = level_jobs.run_ticket_import(Job(), lambda *args, **kwargs: None)
    assert isinstance(given["rows"], csv.DictReader) and callable(given["reread"])
    assert (summary["rows_read"], summary["tickets_created"], summary["rows_rejected"]) == (
        310,
        44,
        4,
    )
    run(users, rows_of()[1], "cli")
    assert stored("web") == stored("cli")


def test_the_web_uploads_progress_moves_while_the_file_is_read(users, tmp_path, monkeypatch):
    """The job reads a file of rows whose number it does not know: the bar follows the share of
    the file's bytes read (it sat at 45 % until the reading ended when the import streamed)."""
    path = tmp_path / "input-servicenow_incidents.csv"
    columns, rows = rows_of()
    with path.open("w", newline="", encoding="utf-8") as handle:  # each ticket's rows together
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(sorted(rows, key=lambda row: row["number"]))
    real = services.import_tickets
    monkeypatch.setattr(
        level_jobs.services, "import_tickets", lambda **kwargs: real(**kwargs, chunk=4)
    )
    monkeypatch.setattr(level_jobs.jobs, "write_rejects", lambda job, columns, rejects: "x.csv")

    class Job:
        user = users["manager"]
        input_file = str(path)
        params = {"format": "servicenow", "agreement": "SLA-MKT-2026", "source": "web"}

    heard = []
    level_jobs.run_ticket_import(
        Job(), lambda done, total, message="": heard.append((done, message))
    )
    reading = [done for done, message in heard if "rows read" in message]
    assert len(set(reading)) >= 3, heard
    assert reading == sorted(reading) and reading[0] > 5 and reading[-1] <= 85, reading
    assert [done for done, _ in heard] == sorted(done for done, _ in heard)


def test_the_web_upload_refuses_an_unreadable_file_in_one_line(users, tmp_path):
    from servicebook.core.errors import DomainError

    path = tmp_path / "input-bad.csv"
    header = ",".join(rows_of()[0])
    path.write_bytes(header.encode() + b"\nINC1,\xff\xfe\n")

    class Job:
        user = users["manager"]
        input_file = str(path)
        params = {"format": "servicenow", "agreement": "SLA-MKT-2026"}

    before = counts()
    with pytest.raises(DomainError, match=r"cannot read bad\.csv"):
        level_jobs.run_ticket_import(Job(), lambda *args, **kwargs: None)
    assert counts() == before


@pytest.mark.parametrize("tz", ["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "UTC"])
def test_dates_read_by_arithmetic_are_those_of_the_general_reader(tz):
    """Days with one UTC offset are read by arithmetic; the answers (and refusals) are those of
    the general reader, DST change days and odd texts included."""
    from servicebook.levels import intake

    texts = [
        f"{day}/{month}/2026 {clock}"
        for day in (1, 4, 5, 8, 25, 29, 31)
        for month in (3, 4, 10, 11)
        for clock in ("00:00", "01:59", "02:00", "02:30", "3:05", "23:59:59", "24:00", "7:60")
    ]
    texts += ["29/2/2016 01:16", "1/1/2026", "1/1/2026 ", "30/2/2026 10:00", "1/1/2026 1:2:3:4"]
    texts += ["1/13/2026 10:00", "x/1/2026 10:00", "1/1/2026 ١٠:00", "1/1/2026  10:00"]
    reader = intake._ServiceNowRows(tz, None)
    for text in texts:
        try:
            expected = intake._servicenow_time(text, tz)
        except intake.RowError as error:
            with pytest.raises(intake.RowError) as raised:
                reader._servicenow_time(text)
            assert str(raised.value) == str(error)
        else:
            assert reader._servicenow_time(text) == expected, text


def test_rows_are_read_as_dict_reader_gives_them():
    import io

    from servicebook.levels.services import _dict_rows

    text = 'a,b,c\n1,2,3\n\n4,5\n6,7,8,9\n"x\ny",2,3\n'
    expected = list(csv.DictReader(io.StringIO(text)))
    assert list(_dict_rows(csv.DictReader(io.StringIO(text)))) == expected
    assert len(expected) == 4 and expected[2][None] == ["9"] and expected[1]["c"] is None
