"""Every write to measures and readings: validated, permission-checked.

Readings come three ways: entered by a person (:func:`record_reading`), imported from CSV
(:func:`import_readings`: each row imported or rejected with its row, field and reason), or
computed from Servicebook's own figures (:func:`compute_readings`, run for a month by
``servicebook strategy compute``): the service level attainment and the cost of the services
serving an objective, and the satisfaction of the customers concerned.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Avg, Q, Sum

from servicebook.core.errors import DomainError
from servicebook.core.models import User
from servicebook.core.money import round_half_up
from servicebook.core.roles import Role
from servicebook.core.services import require_role, save_validated
from servicebook.strategy import periods
from servicebook.strategy.models import (
    Measure,
    MeasureSource,
    Reading,
    ReadingSource,
)

#: who records measures and readings (senior management owns the strategy)
MEASURE_EDITORS = (Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER, Role.SENIOR_MANAGER)
READING_COLUMNS = ("measure", "period", "value")


@transaction.atomic
def create_measure(*, actor: User | None, objective=None, outcome=None, **fields) -> Measure:
    """A measure of an organization objective or of an external customer's desired outcome."""
    require_role(actor, *MEASURE_EDITORS, action="Adding a measure")
    measure = Measure(objective=objective, outcome=outcome, **fields)
    save_validated(measure)
    return measure


def _write(measure: Measure, period: str, value: Decimal, *, source, actor, note="") -> Reading:
    reading = Reading.objects.filter(measure=measure, period=period).first() or Reading(
        measure=measure, period=period
    )
    reading.value, reading.source, reading.note = value, source, note[:300]
    reading.recorded_by = actor
    save_validated(reading)
    return reading


def _refuse_computed(measure: Measure, field_name: str = "measure") -> None:
    if measure.computed:
        raise DomainError(
            f"“{measure.indicator}” is computed from {measure.get_source_display().split(': ')[-1]}"
            ": its readings are not entered",
            code="computed_measure",
            field=field_name,
        )


@transaction.atomic
def record_reading(
    *, actor: User | None, measure: Measure, period: str, value: Decimal, note: str = ""
) -> Reading:
    """A reading entered by a person (a correction replaces the period's value)."""
    require_role(actor, *MEASURE_EDITORS, action="Recording a reading")
    _refuse_computed(measure)
    return _write(
        measure, period.strip(), value, source=ReadingSource.ENTERED, actor=actor, note=note
    )


# --- CSV import ---------------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What an import did: ``read == imported + len(rejected)``."""

    read: int = 0
    imported: int = 0
    rejected: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"read": self.read, "imported": self.imported, "rejected": self.rejected}


def _row_values(row: dict, measures: dict) -> tuple[Measure, str, Decimal]:
    """The measure, period and value of one row, or ``ValueError((field, reason))``."""
    key = (row.get("measure") or "").strip()
    measure = measures.get(key) or measures.get(key.casefold())
    if measure is None:
        raise ValueError(("measure", f"no measure {key!r} (its id or its indicator)"))
    if measure.computed:
        raise ValueError(("measure", f"“{measure.indicator}” is computed, not imported"))
    period = (row.get("period") or "").strip()
    try:
        periods.check(measure.frequency, period)
    except periods.MeasurePeriodError as error:
        raise ValueError(("period", str(error))) from None
    text = (row.get("value") or "").strip().replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(("value", f"{text!r} is not a number")) from None
    if not value.is_finite():
        raise ValueError(("value", f"{text!r} is not a number"))
    return measure, period, value


