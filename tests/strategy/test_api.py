"""The strategy API: objectives with their figures, measures and readings, scoped (R9, R7)."""

from __future__ import annotations

from django.urls import reverse

from servicebook.strategy.models import Reading


def test_staff_see_the_cost_of_the_services_serving_an_objective(users, client_for, research):
    body = client_for(users["manager"]).get(reverse("strategy-detail", args=[research.pk])).json()
    assert body["title"] == research.title
    assert {"cost", "currency", "attainment_percent"} <= set(body["services"][0])
    assert any(d["how"] for d in body["demands"])
    measure = next(m for m in body["measures"] if m["source"] == "entered")
    assert [r["period"] for r in measure["readings"]][:2] == ["2026-05", "2026-06"]


def test_customer_users_see_their_own_objectives_and_no_cost(users, client_for, research, growth):
    internal = client_for(users["internal"])
    listed = internal.get(reverse("strategy-list")).json()
    titles = {o["title"] for o in listed["results"]}
    assert growth.title in titles and research.title not in titles
    assert internal.get(reverse("strategy-detail", args=[research.pk])).status_code == 404
    services = internal.get(reverse("strategy-detail", args=[growth.pk])).json()["services"]
    assert services and all("cost" not in row for row in services)
    external = client_for(users["external"])
    assert external.get(reverse("strategy-list")).json()["count"] == 0


def test_measures_are_scoped_to_the_customers_own(users, client_for, outage, hosted):
    external = client_for(users["external"]).get(reverse("measure-list")).json()["results"]
    assert [m["id"] for m in external] == [outage.pk]
    assert external[0]["readings"][1]["value"] == "12.0000"
    internal = client_for(users["internal"]).get(reverse("measure-list")).json()["results"]
    assert internal and hosted.pk not in {m["id"] for m in internal}
    assert outage.pk not in {m["id"] for m in internal}
    readings = client_for(users["external"]).get(reverse("reading-list")).json()["results"]
    assert readings and {r["measure"] for r in readings} == {outage.pk}


def test_readings_entered_and_imported_through_the_api(users, client_for, hosted):
    url = reverse("reading-list")
    body = {"measure": hosted.pk, "period": "2026-11", "value": "86"}
    assert client_for(users["internal"]).post(url, body, format="json").status_code == 403
    made = client_for(users["senior"]).post(url, body, format="json")
    assert made.status_code == 201 and made.json()["on_target"] is False
    text = f"measure,period,value\n{hosted.pk},2026-12,90\n{hosted.pk},December,91\n"
    result = client_for(users["manager"]).post(
        reverse("reading-import-csv"), {"csv": text}, format="json"
    )
    assert result.json() == {
        "read": 2,
        "imported": 1,
        "rejected": [
            {"row": 3, "field": "period", "reason": result.json()["rejected"][0]["reason"]}
        ],
    }
    assert "YYYY-MM" in result.json()["rejected"][0]["reason"]
    assert Reading.objects.get(measure=hosted, period="2026-12").source == "imported"


def test_a_measure_added_and_computed_through_the_api(users, client_for, growth):
    client = client_for(users["manager"])
    made = client.post(
        reverse("measure-list"),
        {
            "objective": growth.pk,
            "indicator": "Service levels met for the revenue units",
            "unit": "%",
            "target": "98",
            "source": "attainment",
        },
        format="json",
    )
    assert made.status_code == 201, made.json()
    answer = client.post(reverse("measure-compute"), {"month": "2026-10"}, format="json").json()
    assert any(
        line.startswith("Service levels met for the revenue units") for line in answer["written"]
    )
    assert Reading.objects.filter(measure=made.json()["id"], period="2026-10").exists()
    refused = client.post(reverse("measure-compute"), {"month": "October"}, format="json")
    assert refused.status_code == 400


def test_the_external_review_pack_shows_its_outcomes_with_readings(users, client_for, customers):
    url = reverse("reviewpack-detail", args=[customers["skybridge"].pk])
    pack = client_for(users["external"]).get(url, {"period": "2026-08"}).json()
    outcome = next(o for o in pack["outcomes"] if o["outcome"].startswith("No booking-platform"))
    readings = outcome["measures"][0]["readings"]
    assert [(r["period"], r["on_target"]) for r in readings] == [
        ("2026-06", True),
        ("2026-07", False),
        ("2026-08", True),
    ]
    internal = client_for(users["internal"]).get(
        reverse("reviewpack-detail", args=[customers["marketing"].pk]), {"period": "2026-08"}
    )
    assert internal.json()["outcomes"] == []
