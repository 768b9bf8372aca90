"""The provider's policy settings in the UI and the API, with a history of every change
(issue 18): who changed which setting, when, from what to what."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.parties import provider as provider_settings
from servicebook.parties import services
from servicebook.parties.models import Customer, Provider, ProviderSettingChange

URL = reverse("parties:provider-settings")


def form_data(provider, **changes):
    """The settings form as the page fills it in (rates typed as percentages)."""
    data = {
        "name": provider.name,
        "sector": provider.sector,
        "base_currency": provider.base_currency,
        "country": provider.country,
        "due_diligence_validity_months": provider.due_diligence_validity_months,
        "parity_tolerance": provider.parity_tolerance,
        "low_satisfaction_score": provider.low_satisfaction_score,
    }
    for name in provider_settings.RATES:
        data[name] = provider_settings.percent(getattr(provider, name))
    return {**data, **changes}


# --- the service ---------------------------------------------------------------------------------


def test_one_history_row_per_changed_field(users):
    provider = Provider.current()
    before = ProviderSettingChange.objects.count()
    provider, rows = provider_settings.update_provider_settings(
        actor=users["admin"],
        internal_margin=D("0.05"),
        sector="non_profit",
        name=provider.name,  # unchanged: no row
    )
    assert sorted(row.field for row in rows) == ["internal_margin", "sector"]
    assert ProviderSettingChange.objects.count() == before + 2
    margin = provider.setting_changes.get(field="internal_margin")
    assert (margin.old_value, margin.new_value) == ("0", "0.05")
    assert margin.changed_by == users["admin"]
    assert margin.changed_at <= timezone.now()
    provider.refresh_from_db()
    assert provider.internal_margin == D("0.05") and provider.sector == "non_profit"


def test_nothing_changed_writes_nothing(users):
    provider = Provider.current()
    before = ProviderSettingChange.objects.count()
    _, rows = provider_settings.update_provider_settings(
        actor=users["admin"], recovery_share=provider.recovery_share
    )
    assert rows == []
    assert ProviderSettingChange.objects.count() == before


@pytest.mark.parametrize("role", ["manager", "finance", "change", "senior", "internal", "external"])
def test_only_the_provider_admin_changes_settings(users, role):
    with pytest.raises(PermissionDenied, match="provider admin"):
        provider_settings.update_provider_settings(actor=users[role], sector="government")
    assert Provider.current().sector == "commercial"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"internal_margin": D("1.5")}, "internal_margin"),
        ({"recovery_share": D("-0.1")}, "recovery_share"),
        ({"due_diligence_validity_months": 0}, "due_diligence_validity_months"),
        ({"sector": "charity"}, "sector"),
        ({"country": "France"}, "country"),
        ({"name": "  "}, "name"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_invalid_settings_are_refused_naming_the_field(users, changes, field):
    before = ProviderSettingChange.objects.count()
    with pytest.raises(ValidationError) as error:
        provider_settings.update_provider_settings(actor=users["admin"], **changes)
    assert field in error.value.message_dict
    assert ProviderSettingChange.objects.count() == before


def test_the_base_currency_is_locked_once_customers_exist(users):
    with pytest.raises(DomainError, match="base currency stays EUR") as error:
        provider_settings.update_provider_settings(actor=users["admin"], base_currency="USD")
    assert error.value.field == "base_currency"
    assert "relabel" in error.value.message
    assert Provider.current().base_currency == "EUR"


def test_the_base_currency_may_change_before_any_customer(users):
    provider = Provider.objects.create(name="Empty IT", base_currency="EUR")
    assert provider_settings.base_currency_lock(provider) is None
    provider, rows = provider_settings.update_provider_settings(
        actor=users["admin"], provider=provider, base_currency="CHF"
    )
    assert [(r.field, r.old_value, r.new_value) for r in rows] == [("base_currency", "EUR", "CHF")]


def test_a_shorter_validity_says_whose_due_diligence_lapses(users):
    customer = services.create_customer(
        actor=users["manager"],
        provider=Provider.current(),
        kind="external",
        name="Lapsing SA",
        code="lapsing",
        legal_name="Lapsing SA",
        jurisdiction="FR",
        currency="EUR",
        payment_terms_days=30,
    )
    due_diligence = services.waive_due_diligence(
        actor=users["manager"], customer=customer, reason="no_time", explanation="urgent"
    )
    due_diligence.concluded_at = timezone.now() - dt.timedelta(days=200)
    due_diligence.save()
    _, rows = provider_settings.update_provider_settings(
        actor=users["admin"], due_diligence_validity_months=3
    )
    assert "no longer current for Lapsing SA" in rows[0].note
    assert "expired" in services.due_diligence_problem(Customer.objects.get(pk=customer.pk))
    _, rows = provider_settings.update_provider_settings(
        actor=users["admin"], due_diligence_validity_months=12
    )
    assert "current again for Lapsing SA" in rows[0].note


def test_values_are_shown_as_people_read_them():
    assert provider_settings.shown_value("internal_margin", "0.05") == "5 %"
    assert provider_settings.shown_value("discount_rate", "0.125") == "12.5 %"
    assert provider_settings.shown_value("recovery_share", "1") == "100 %"
    assert provider_settings.shown_value("sector", "non_profit") == "Non-profit"
    assert provider_settings.shown_value("due_diligence_validity_months", "24") == "24 months"
    assert provider_settings.shown_value("country", "") == "—"


def test_the_demo_history_holds_the_admins_change(users):
    change = Provider.current().setting_changes.get(field="country")
    assert (change.old_value, change.new_value, change.changed_by) == ("", "FR", users["admin"])


# --- the page -----------------------------------------------------------------------------------


def test_the_admin_changes_settings_in_percent_and_sees_the_history_newest_first(users, web_for):
    client = web_for(users["admin"])
    provider = Provider.current()
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["form"].initial["recovery_share"] == D("100")
    response = client.post(URL, form_data(provider, internal_margin="5", recovery_share="80"))
    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.internal_margin == D("0.05") and provider.recovery_share == D("0.8")
    response = client.post(URL, form_data(provider, discount_rate="6.5"), follow=True)
    page = response.content.decode()
    assert "Saved: discount rate for business cases." in page
    history = response.context["changes"]
    labels = [row["label"] for row in history]
    assert labels[0] == "Discount rate for business cases"
    assert {"Recovery share", "Internal margin allowed"} <= set(labels[1:])
    # and the demo's: its home country and legal identity (decision 0026), saved together
    assert {"Home country", "Legal name", "VAT number", "IBAN", "BIC"} <= set(labels)
    assert (history[0]["old"], history[0]["new"], history[0]["by"]) == ("8 %", "6.5 %", "Ada Admin")
    assert "6.5 %" in page and "Ada Admin" in page


def test_a_percentage_over_100_is_refused_on_the_form(users, web_for):
    client = web_for(users["admin"])
    response = client.post(URL, form_data(Provider.current(), internal_margin="150"))
    assert response.status_code == 200
    assert response.context["form"].errors["internal_margin"]
    assert Provider.current().internal_margin == D("0")


def test_the_locked_currency_is_shown_disabled_with_the_reason(users, web_for):
    response = web_for(users["admin"]).get(URL)
    field = response.context["form"].fields["base_currency"]
    assert field.disabled
    assert "Locked" in field.help_text and "customers" in field.help_text


@pytest.mark.parametrize("role", ["manager", "change", "senior"])
def test_other_staff_read_the_settings_without_margins_and_cannot_post(users, web_for, role):
    provider_settings.update_provider_settings(
        actor=users["admin"], internal_margin=D("0.02"), discount_rate=D("0.07")
    )
    client = web_for(users[role])
    response = client.get(URL)
    assert response.status_code == 200
    assert "form" not in response.context
    page = response.content.decode()
    assert "Recovery share" in page and "Discount rate for business cases" in page
    assert "margin" not in page.lower()
    assert response.context["changes"][0]["label"] == ("Discount rate for business cases")
    response = client.post(URL, form_data(Provider.current(), sector="government"))
    assert response.status_code == 403
    assert Provider.current().sector == "commercial"


def test_finance_reads_the_margins_but_cannot_change_them(users, web_for):
    client = web_for(users["finance"])
    page = client.get(URL).content.decode()
    assert "Internal margin allowed" in page
    assert client.post(URL, form_data(Provider.current())).status_code == 403


@pytest.mark.parametrize("role", ["internal", "external"])
def test_customer_users_are_refused(users, web_for, role):
    assert web_for(users[role]).get(URL).status_code == 403


def test_the_navigation_offers_the_page_to_staff_only(users, web_for, client):
    assert URL in web_for(users["manager"]).get(reverse("web:home")).content.decode()
    client.logout()
    assert URL not in web_for(users["internal"]).get(reverse("web:home")).content.decode()


# --- the API ------------------------------------------------------------------------------------


def provider_url(provider=None, suffix=""):
    provider = provider or Provider.current()
    return f"/api/providers/{provider.pk}/{suffix}"


def test_the_api_reads_and_the_admin_writes(users, client_for):
    admin = client_for(users["admin"])
    response = admin.get(provider_url())
    assert response.status_code == 200
    assert response.json()["internal_margin"] == "0.0000"
    response = admin.patch(provider_url(), {"minimum_margin": "0.15"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["minimum_margin"] == "0.1500"
    changes = admin.get(provider_url(suffix="changes/")).json()
    assert changes[0]["field"] == "minimum_margin"
    assert (changes[0]["old_value"], changes[0]["new_value"]) == ("0.1", "0.15")
    assert changes[0]["changed_by"] == "Ada Admin"
    assert changes[0]["label"] == "Minimum margin on external prices"


def test_the_api_refuses_bad_values_and_the_locked_currency(users, client_for):
    admin = client_for(users["admin"])
    response = admin.patch(provider_url(), {"recovery_share": "2"}, format="json")
    assert response.status_code == 400 and "recovery_share" in response.json()
    response = admin.patch(provider_url(), {"base_currency": "USD"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "base_currency_locked"


@pytest.mark.parametrize("role", ["manager", "change", "senior"])
def test_the_api_hides_margins_from_staff_who_may_not_see_them(users, client_for, role):
    provider_settings.update_provider_settings(actor=users["admin"], internal_margin=D("0.03"))
    client = client_for(users[role])
    body = client.get(provider_url()).json()
    assert "internal_margin" not in body and "minimum_margin" not in body
    assert body["recovery_share"] == "1.0000"
    fields = [row["field"] for row in client.get(provider_url(suffix="changes/")).json()]
    assert "internal_margin" not in fields
    response = client.patch(provider_url(), {"sector": "government"}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["internal", "external"])
def test_the_api_refuses_customer_users(users, client_for, role):
    client = client_for(users[role])
    assert client.get("/api/providers/").status_code == 403
    assert client.get(provider_url()).status_code == 403
    assert client.patch(provider_url(), {"sector": "x"}, format="json").status_code == 403
    assert Customer.objects.filter(pk=users[role].customer_id).exists()
