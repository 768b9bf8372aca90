"""The customer policy answers every kind-dependent question (R1, R2, R5-R7, R12)."""

from decimal import Decimal as D
from types import SimpleNamespace

import pytest

from servicebook.policy import EXTERNAL, INTERNAL, POLICIES, policy_for, user_may_see_cost


def test_internal_policy():
    policy = policy_for(INTERNAL)
    assert policy.funding_source == "internal_budget"  # R1
    assert policy.charge_nature == "notional_transfer" and not policy.charge_is_revenue  # R2
    assert policy.charge_basis == "cost"  # R5
    assert policy.discloses_cost  # R7
    assert policy.agreement_kind == "sla" and not policy.legally_binding  # R12
    assert not policy.penalties_apply and policy.breach_consequence == "improvement_action"


def test_external_policy():
    policy = policy_for(EXTERNAL)
    assert policy.funding_source == "customer_revenue"
    assert policy.charge_nature == "revenue" and policy.charge_is_revenue
    assert policy.charge_basis == "price"
    assert not policy.discloses_cost
    assert policy.agreement_kind == "contract" and policy.legally_binding
    assert policy.penalties_apply and policy.breach_consequence == "service_credit"


def test_internal_charge_is_cost_times_the_allowed_margin():
    provider = SimpleNamespace(internal_margin=D("0.05"))
    rate = policy_for(INTERNAL).charge_rate(
        unit_cost=D("10"), unit_price=D("99"), provider=provider
    )
    assert rate == D("10.5")
    assert policy_for(EXTERNAL).charge_rate(unit_cost=D("10"), unit_price=D("99"), provider=None)


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown customer kind 'partner'"):
        policy_for("partner")


def test_cost_visibility_by_user(users):
    assert user_may_see_cost(users["finance"])
    assert user_may_see_cost(users["internal"])
    assert not user_may_see_cost(users["external"])
    assert not user_may_see_cost(SimpleNamespace(is_authenticated=False))


# --- policy answers are enums: no app compares them with a bare string ----------------------------

ENUM_ANSWERS = {
    "funding_source",
    "charge_nature",
    "charge_basis",
    "agreement_kind",
    "breach_consequence",
    "change_authorization",
    "demand_check",
}


def test_no_app_compares_a_policy_answer_with_a_bare_string():
    """A typo in ``policy.charge_basis == "csot"`` would silently take the other branch: apps
    compare with the enum members (``ChargeBasis.COST``) or ask a predicate
    (``charged_at_cost``), so a typo is an AttributeError."""
    import ast
    from pathlib import Path

    import servicebook

    root = Path(servicebook.__file__).parent
    found = []
    for path in root.rglob("*.py"):
        if "migrations" in path.parts or path.name == "policy.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Compare):
                continue
            sides = [node.left, *node.comparators]
            answers = [s for s in sides if isinstance(s, ast.Attribute) and s.attr in ENUM_ANSWERS]
            strings = [s for s in sides if isinstance(s, ast.Constant) and isinstance(s.value, str)]
            if answers and strings:
                found.append(f"{path.relative_to(root)}:{node.lineno}")
    assert not found, f"compare policy answers with their enums: {found}"


def test_policy_answers_are_enum_members():
    from enum import StrEnum

    for policy in POLICIES.values():
        for name in ENUM_ANSWERS:
            assert isinstance(getattr(policy, name), StrEnum), (policy.kind, name)
