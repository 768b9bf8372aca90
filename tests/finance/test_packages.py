"""One app, four packages (decision 0011): every finance model is registered under the ``finance``
label from its package, and ``ledger verify`` runs the checks billing adds to it."""

from __future__ import annotations

import pytest
from django.apps import apps

from servicebook.finance.billing.verify import CHECKS
from servicebook.finance.ledger import verify as ledger_verify

PACKAGES = ("fx", "ledger", "costing", "usage", "billing")


def test_every_model_is_registered_under_finance_from_its_package():
    models = apps.get_app_config("finance").get_models()
    homes = {model.__name__: model.__module__ for model in models}
    assert len(homes) == 27  # + TaxRate, DocumentSequence, CreditNote (decision 0026)
    assert all(model._meta.app_label == "finance" for model in models)
    assert {module.split(".")[2] for module in homes.values()} == set(PACKAGES)
    assert homes["JournalEntry"] == "servicebook.finance.ledger.models"
    assert homes["ExchangeRate"] == "servicebook.finance.fx.models"
    assert homes["UnitCost"] == "servicebook.finance.costing.models"
    assert homes["CloudCharge"] == "servicebook.finance.usage.models"
    assert homes["Invoice"] == "servicebook.finance.billing.models"


@pytest.mark.django_db
def test_ledger_verify_runs_the_document_checks_billing_adds():
    result = ledger_verify.verify()
    assert set(CHECKS) <= set(result["checks"])
    assert list(result["checks"])[:7] == [
        "entries_balance_per_currency",
        "lines_positive_one_sided",
        "entries_have_two_lines",
        "closed_periods_locked",
        "entries_balance_in_base_currency",
        "base_amounts_at_their_rate",
        "accounts_allowed_by_policy",
    ]


def test_a_check_name_is_taken_once():
    with pytest.raises(ValueError, match="already has a check"):
        ledger_verify.add_check("invoices_consistent", lambda limit: [])
    ledger_verify.add_check("invoices_consistent", CHECKS["invoices_consistent"])  # same: no-op
