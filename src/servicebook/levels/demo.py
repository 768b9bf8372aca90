"""Demo: a year (2026, up to today) of tickets and outages for every demo agreement.

Generated deterministically in business time (so most tickets meet their targets), written
through the ticket import service as a helpdesk export would be, then measured by the same
services as real data. Two breaches are planted, one on each kind of agreement:

* Meridian Retail (contract): a 10-hour unplanned outage of its service desk in March 2026
  brings availability to about 98.7% (< 99.0%): a 10% service credit of the monthly fee;
* Marketing (internal SLA): two of its three P1 incidents of April 2026 take longer than the
  4 business hours allowed: a draft improvement item.

Planned maintenance (excluded from availability) and a short hosting outage that stays within
target complete the picture.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from django.utils import timezone

from servicebook.core.periods import period_bounds
from servicebook.levels import services
from servicebook.levels.clock import due_at, from_epoch, to_epoch
from servicebook.levels.selfservice import demo as selfservice_demo

SOURCE = "northwind-helpdesk"
YEAR = 2026
#: tickets a month per priority
PER_MONTH = {1: 2, 2: 4, 3: 8, 4: 6}
PAUSE_STATES = ("Awaiting User Info", "Awaiting Vendor")
BREACH = ("marketing", 4, 1)  # (agreement key, month, priority): resolution breached


def _iso(seconds: int) -> str:
    return from_epoch(int(seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def load(ctx) -> None:
    now = int(timezone.now().timestamp())
    year_end = to_epoch(datetime(YEAR + 1, 1, 1, tzinfo=UTC))
    last = min(now - 3600, year_end - 1)
    desk = ctx.offerings["desk"].service
    hosting = ctx.offerings["vm"].service
    retail = ctx.agreements["retail"]
    outages = [
        (
            desk,
            retail,
            datetime(YEAR, 3, 17, 6, 0),
            datetime(YEAR, 3, 17, 16, 0),
            False,
            "Store service desk telephony down",
        ),
        (
            desk,
            retail,
            datetime(YEAR, 5, 9, 22, 0),
            datetime(YEAR, 5, 10, 2, 0),
            True,
            "Telephony platform upgrade (planned)",
        ),
        (
            hosting,
            None,
            datetime(YEAR, 6, 11, 3, 0),
            datetime(YEAR, 6, 11, 5, 0),
            False,
            "Storage controller failover",
        ),
    ]
    for service, agreement, start, end, planned, description in outages:
        start, end = start.replace(tzinfo=UTC), end.replace(tzinfo=UTC)
        if int(end.timestamp()) > last:
            continue
        services.record_outage(
            actor=None,
            service=service,
            agreement=agreement,
            start=start,
            end=end,
            planned=planned,
            description=description,
        )
    rows = []
    for index, (key, agreement) in enumerate(sorted(ctx.agreements.items())):
        rows.extend(_tickets(key, index, agreement, last))
    services.import_tickets(actor=None, rows=rows, fmt="csv", source=SOURCE, filename="demo")
    selfservice_demo.load(ctx)  # issue 15: tickets raised in the portal


def _tickets(key: str, index: int, agreement, last: int) -> list[dict]:
    targets = {
        (t.metric, t.priority): t
        for t in agreement.targets.select_related("calendar")
        if t.priority is not None
    }
    resolution_targets = [t for (metric, _), t in targets.items() if metric == "resolution_time"]
    if not resolution_targets:
        return []
    calendar = resolution_targets[0].calendar.to_engine()
    rng = np.random.default_rng(1000 + index)
    rows = []
    months = range(1, 13)
    for month in months:
        start, end = (to_epoch(t) for t in period_bounds(f"{YEAR}-{month:02d}"))
        for priority, count in PER_MONTH.items():
            if ("response_time", priority) not in targets:
                continue
            if ("resolution_time", priority) not in targets:
                continue
            response = targets[("response_time", priority)].threshold_minutes * 60
            resolution = targets[("resolution_time", priority)].threshold_minutes * 60
            count += (key, month, priority) == BREACH
            opened = np.sort(rng.integers(start, end, count))
            r = (rng.uniform(0.1, 0.8, count) * response).astype(np.int64)
            s = (rng.uniform(0.3, 0.85, count) * resolution).astype(np.int64)
            if (key, month, priority) == BREACH:
                s[:2] = (resolution * np.array([1.6, 1.3])).astype(np.int64)
            s = np.maximum(s, r + 60)
            paused = rng.random(count) < 0.3
            p_start = r + ((s - r) * rng.uniform(0.2, 0.8, count)).astype(np.int64)
            p_len = rng.integers(1800, 6 * 3600, count)
            p_len = np.where(paused, p_len, 0)
            responded = due_at(calendar, opened, r)
            resolved = due_at(calendar, opened, s + p_len)
            pause_from = due_at(calendar, opened, p_start)
            pause_to = due_at(calendar, opened, p_start + p_len)
            impact = rng.integers(1, 4, count)
            for i in range(count):
                # Only tickets whose whole life ends before ``last``: an open ticket's clock keeps
                # running, so the demo's breaches would depend on the hour it is loaded and read.
                if resolved[i] > last or (paused[i] and pause_to[i] > last):
                    continue
                number = f"INC{index + 1}{month:02d}{priority}{i:03d}"
                row = {
                    "number": number,
                    "agreement": agreement.reference,
                    "kind": "incident" if rng.random() < 0.7 else "request",
                    "short_description": f"{agreement.customer.name} issue {number[-6:]}",
                    "priority": str(priority),
                    "impact": str(int(impact[i])) if priority == 1 else "",
                    "urgency": "1" if priority == 1 and impact[i] == 1 else "",
                    "opened_at": _iso(opened[i]),
                    "category": ("Hardware", "Software", "Network", "Access")[i % 4],
                    "assignment_group": "Service Desk",
                    "made_sla": "true",
                }
                if row["impact"] != "1":
                    row["impact"] = ""
                row["responded_at"] = _iso(responded[i])
                if paused[i]:
                    state = PAUSE_STATES[i % 2]
                    row["pauses"] = f"{state}@{_iso(pause_from[i])}/{_iso(pause_to[i])}"
                row["resolved_at"] = _iso(resolved[i])
                if s[i] > resolution:
                    row["made_sla"] = "false"
                rows.append(row)
    return rows
