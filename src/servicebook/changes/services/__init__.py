"""Every write to requests for change: validated, permission-checked, audited (R11, R16, R17).

The internal-vs-external rules come from the customer's policy only:
``change_authorization`` (co_authorize | per_contract), ``adds_change_tasks``,
``co_owns_deployment_schedule``, ``price_impact_needs_acceptance``, ``deployment_needs_training``
and ``charge_basis`` (what the customer's approver commits to: the cost or the price impact).
The lifecycle is the ``CHANGE_REQUEST`` workflow (``changes.workflows``); its steps and every
other event are recorded through it. The modules: ``requests`` (raising and assessing),
``approvals``, ``tasks`` (the customer's part, training, feeds), ``schedule`` (window, schedule,
implementation, review).
"""

from servicebook.changes.services.approvals import (
    accept_price_impact,
    missing_approvals,
    record_customer_decision,
    record_it_decision,
    submit_for_approval,
    value_at_stake,
)
from servicebook.changes.services.requests import (
    AFTER_THE_FACT,
    CHANGE_MANAGERS,
    CLAUSE_SCOPES,
    DECIDABLE,
    EDITABLE,
    OPEN,
    affected_agreements,
    assess_change,
    create_change,
    governing_clause,
    set_price_impact,
    start_assessment,
    update_change,
)
from servicebook.changes.services.schedule import (
    earliest_after_notice,
    implement_change,
    may_set_window,
    review_change,
    schedule_blockers,
    schedule_change,
    set_schedule,
    window_refusal,
)
from servicebook.changes.services.tasks import (
    add_customer_task,
    complete_customer_task,
    record_training,
    rotate_feed,
)

__all__ = [
    "AFTER_THE_FACT",
    "CHANGE_MANAGERS",
    "CLAUSE_SCOPES",
    "DECIDABLE",
    "EDITABLE",
    "OPEN",
    "accept_price_impact",
    "add_customer_task",
    "affected_agreements",
    "assess_change",
    "complete_customer_task",
    "create_change",
    "earliest_after_notice",
    "governing_clause",
    "implement_change",
    "may_set_window",
    "missing_approvals",
    "record_customer_decision",
    "record_it_decision",
    "record_training",
    "review_change",
    "rotate_feed",
    "schedule_blockers",
    "schedule_change",
    "set_price_impact",
    "set_schedule",
    "start_assessment",
    "submit_for_approval",
    "update_change",
    "value_at_stake",
    "window_refusal",
]
