"""Measures and readings (entered, imported, computed) of objectives and outcomes (R9)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum

from servicebook.agreements.models import Outcome
from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.finance.costing.models import ServiceCost
from servicebook.levels.models import Attainment
from servicebook.strategy import periods, services
from servicebook.strategy.models import Measure, Reading

MEASURE = {"indicator": "Research papers filed", "unit": "papers", "target": D("4")}


def test_periods_of_each_frequency():
    assert periods.months("quarterly", "2026-Q2") == ["2026-04", "2026-05", "2026-06"]
    assert len(periods.months("yearly", "2026")) == 12
    assert periods.period_of("quarterly", "2026-11") == "2026-Q4"
    with pytest.raises(periods.MeasurePeriodError, match="YYYY-Qn"):
        periods.check("quarterly", "2026-05")
    assert periods.on_target("lower", D("3"), D("5")) and not periods.on_target(
        "higher", D("3"), D("5")
    )


def test_a_measure_belongs_to_one_objective_or_one_outcome(users, research):
    outcome = Outcome.objects.first()
    with pytest.raises(ValidationError, match="one objective or one desired outcome"):
        services.create_measure(actor=users["senior"], **MEASURE)
    with pytest.raises(ValidationError, match="one objective or one desired outcome"):
        services.create_measure(
            actor=users["senior"], objective=research, outcome=outcome, **MEASURE
        )
    measure = services.create_measure(actor=users["senior"], objective=research, **MEASURE)
    assert measure.subject == research


def test_an_external_outcome_is_never_measured_by_cost(users):
    outcome = Outcome.objects.get(description__startswith="No booking-platform outage")
    count = Measure.objects.count()
    with pytest.raises(ValidationError, match="never measured by the provider's cost"):
        services.create_measure(actor=users["manager"], outcome=outcome, source="cost", **MEASURE)
    assert Measure.objects.count() == count


@pytest.mark.parametrize("role", ["internal", "external", "finance", "change"])
def test_only_editors_record_measures_and_readings(users, research, hosted, role):
    with pytest.raises(PermissionDenied):
        services.create_measure(actor=users[role], objective=research, **MEASURE)
    with pytest.raises(PermissionDenied):
        services.record_reading(actor=users[role], measure=hosted, period="2026-11", value=D(1))


def test_entered_reading_is_checked_and_a_correction_replaces_it(users, hosted):
    with pytest.raises(ValidationError, match="not a monthly period"):
        services.record_reading(
            actor=users["senior"], measure=hosted, period="2026-Q4", value=D(80)
        )
    first = services.record_reading(
        actor=users["senior"], measure=hosted, period="2026-11", value=D(80)
    )
    again = services.record_reading(
        actor=users["manager"], measure=hosted, period="2026-11", value=D(81)
    )
    assert first.pk == again.pk and again.value == D(81) and again.recorded_by == users["manager"]
    assert again.source == "entered" and not again.on_target  # target 95%, higher is better


def test_a_computed_measure_takes_no_entered_reading(users):
    computed = Measure.objects.get(source="attainment")
    with pytest.raises(DomainError) as error:
        services.record_reading(
            actor=users["senior"], measure=computed, period="2026-11", value=D(1)
        )
    assert error.value.code == "computed_measure"


def test_import_rejects_rows_with_row_field_and_reason(users, hosted, outage):
    computed = Measure.objects.get(source="attainment")
    text = "\n".join(
        [
            "measure,period,value,note",
            f"{hosted.pk},2026-11,83.5,register",  # row 2: imported
            "no such measure,2026-11,1,",  # row 3
            f"{hosted.pk},2026-Q4,1,",  # row 4: a monthly measure
            f"{outage.pk},2026-11,twelve,",  # row 5
            f"{computed.pk},2026-11,99,",  # row 6: computed
            "Minutes of booking-platform outage,2026-11,4,by indicator",  # row 7: imported
        ]
    )
    result = services.import_readings(actor=users["manager"], text=text)
    assert result.read == 6 and result.imported == 2
    assert result.read == result.imported + len(result.rejected)
    assert [(r["row"], r["field"]) for r in result.rejected] == [
        (3, "measure"),
        (4, "period"),
        (5, "value"),
        (6, "measure"),
    ]
    assert "not a monthly period" in result.rejected[1]["reason"]
    reading = Reading.objects.get(measure=hosted, period="2026-11")
    assert reading.value == D("83.5") and reading.source == "imported"
    assert Reading.objects.get(measure=outage, period="2026-11").value == D(4)
    assert not Reading.objects.filter(measure=computed, period="2026-11", value=D(99)).exists()


def test_import_without_the_columns_is_refused(users):
    with pytest.raises(DomainError, match="missing column"):
        services.import_readings(actor=users["manager"], text="measure,value\n1,2\n")


def test_attainment_reading_is_computed_from_the_service_levels(users, research):
    measure = Measure.objects.get(objective=research, source="attainment")
    hpc = research.services.get()
    rnd = research.customers.get()
    month = "2026-10"
    Reading.objects.filter(measure=measure).delete()
    result = services.compute_readings(actor=users["senior"], month=month)
    # the service's own targets and the Lab's agreement-wide ones, on agreements holding it
    own = Attainment.objects.filter(period=month, target__service=hpc)
    wide = Attainment.objects.filter(
        period=month,
        target__service__isnull=True,
        agreement__customer=rnd,
        agreement__lines__offering__service=hpc,
    )
    rows = {a.pk: a.measured_percent for a in [*own, *wide] if a.measured_percent is not None}
    assert rows, "the demo measures the Lab's service levels"
    expected = sum(rows.values()) / len(rows)
    reading = Reading.objects.get(measure=measure, period=month)
    assert reading.source == "computed" and reading.value == D(expected).quantize(D("0.01"))
    assert any(line.startswith(measure.indicator) for line in result["written"])


def test_cost_reading_sums_the_quarter(users):
    measure = Measure.objects.get(source="cost")
    services_ = measure.objective.services.all()
    month = ServiceCost.objects.filter(service__in=services_).latest("period").period
    quarter = periods.period_of("quarterly", month)
    services.compute_readings(actor=None, month=month, measures=[measure])
    expected = ServiceCost.objects.filter(
        service__in=services_, period__in=periods.months("quarterly", quarter)
    ).aggregate(v=Sum("total"))["v"]
    assert Reading.objects.get(measure=measure, period=quarter).value == expected


def test_nothing_to_compute_from_writes_nothing(users):
    measure = Measure.objects.get(source="satisfaction")
    result = services.compute_readings(actor=None, month="2031-01", measures=[measure])
    assert result["written"] == [] and result["without_data"]
    assert not Reading.objects.filter(measure=measure, period="2031-01").exists()


def test_demo_objective_behind_the_secure_data_centre_has_readings(research, hosted):
    from servicebook.demand.models import DemandRequest

    secure = DemandRequest.objects.get(title__startswith="Secure data centre")
    link = secure.objective_links.get()
    assert link.objective == research and link.how
    assert hosted.objective == research and hosted.readings.count() >= 6
