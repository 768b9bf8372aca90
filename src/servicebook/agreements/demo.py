"""Demo: calendars, service level targets, the retailer's credit schedule, change clauses, and
a renewal reminder (decision 0023).

Agreements are activated by the core demo loader; targets and clauses are part of what was
agreed, so they are recorded here through the models' own checks (the agreements are already
active, as if they had been negotiated with these terms).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from django.core.files.base import ContentFile

from servicebook.agreements.lifecycle.services import run_renewals
from servicebook.agreements.models import (
    Calendar,
    ChangeClause,
    CreditTier,
    Outcome,
    ServiceLevelTarget,
)
from servicebook.agreements.orders import demo as orders_demo
from servicebook.core import attachments
from servicebook.core.services import save_validated

OFFICE = {str(day): [["08:00", "12:00"], ["13:00", "17:00"]] for day in range(5)}
ALWAYS = {str(day): [["00:00", "24:00"]] for day in range(7)}

# (priority, response minutes, resolution minutes, attainment %)
INCIDENT_TARGETS = [
    (1, 30, 240, "95"),
    (2, 60, 480, "90"),
    (3, 240, 1440, "90"),
    (4, 480, 2880, "85"),
]


def load(ctx) -> None:
    calendars = {
        "paris": _calendar("Paris office hours", "Europe/Paris", OFFICE, "FR"),
        "berlin": _calendar("Berlin office hours", "Europe/Berlin", OFFICE, "DE", "BE"),
        "singapore": _calendar("Singapore office hours", "Asia/Singapore", OFFICE, "SG"),
        "always": _calendar("24×7", "UTC", ALWAYS, ""),
    }
    zone = {"retail": "berlin", "pacific": "singapore"}
    hosting = ctx.offerings["vm"].service
    desk = ctx.offerings["desk"].service
    for key, agreement in ctx.agreements.items():
        calendar = calendars[zone.get(key, "paris")]
        for priority, response, resolution, attain in INCIDENT_TARGETS:
            for metric, minutes in (("response_time", response), ("resolution_time", resolution)):
                _target(agreement, metric, calendar, attain, priority=priority, minutes=minutes)
        service = desk if key in ("marketing", "finance", "hr", "retail") else hosting
        _target(agreement, "availability", calendars["always"], "99.5", service=service)
    retail = ctx.agreements["retail"]
    retail.refresh_from_db()
    retail.credit_cap_percent = D("20")
    save_validated(retail)
    availability = retail.targets.get(metric="availability")
    for below, credit in (("99.5", "5"), ("99.0", "10"), ("98.0", "15")):
        save_validated(
            CreditTier(target=availability, below_percent=D(below), credit_percent=D(credit))
        )
    p1 = retail.targets.get(metric="resolution_time", priority=1)
    save_validated(CreditTier(target=p1, below_percent=D("95"), credit_percent=D("5")))
    airline = ctx.agreements["airline"]
    airline.refresh_from_db()
    airline.credit_cap_percent = D("15")
    save_validated(airline)
    availability = airline.targets.get(metric="availability")
    for below, credit in (("99.5", "5"), ("99.0", "10")):
        save_validated(
            CreditTier(target=availability, below_percent=D(below), credit_percent=D(credit))
        )
    outcomes = {
        "airline": [
            ("No booking-platform outage during the summer peak", "minutes of outage, Jun-Aug"),
            ("Check-in app releases every two weeks", "releases per month"),
        ],
        "retail": [
            ("Every store's tills and laptops work when the store opens", "store incidents")
        ],
        "pacific": [("Nightly analytics finished by 06:00 Singapore time", "late runs per month")],
    }
    for key, items in outcomes.items():
        for description, measure in items:
            save_validated(
                Outcome(agreement=ctx.agreements[key], description=description, measure=measure)
            )
    for key in ("airline", "retail", "pacific"):
        agreement = ctx.agreements[key]
        save_validated(
            ChangeClause(
                agreement=agreement,
                scope="major",
                requires_approval=True,
                notice_days=15,
                repricing="quote",
                text="Major changes need the customer's written approval; any price impact is "
                "quoted and must be accepted before the change is scheduled.",
            )
        )
        save_validated(
            ChangeClause(
                agreement=agreement,
                scope="any",
                requires_approval=False,
                notice_days=5,
                repricing="none",
                text="Other changes are notified five working days ahead.",
            )
        )
    orders_demo.load(ctx)  # issue 15: customer orders
    _signed_copies(ctx)
    _renewal_reminder(ctx)


def _renewal_reminder(ctx) -> None:
    """Decision 0023: the analytics contract's term ends with 2026; it renews by itself for a
    year unless notice is given 60 days ahead (by 1 November 2026). The daily job, run as of
    15 October 2026, sent the reminder (once: a second run sends nothing)."""
    pacific = ctx.agreements["pacific"]
    pacific.refresh_from_db()
    pacific.end_date = dt.date(2026, 12, 31)
    pacific.auto_renew = True
    pacific.renewal_months = 12
    pacific.termination_notice_days = 60
    save_validated(pacific)
    run_renewals(on=dt.date(2026, 10, 15))


def _signed_copies(ctx) -> None:
    """The signed copy of a contract and of an SLA, attached by the service manager (issue 18)."""
    for key in ("airline", "marketing"):
        agreement = ctx.agreements[key]
        text = f"{agreement.reference} {agreement.title}: signed copy (demo file)\n"
        attachments.attach(
            actor=ctx.users["manager"],
            record=agreement,
            upload=ContentFile(text.encode(), name=f"{agreement.reference}-signed.txt"),
            description="Signed copy",
        )


def _calendar(name, tz, windows, country, subdivision=""):
    calendar = Calendar(
        name=name,
        time_zone=tz,
        windows=windows,
        holiday_country=country,
        holiday_subdivision=subdivision,
    )
    save_validated(calendar)
    return calendar


def _target(agreement, metric, calendar, attain, *, priority=None, minutes=None, service=None):
    target = ServiceLevelTarget(
        agreement=agreement,
        metric=metric,
        calendar=calendar,
        attainment_percent=D(attain),
        priority=priority,
        threshold_minutes=minutes,
        service=service,
    )
    save_validated(target)
    return target
