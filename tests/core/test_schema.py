"""The OpenAPI schema describes every field, whoever asks for it, and never requires a field some
readers do not receive (cost and margin: R7)."""

from django.urls import reverse

ACCEPT = "application/vnd.oai.openapi+json"


def _line_schema(client):
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT=ACCEPT).json()
    return schema["components"]["schemas"]["AgreementLine"]


def test_cost_and_margin_fields_are_described_but_not_required(client, users, client_for):
    for reader in (client, client_for(users["external"]), client_for(users["admin"])):
        line = _line_schema(reader)
        assert {"monthly_cost", "monthly_margin"} <= set(line["properties"])
        assert not {"monthly_cost", "monthly_margin"} & set(line.get("required", []))


def test_the_schema_is_the_same_for_every_reader(client, users, client_for):
    anonymous = client.get(reverse("api-schema"), HTTP_ACCEPT=ACCEPT).json()
    admin = client_for(users["admin"]).get(reverse("api-schema"), HTTP_ACCEPT=ACCEPT).json()
    assert anonymous["components"] == admin["components"]


def test_no_two_api_components_share_a_name(capsys):
    """Two serializers with one name make one schema component: one of the endpoints is then
    described with the other's fields (drf-spectacular only warns). Name them apart."""
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()  # each warning is printed once a process: forget earlier runs
    SchemaGenerator().get_schema(request=None, public=True)
    printed = capsys.readouterr()
    clashes = [
        line
        for line in (printed.out + printed.err).splitlines()
        if "components with identical names" in line
    ]
    assert not clashes, "\n".join(clashes)