def import_readings(*, actor: User | None, text: str) -> ImportResult:
    """Readings from CSV (columns ``measure`` (id or indicator), ``period``, ``value``, optional
    ``note``): every row is imported or rejected with its row number, field and reason."""
    require_role(actor, *MEASURE_EDITORS, action="Importing readings")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = {c.strip() for c in reader.fieldnames or ()}
    missing = [c for c in READING_COLUMNS if c not in columns]
    if missing:
        raise DomainError(f"missing column(s): {', '.join(missing)}", field="file")
    measures: dict = {}
    for measure in Measure.objects.select_related("objective", "outcome"):
        measures[str(measure.pk)] = measure
        measures.setdefault(measure.indicator.casefold(), measure)
    result = ImportResult()
    for number, raw in enumerate(reader, start=2):  # row 1 is the header
        row = {(k or "").strip(): v for k, v in raw.items()}
        result.read += 1
        try:
            measure, period, value = _row_values(row, measures)
            with transaction.atomic():
                _write(
                    measure,
                    period,
                    value,
                    source=ReadingSource.IMPORTED,
                    actor=actor,
                    note=(row.get("note") or "").strip(),
                )
        except ValueError as error:
            field_name, reason = error.args[0]
            result.rejected.append({"row": number, "field": field_name, "reason": reason})
            continue
        except ValidationError as error:
            for field_name, messages in error.message_dict.items():
                result.rejected.append(
                    {"row": number, "field": field_name, "reason": "; ".join(messages)}
                )
                break
            continue
        result.imported += 1
    return result


# --- computed readings --------------------------------------------------------------------------


def _services_of(measure: Measure) -> list[int]:
    if measure.objective_id:
        return list(measure.objective.services.values_list("pk", flat=True))
    agreement = measure.outcome.agreement
    return list(agreement.targets.values_list("service_id", flat=True).distinct())


def computed_value(measure: Measure, period: str) -> Decimal | None:
    """What Servicebook's own figures say for ``period`` (None: nothing to compute from)."""
    from servicebook.finance.costing.models import ServiceCost
    from servicebook.levels.models import Attainment
    from servicebook.parties.models import Feedback

    months = periods.months(measure.frequency, period)
    services = _services_of(measure)
    if measure.source == MeasureSource.ATTAINMENT:
        rows = Attainment.objects.filter(period__in=months, measured_percent__isnull=False)
        if measure.outcome_id:
            rows = rows.filter(agreement=measure.outcome.agreement_id)
        else:  # the services' own targets, and the agreement-wide ones of the customers concerned
            rows = rows.filter(
                Q(target__service__in=services)
                | Q(
                    target__service__isnull=True,
                    agreement__customer__in=measure.objective.customers.all(),
                    agreement__lines__offering__service__in=services,
                )
            ).distinct()
        value = rows.aggregate(value=Avg("measured_percent"))["value"]
    elif measure.source == MeasureSource.COST:
        value = ServiceCost.objects.filter(period__in=months, service__in=services).aggregate(
            value=Sum("total")
        )["value"]
    elif measure.source == MeasureSource.SATISFACTION:
        answers = Feedback.objects.filter(
            period__in=months, topic=Feedback.Topic.SATISFACTION, service__in=services
        )
        if measure.outcome_id:
            answers = answers.filter(customer=measure.outcome.agreement.customer_id)
        else:
            answers = answers.filter(customer__in=measure.objective.customers.all())
        value = answers.aggregate(value=Avg("score"))["value"]
    else:
        return None
    return None if value is None else round_half_up(Decimal(value), 2)


@transaction.atomic
def compute_readings(
    *, actor: User | None, month: str, measures: Iterable[Measure] | None = None
) -> dict:
    """The readings of every computed measure for the period ``month`` (YYYY-MM) falls in:
    written (or rewritten) where there is something to compute from, listed as without data
    otherwise."""
    require_role(actor, *MEASURE_EDITORS, action="Computing readings")
    chosen = measures if measures is not None else Measure.objects.all()
    written, without = [], []
    for measure in chosen:
        if not measure.computed:
            continue
        period = periods.period_of(measure.frequency, month)
        value = computed_value(measure, period)
        if value is None:
            without.append(f"{measure.indicator} {period}")
            continue
        _write(measure, period, value, source=ReadingSource.COMPUTED, actor=actor)
        written.append(f"{measure.indicator} {period}: {value} {measure.unit}")
    return {"month": month, "written": written, "without_data": without}
