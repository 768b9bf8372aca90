import pytest
from django.urls import reverse


@pytest.mark.parametrize("body", ["[]", '"x"', "0"])
def test_a_method_the_route_does_not_answer_is_405_whatever_the_body(users, client_for, body):
    from servicebook.agreements.models import ChangeClause

    clause = ChangeClause.objects.order_by("pk").first()
    url = reverse("changeclause-detail", args=[clause.pk])
    response = client_for(users["manager"]).generic(
        "PUT", url, body, content_type="application/json"
    )
    assert response.status_code == 405


@pytest.mark.parametrize("body", ["[]", '"x"', "0", "true", "null"])
def test_a_body_that_is_not_an_object_is_a_400_that_says_so(users, client_for, body):
    url = reverse("agreement-list")
    response = client_for(users["manager"]).generic(
        "POST", url, body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "must be a JSON object" in response.json()["detail"]


def test_a_customer_user_is_refused_before_the_body_is_read(users, client_for):
    url = reverse("agreement-list")
    response = client_for(users["external"]).generic(
        "POST", url, "[]", content_type="application/json"
    )
    assert response.status_code == 403
