"""The glossary (issue 18): the words Servicebook uses, and how internal and external customers
differ, in plain words. Each viewer sees what they may: a term about cost or margin is left out
for those who may not see cost (``policy.user_may_see_cost``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from servicebook.policy import (
    EXTERNAL,
    INTERNAL,
    policy_for,
    user_may_see_cost,
    user_may_see_margin,
)


@dataclass(frozen=True)
class Term:
    word: str
    meaning: str
    about_cost: bool = False
    #: margins are for finance and the provider admin alone
    about_margin: bool = False


@dataclass(frozen=True)
class Difference:
    topic: str
    internal: str
    external: str
    #: True: only for viewers who may see cost; False: only for those who may not; None: all.
    for_cost_viewers: bool | None = None

    def shown_to(self, sees_cost: bool) -> bool:
        return self.for_cost_viewers is None or self.for_cost_viewers == sees_cost


def differences() -> list[Difference]:
    inside, outside = policy_for(INTERNAL), policy_for(EXTERNAL)
    return [
        Difference(
            "Who they are",
            "A department of the provider's own organization, sharing its objectives.",
            "A separate company or body, bound to the provider by a contract.",
        ),
        Difference(
            "How the service is funded",
            inside.funding_description,
            outside.funding_description,
            for_cost_viewers=True,
        ),
        Difference(
            "How the service is funded",
            "From the organization's own budget: by central allocation, chargeback or showback.",
            outside.funding_description,
            for_cost_viewers=False,
        ),
        Difference(
            "The agreement",
            f"A {inside.agreement_label.lower()}: an internal commitment, not legally binding.",
            f"A {outside.agreement_label.lower()}: legally binding, signed by an authorized "
            "contact.",
        ),
        Difference(
            "What is charged",
            "A notional transfer at cost (or only shown, never charged, under showback).",
            "A price agreed in the contract; it may be paid partly in kind.",
            for_cost_viewers=True,
        ),
        Difference(
            "What is charged",
            "A notional transfer between budgets, or only shown under showback.",
            "A price agreed in the contract; it may be paid partly in kind.",
            for_cost_viewers=False,
        ),
        Difference(
            "A missed service level target",
            "An improvement action, agreed together.",
            "A service credit on the next invoice, as the contract sets out.",
        ),
        Difference(
            "Changes",
            "Approved together with the department, which may add its own tasks and shares the "
            "deployment schedule.",
            "Approved as the contract says; a change that alters the price needs the customer's "
            "acceptance, and its people are trained before a step they perform.",
        ),
        Difference(
            "New requests",
            "Challenged on expected business outcomes and return on investment; some need a "
            "senior manager's justification.",
            "Accepted when legal, possible and profitable for the provider.",
        ),
        Difference(
            "Improvement",
            "Takes part in improvement plans.",
            "Sees the results; takes part in the detail only when the relationship is in "
            "difficulty.",
        ),
    ]


TERMS = [
    Term(
        "Service catalog",
        "The services the provider offers, each with its offerings: what "
        "is delivered, in which unit, at which price, and to which customers.",
    ),
    Term(
        "Agreement",
        "What a customer receives and on which terms: a service level agreement "
        "for a department, a contract for an external customer.",
    ),
    Term(
        "Service level target",
        "A promise measured every month, such as 'resolve 95% of "
        "priority 1 tickets within 4 business hours'.",
    ),
    Term(
        "Business calendar",
        "The hours that count when a target is measured: opening hours "
        "per weekday, public holidays of a country and the provider's own closed days.",
    ),
    Term("Attainment", "The share of tickets or time that met a target in a month."),
    Term("Breach", "A month in which attainment fell below the target."),
    Term(
        "Service credit",
        "An amount taken off an external customer's invoice when a target "
        "is missed, by the tiers the contract sets.",
    ),
    Term(
        "Outage",
        "A time a service was unavailable; planned maintenance announced in advance "
        "does not count against availability.",
    ),
    Term("Statement", "A department's monthly account of what it consumed (internal)."),
    Term("Invoice", "An external customer's bill, with its due date and payment terms."),
    Term(
        "Period close",
        "The monthly step that rates usage, issues statements and invoices and "
        "posts them to the ledger. A closed month never changes; corrections are new entries.",
    ),
    Term("Chargeback", "Internal charging where a department's budget pays for what it consumed."),
    Term("Showback", "Internal reporting of what a department consumed, without charging it."),
    Term(
        "Unit cost",
        "What one unit of a service costs the provider, from its cost pools and allocation rules.",
        about_cost=True,
    ),
    Term(
        "Margin",
        "Price less cost: what the provider earns on an external contract.",
        about_cost=True,
        about_margin=True,
    ),
    Term(
        "Due diligence",
        "The checks made before an agreement is signed: identity, authority, "
        "legality, jurisdiction and, for external customers, financial standing.",
    ),
    Term(
        "Request for change",
        "A proposed change to a service, assessed for its impact on each "
        "customer and approved before it is scheduled.",
    ),
    Term("Demand", "A customer's request for something new, assessed before it is approved."),
    Term(
        "Investment challenge",
        "The questions an internal request must answer: the business "
        "outcomes it brings and its return on investment.",
    ),
    Term(
        "Improvement item",
        "A registered improvement with its actions, owners and the result it aims at.",
    ),
    Term(
        "Relationship owner",
        "The provider's person who owns the relationship with a "
        "customer: the business relationship manager.",
    ),
    Term(
        "Service review",
        "The regular meeting with a customer on attainment, satisfaction, "
        "changes and improvements, with its review pack.",
    ),
]


@login_required
def glossary(request):
    sees_cost = user_may_see_cost(request.user)
    sees_margin = user_may_see_margin(request.user)
    context = {
        "differences": [d for d in differences() if d.shown_to(sees_cost)],
        "terms": [
            t
            for t in TERMS
            if (sees_cost or not t.about_cost) and (sees_margin or not t.about_margin)
        ],
    }
    return render(request, "web/glossary.html", context)
