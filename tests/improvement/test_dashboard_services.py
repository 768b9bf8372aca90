"""The dashboard's targets met per service, grouped in the database, count what reading every
agreement line counted: a service's own target for it, an agreement-wide target once for each
service the agreement's lines offer."""

from __future__ import annotations

from collections import defaultdict

import pytest

from servicebook.agreements.models import AgreementLine
from servicebook.improvement import selectors
from servicebook.levels.models import Attainment
from servicebook.policy import POLICIES

pytestmark = pytest.mark.django_db


def _by_reading_every_line(attainments) -> dict[int, tuple[int, int]]:
    services_of = defaultdict(set)
    for agreement_id, service_id in AgreementLine.objects.values_list(
        "agreement_id", "offering__service_id"
    ):
        services_of[agreement_id].add(service_id)
    counted = defaultdict(lambda: [0, 0])
    for agreement_id, service_id, met in attainments.values_list(
        "agreement_id", "target__service_id", "met"
    ):
        for sid in [service_id] if service_id else services_of[agreement_id]:
            counted[sid][0] += 1 if met else 0
            counted[sid][1] += 1
    return {sid: (met, measured) for sid, (met, measured) in counted.items()}


def test_every_period_and_kind_counts_the_same():
    periods = sorted(set(Attainment.objects.values_list("period", flat=True)))
    assert periods, "the demo measures service levels"
    seen_agreement_wide = seen_of_service = False
    for period in periods:
        for kind in [None, *POLICIES]:
            attainments = Attainment.objects.filter(period=period, met__isnull=False)
            if kind:
                attainments = attainments.filter(agreement__customer__kind=kind)
            seen_agreement_wide |= attainments.filter(target__service__isnull=True).exists()
            seen_of_service |= attainments.filter(target__service__isnull=False).exists()
            expected = _by_reading_every_line(attainments)
            assert selectors._attainment_by_service(attainments) == expected, (period, kind)
    assert seen_agreement_wide and seen_of_service, "both kinds of target are compared"
