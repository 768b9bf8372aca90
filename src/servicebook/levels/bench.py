"""SLA clock benchmark: vectorized engine vs. the day-by-day loop most helpdesks use.

:func:`run_sla_benchmark` builds ``n`` synthetic tickets spread over a year (2024) on an
office calendar in a DST time zone (Europe/Paris, Mon-Fri 08:00-12:00 and 13:00-17:00,
French public holidays), each with 0-3 pauses (some overlapping, some running past the
ticket's end, many outside business hours). It times the vectorized engine computing, for
all ``n`` tickets, the elapsed business seconds net of pauses *and* the due time of an SLA
target, from cold caches (holiday lookup and business intervals included). It then times
:func:`~servicebook.levels.clock.loop_business_seconds` and
:func:`~servicebook.levels.clock.loop_due` on a random sample of tickets in the same
process and checks that both implementations agree on that sample (``AssertionError``
otherwise). No Django import.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, NamedTuple

import numpy as np

from servicebook.levels.clock import (
    Calendar,
    Pauses,
    business_seconds,
    clear_caches,
    due_at,
    from_epoch,
    loop_business_seconds,
    loop_due,
    to_epoch,
)

_HOUR = 3600
_TARGETS = np.array([4, 8, 16, 24, 40], dtype=np.int64) * _HOUR  # business seconds


def benchmark_calendar() -> Calendar:
    """The calendar used by the benchmark (two windows a day, FR holidays, DST zone)."""
    return Calendar.office("Europe/Paris", windows=((480, 720), (780, 1020)), holiday_country="FR")


def synthetic_tickets(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """``n`` tickets opened during 2024 with 0-3 pauses each and an SLA target each."""
    rng = np.random.default_rng(seed)
    year_start = to_epoch(datetime(2024, 1, 1, tzinfo=UTC))
    start = year_start + rng.integers(0, 366 * 86_400, n, dtype=np.int64)
    duration = 60 + np.minimum(rng.exponential(3 * 86_400, n), 60 * 86_400).astype(np.int64)
    end = start + duration
    counts = rng.integers(0, 4, n)
    ticket = np.repeat(np.arange(n, dtype=np.int64), counts)
    offset = (rng.random(ticket.size) * duration[ticket] * 1.1).astype(np.int64)
    pause_start = start[ticket] + offset - 600
    pause_end = pause_start + rng.exponential(8 * _HOUR, ticket.size).astype(np.int64)
    target = _TARGETS[rng.integers(0, _TARGETS.size, n)]
    shuffle = rng.permutation(ticket.size)  # pauses arrive in no particular order
    return {
        "start": start,
        "end": end,
        "pause_ticket": ticket[shuffle],
        "pause_start": pause_start[shuffle],
        "pause_end": pause_end[shuffle],
        "target": target,
    }


def run_sla_benchmark(n: int = 1_000_000, loop_sample: int = 2_000, seed: int = 0) -> dict:
    """Time the vectorized SLA clock on ``n`` tickets and the loop on ``loop_sample`` of them.

    Returns JSON-able figures: ``tickets``, ``seconds`` (elapsed-with-pauses + due for all
    tickets, cold caches), ``tickets_per_s``, ``loop_tickets``, ``loop_seconds``,
    ``loop_tickets_per_s``, ``speedup_vs_loop`` (throughput ratio), ``pauses``,
    ``calendar`` and a per-step breakdown.
    """
    if n < 1 or loop_sample < 0:
        raise ValueError("n must be >= 1 and loop_sample >= 0")
    calendar = benchmark_calendar()
    data = synthetic_tickets(n, seed)
    pauses = Pauses(data["pause_ticket"], data["pause_start"], data["pause_end"])

    clear_caches()
    t0 = time.perf_counter()
    elapsed = business_seconds(calendar, data["start"], data["end"], pauses)
    t1 = time.perf_counter()
    deadline = due_at(calendar, data["start"], data["target"])
    t2 = time.perf_counter()
    seconds = t2 - t0

    # The loop baseline works on datetimes, as an ORM-based helpdesk would.
    rng = np.random.default_rng(seed + 1)
    sample = np.sort(rng.choice(n, size=min(loop_sample, n), replace=False))
    by_ticket = np.argsort(data["pause_ticket"], kind="stable")
    sorted_ticket = data["pause_ticket"][by_ticket]
    first_pause = np.searchsorted(sorted_ticket, sample, side="left")
    last_pause = np.searchsorted(sorted_ticket, sample, side="right")
    rows: list[tuple[datetime, datetime, list[tuple[datetime, datetime]], int]] = []
    for i, lo, hi in zip(sample.tolist(), first_pause.tolist(), last_pause.tolist(), strict=True):
        ticket_pauses = [
            (from_epoch(data["pause_start"][j]), from_epoch(data["pause_end"][j]))
            for j in by_ticket[lo:hi].tolist()
        ]
        rows.append(
            (
                from_epoch(data["start"][i]),
                from_epoch(data["end"][i]),
                ticket_pauses,
                int(data["target"][i]),
            )
        )
    clear_caches()
    t3 = time.perf_counter()
    loop_elapsed = [loop_business_seconds(calendar, a, b, p) for a, b, p, _ in rows]
    loop_deadline = [loop_due(calendar, a, target) for a, _, _, target in rows]
    loop_seconds = time.perf_counter() - t3

    if not np.array_equal(elapsed[sample], np.array(loop_elapsed, dtype=np.int64)):
        raise AssertionError("vectorized elapsed business seconds disagree with the loop")
    if not np.array_equal(deadline[sample], np.array(loop_deadline, dtype=np.int64)):
        raise AssertionError("vectorized due times disagree with the loop")

    tickets_per_s = n / seconds
    loop_tickets_per_s = len(rows) / loop_seconds if rows and loop_seconds > 0 else None
    result: dict[str, Any] = {
        "tickets": n,
        "seconds": round(seconds, 4),
        "tickets_per_s": round(tickets_per_s),
        "elapsed_seconds": round(t1 - t0, 4),
        "due_seconds": round(t2 - t1, 4),
        "loop_tickets": len(rows),
        "loop_seconds": round(loop_seconds, 4),
        "loop_tickets_per_s": round(loop_tickets_per_s, 1) if loop_tickets_per_s else None,
        "speedup_vs_loop": (
            round(tickets_per_s / loop_tickets_per_s, 1) if loop_tickets_per_s else None
        ),
        "pauses": int(data["pause_ticket"].size),
        "calendar": calendar.describe(),
        "agree_on_sample": True,
        "mean_business_hours": round(float(elapsed.mean()) / _HOUR, 3),
    }
    return result


# --------------------------------------------------------------------------- ServiceNow export

#: The 36 columns of ServiceNow's incident event log export (Kaggle "incident event log").
SERVICENOW_COLUMNS = (
    "number",
    "incident_state",
    "active",
    "reassignment_count",
    "reopen_count",
    "sys_mod_count",
    "made_sla",
    "caller_id",
    "opened_by",
    "opened_at",
    "sys_created_by",
    "sys_created_at",
    "sys_updated_by",
    "sys_updated_at",
    "contact_type",
    "location",
    "category",
    "subcategory",
    "u_symptom",
    "cmdb_ci",
    "impact",
    "urgency",
    "priority",
    "assignment_group",
    "assigned_to",
    "knowledge",
    "u_priority_confirmation",
    "notify",
    "problem_id",
    "rfc",
    "vendor",
    "caused_by",
    "closed_code",
    "resolved_by",
    "resolved_at",
    "closed_at",
)
_LEVELS = {1: "1 - High", 2: "2 - Medium", 3: "3 - Low"}
_PRIORITIES = {1: "1 - Critical", 2: "2 - High", 3: "3 - Moderate", 4: "4 - Low"}
_MATRIX = {(1, 1): 1, (1, 2): 2, (2, 1): 2, (1, 3): 3, (2, 2): 3, (3, 1): 3}
_AWAITING = ("Awaiting User Info", "Awaiting Vendor", "Awaiting Problem", "Awaiting Evidence")


def servicenow_date(seconds: int, tz: str = "UTC") -> str:
    """``d/m/Y H:M`` without zero padding, as the export writes it (``29/2/2016 01:16``)."""
    moment = from_epoch(seconds, tz)
    return f"{moment.day}/{moment.month}/{moment.year} {moment.hour:02d}:{moment.minute:02d}"


def servicenow_rows(
    n_rows: int,
    *,
    seed: int = 0,
    year: int = 2026,
    months: int = 12,
    tz: str = "UTC",
    prefix: str = "INC",
    agreement: str | None = None,
):
    """Yield about ``n_rows`` rows of a synthetic ServiceNow incident event log.

    Each incident is New → Active → (Awaiting … → Active)* → Resolved → Closed, sometimes
    reopened, with updates repeated (reassignments), ordered by ``sys_mod_count``; ``?`` for
    empty values and unpadded day/month/year dates, like the real export. With ``agreement``
    an extra ``agreement`` column names the agreement of every row.
    """
    rng = np.random.default_rng(seed)
    start = to_epoch(datetime(year, 1, 1, tzinfo=UTC))
    span = months * 30 * 86_400
    produced, number = 0, 0
    while produced < n_rows:
        number += 1
        incident = _incident(rng, f"{prefix}{number:07d}", start + int(rng.integers(0, span)))
        for sequence, (state, at) in enumerate(incident.steps):
            row = _event_row(rng, incident, sequence, state, servicenow_date(at, tz), tz)
            if agreement is not None:
                row["agreement"] = agreement
            yield row
            produced += 1


class _Incident(NamedTuple):
    number: str
    impact: int
    urgency: int
    steps: list[tuple[str, int]]  # (state, epoch seconds), the last one Closed
    reopened: bool
    made_sla: str
    group: str

    @property
    def resolved(self) -> int:
        return self.steps[-2][1]

    @property
    def closed(self) -> int:
        return self.steps[-1][1]


def _incident(rng: np.random.Generator, number: str, opened: int) -> _Incident:
    """One incident's life (its random draws in the order the export's rows were first made)."""
    impact, urgency = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    steps: list[tuple[str, int]] = [("New", opened)]
    t = opened + int(rng.integers(60, 4 * _HOUR))
    steps.append(("Active", t))
    for _ in range(int(rng.integers(0, 3))):  # reassignments: same state, new update
        t += int(rng.integers(600, 6 * _HOUR))
        steps.append(("Active", t))
    for _ in range(int(rng.choice([0, 0, 1, 2]))):
        t += int(rng.integers(600, 8 * _HOUR))
        steps.append((_AWAITING[int(rng.integers(0, 4))], t))
        t += int(rng.integers(_HOUR, 48 * _HOUR))
        steps.append(("Active", t))
    t += int(rng.integers(_HOUR, 72 * _HOUR))
    steps.append(("Resolved", t))
    reopened = rng.random() < 0.05
    if reopened:
        t += int(rng.integers(_HOUR, 24 * _HOUR))
        steps.append(("Active", t))
        t += int(rng.integers(_HOUR, 24 * _HOUR))
        steps.append(("Resolved", t))
    steps.append(("Closed", t + 5 * 86_400))
    made_sla = "true" if rng.random() < 0.9 else "false"
    group = f"Group {int(rng.integers(1, 80))}"
    return _Incident(number, impact, urgency, steps, bool(reopened), made_sla, group)


def _event_row(
    rng: np.random.Generator, incident: _Incident, sequence: int, state: str, at: str, tz: str
) -> dict[str, str]:
    """One update of an incident, as the export writes it (``at``: when it was updated)."""
    last = len(incident.steps) - 1
    return {
        "number": incident.number,
        "incident_state": state,
        "active": "false" if state == "Closed" else "true",
        "reassignment_count": str(min(sequence, 3)),
        "reopen_count": "1" if incident.reopened and sequence >= last - 2 else "0",
        "sys_mod_count": str(sequence),
        "made_sla": incident.made_sla,
        "caller_id": f"Caller {int(rng.integers(1, 5000))}",
        "opened_by": f"Opened by  {int(rng.integers(1, 200))}",
        "opened_at": servicenow_date(incident.steps[0][1], tz),
        "sys_created_by": "?",
        "sys_created_at": "?",
        "sys_updated_by": f"Updated by {int(rng.integers(1, 900))}",
        "sys_updated_at": at,
        "contact_type": "Phone",
        "location": f"Location {int(rng.integers(1, 200))}",
        "category": f"Category {int(rng.integers(1, 60))}",
        "subcategory": f"Subcategory {int(rng.integers(1, 250))}",
        "u_symptom": f"Symptom {int(rng.integers(1, 500))}",
        "cmdb_ci": "?",
        "impact": _LEVELS[incident.impact],
        "urgency": _LEVELS[incident.urgency],
        "priority": _PRIORITIES[_MATRIX.get((incident.impact, incident.urgency), 4)],
        "assignment_group": incident.group,
        "assigned_to": "?",
        "knowledge": "false",
        "u_priority_confirmation": "false",
        "notify": "Do Not Notify",
        "problem_id": "?",
        "rfc": "?",
        "vendor": "?",
        "caused_by": "?",
        "closed_code": "code 5" if state == "Closed" else "?",
        "resolved_by": "Resolved by 149",
        "resolved_at": servicenow_date(incident.resolved, tz),
        "closed_at": servicenow_date(incident.closed, tz),
    }


def write_servicenow_export(path, n_rows: int, **options) -> int:
    """Write a synthetic export of about ``n_rows`` rows to ``path``; returns the row count."""
    import csv

    agreement = options.get("agreement")
    columns = [*SERVICENOW_COLUMNS, *(["agreement"] if agreement else [])]
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in servicenow_rows(n_rows, **options):
            writer.writerow(row)
            count += 1
    return count
