"""Requests found by attacking the served app (issue 12): hostile query parameters and form values
answer a 4xx or an ordinary page, never a 500, whoever sends them."""

import pytest
from django.urls import reverse

from servicebook.finance.usage.models import CloudMapping

HUGE = "99999999999999999999"

GETS = [
    ("admin", f"/api/focus-export/?period=2026-10&format=csv&customer={HUGE}"),
    ("external", f"/api/focus-export/?period=2026-10&format=parquet&customer={HUGE}"),
    ("manager", "/api/improvement-dashboard/?period=9999-12"),
    ("manager", "/api/relationship-health/?period=9999-12"),
    ("manager", "/improvement/dashboard/?period=9999-12"),
    ("admin", "/improvement/dashboard/?period=9999-12"),
    ("internal", f"/finance/documents/?customer={HUGE}"),
    ("manager", f"/finance/documents/?customer={HUGE}"),
    ("external", f"/improvement/?customer={HUGE}"),
    ("admin", f"/improvement/?customer={HUGE}"),
    ("manager", "/changes/schedule/?customer=abc"),
    ("admin", "/changes/schedule/?customer=9999-12"),
    ("admin", f"/changes/schedule/?customer={HUGE}"),
]


@pytest.mark.parametrize(("role", "url"), GETS)
def test_hostile_query_parameters_never_answer_500(users, client_for, role, url):
    response = client_for(users[role]).get(url)
    assert response.status_code < 500, (url, response.status_code)


@pytest.mark.parametrize("role", ["admin", "finance"])
def test_closing_a_period_beyond_the_calendar_is_a_400(users, client_for, role):
    response = client_for(users[role]).post(
        reverse("period-close"), {"period": "9999-12", "dry_run": True}, format="json"
    )
    assert response.status_code == 400


@pytest.mark.parametrize("role", ["senior", "change", "manager"])
@pytest.mark.parametrize(
    "form",
    [
        {"key": "tag", "value": "", "customer": "6"},
        {"key": "tag", "tag_key": "business_unit", "value": "X", "customer": "99999"},
        {"action": "delete", "pk": "99999"},
        {"action": "delete", "pk": "abc"},
    ],
)
def test_cloud_mapping_form_refuses_the_role_before_reading_the_form(users, web_for, role, form):
    before = CloudMapping.objects.count()
    response = web_for(users[role]).post(reverse("finance:cloud-mappings"), form)
    assert response.status_code == 403
    assert CloudMapping.objects.count() == before


def test_cloud_mapping_delete_of_a_malformed_id_is_a_404(users, web_for):
    response = web_for(users["finance"]).post(
        reverse("finance:cloud-mappings"), {"action": "delete", "pk": "abc"}
    )
    assert response.status_code == 404
