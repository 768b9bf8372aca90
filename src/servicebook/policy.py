"""THE internal-vs-external rules of Servicebook.

ITIL's Service Strategy distinguishes two kinds of customer, and almost every rule of the product
differs by kind. This module holds one :class:`CustomerPolicy` per kind and answers, for the rest
of the code, each question of REQUIREMENTS.md (R1…R20). Apps ask the policy; they never branch on
``customer.kind`` themselves. A reader who wants to know how internal and external customers
differ reads this one file.

This module imports no Django model at import time so every app can use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

INTERNAL = "internal"
EXTERNAL = "external"


class LedgerAccount(StrEnum):
    """R2: the role (``Account.purpose``) a ledger account plays in postings."""

    CASH = "cash"
    RECEIVABLE = "receivable"
    IN_KIND_RECEIVABLE = "in_kind_receivable"
    IN_KIND_RECEIVED = "in_kind_received"
    REVENUE = "revenue"
    SERVICE_CREDITS = "service_credits"
    COST_RECOVERY = "cost_recovery"
    SUBSIDY = "subsidy"
    ADJUSTMENT = "adjustment"
    INTERNAL_CHARGES = "internal_charges"  # a cost centre's "Internal IT charges" account
    VAT_PAYABLE = "vat_payable"  # output tax collected on sales, owed to the tax authority


class Posting(StrEnum):
    """R2: the parts of a charge the period close posts (each to the account the policy names)."""

    CHARGE = "charge"  # debit: what the customer is charged (cost centre / cash receivable)
    IN_KIND = "in_kind"  # debit: the part settled in kind
    CREDITS = "credits"  # debit: service credits given (contra-revenue)
    UNCOVERED = "uncovered"  # debit: the share nobody is charged (subsidy)
    INCOME = "income"  # credit: the gross charge (cost recovery / revenue)
    TAX = "tax"  # credit: the output tax (VAT) charged on a sale


class FundingSource(StrEnum):
    """R1: where the money for the service comes from."""

    INTERNAL_BUDGET = "internal_budget"
    CUSTOMER_REVENUE = "customer_revenue"


class ChargeNature(StrEnum):
    """R2: what a charge is in the organization's books."""

    NOTIONAL_TRANSFER = "notional_transfer"
    REVENUE = "revenue"


class ChargeBasis(StrEnum):
    """R5/R6: what a customer is charged: cost (under the enterprise policy) or the price."""

    COST = "cost"
    PRICE = "price"


class AgreementKind(StrEnum):
    """R12: a service level agreement (not legally binding) or a contract."""

    SLA = "sla"
    CONTRACT = "contract"


class BreachConsequence(StrEnum):
    """R12/R13: what a missed service level target produces."""

    IMPROVEMENT_ACTION = "improvement_action"
    SERVICE_CREDIT = "service_credit"


class ChangeAuthorization(StrEnum):
    """R11: who authorizes a change: co-authorized with the customer, or as the contract says."""

    CO_AUTHORIZE = "co_authorize"
    PER_CONTRACT = "per_contract"


class DemandCheck(StrEnum):
    """R18: how a costly request is examined."""

    CHALLENGE = "challenge"
    LEGAL_POSSIBLE_PROFITABLE = "legal_possible_profitable"


class RefusalGround(StrEnum):
    """R9/R18: why the provider refuses a request, whoever asked. A provider that does what
    damages the business is negligent (ITIL), so an internal request that works against the
    organization's objectives or its profitability is refused as an illegal one is."""

    ILLEGAL = "illegal_request"
    NOT_FEASIBLE = "not_feasible"
    AGAINST_OBJECTIVES = "against_objectives"
    AGAINST_PROFITABILITY = "against_profitability"


class FeedbackFollowUp(StrEnum):
    """R15: what a piece of feedback proposes, to feed design (R10) and improvement (R14)."""

    NONE = "none"
    IMPROVEMENT = "improvement"  # an improvement item, with the policy's feedback driver
    DESIGN_REVISION = "design_revision"  # a revision of the service's design specification


#: How each ground reads on a page (a refusal is shown to the customer with its reason).
REFUSAL_LABELS = {
    RefusalGround.ILLEGAL: "The request is not legal",
    RefusalGround.NOT_FEASIBLE: "The request is not possible",
    RefusalGround.AGAINST_OBJECTIVES: "It works against the organization's objectives",
    RefusalGround.AGAINST_PROFITABILITY: "It works against the organization's profitability",
}


@dataclass(frozen=True)
class CustomerPolicy:
    """The rules for one kind of customer. Subclasses set the answers; methods apply them."""

    kind: ClassVar[str]
    label: ClassVar[str]

    # R1 Funding source: where the money for the service comes from.
    funding_source: ClassVar[FundingSource]
    funding_description: ClassVar[str]
    # R2 Notional vs real money: what a charge is in the organization's books.
    charge_nature: ClassVar[ChargeNature]
    charge_is_revenue: ClassVar[bool]
    # R2 The ledger accounts an entry for this customer may use, and where the close posts each
    # part of a charge (every posting, close or adjustment, is checked against ``ledger_accounts``).
    ledger_accounts: ClassVar[frozenset[LedgerAccount]]
    posting_accounts: ClassVar[dict[Posting, LedgerAccount]]
    # R5/R6 What is charged: cost (under the enterprise policy) or price.
    charge_basis: ClassVar[ChargeBasis]
    # R7 Cost disclosure to the customer's own users.
    discloses_cost: ClassVar[bool]
    # R12 Agreement: SLA (not legally binding) or contract (legally binding, penalties).
    agreement_kind: ClassVar[AgreementKind]
    agreement_label: ClassVar[str]
    legally_binding: ClassVar[bool]
    # R12/R13 What a missed target produces.
    breach_consequence: ClassVar[BreachConsequence]
    # R3 Whether part of a charge may be settled in kind (services or products).
    accepts_in_kind: ClassVar[bool]
    # R2 Whether the customer's documents carry tax (VAT): a sale does, an internal transfer
    # between departments of one organization is no supply and carries none.
    charges_tax: ClassVar[bool]
    # R10 Design involvement.
    signs_off_design: ClassVar[bool]  # must sign the specification before go-live
    records_customer_roi: ClassVar[bool]  # the provider records expected ROI for the customer
    design_participation: ClassVar[frozenset[str]]  # positionings in which customers join design
    # R11 Change authorization.
    change_authorization: ClassVar[ChangeAuthorization]
    adds_change_tasks: ClassVar[bool]  # customer adds build/test/deployment tasks it will do
    co_owns_deployment_schedule: ClassVar[bool]
    price_impact_needs_acceptance: ClassVar[bool]
    deployment_needs_training: ClassVar[bool]  # scripted steps, trained contact before the date
    # R14 Improvement drivers and involvement.
    improvement_drivers: ClassVar[tuple[str, ...]]
    involved_in_improvement_detail: ClassVar[bool]  # (external: only when in difficulty)
    # R15/R14 The driver of the item a low score or a complaint proposes, and of the item a
    # customer-service gap against this kind of customer proposes (R21).
    feedback_driver: ClassVar[str]
    parity_driver: ClassVar[str]
    # R18 How a costly request is examined.
    demand_check: ClassVar[DemandCheck]
    # R18 What makes a request need a senior-management justification before approval.
    justification_needed_for: ClassVar[tuple[str, ...]]  # "negative_npv", "costlier_option"
    # R9/R18 On what grounds the provider may refuse a request (always with a written reason).
    refusal_grounds: ClassVar[tuple[RefusalGround, ...]]
    # R9 Whether a request must name the organization objectives it serves.
    demand_names_objectives: ClassVar[bool]
    # R9 Strategy: shared organization objectives, or the customer's own desired outcomes.
    shares_objectives: ClassVar[bool]
    records_outcomes: ClassVar[bool]
    # R17 Which due diligence checks apply.
    due_diligence_checks: ClassVar[tuple[str, ...]]
    # R19 Internal customer commitments (funding, exclusivity).
    has_commitments: ClassVar[bool]
    # R20 Whether the customer's own jurisdiction constrains data locations.
    checks_jurisdiction: ClassVar[bool]
    # Which catalog services this kind of customer may see and subscribe to.
    catalog_audiences: ClassVar[frozenset[str]]
    # Fields of Customer that must be filled for this kind, and those that must stay empty.
    required_fields: ClassVar[tuple[str, ...]]
    foreign_fields: ClassVar[tuple[str, ...]]
    # The user group a customer user of this kind belongs to.
    user_role: ClassVar[str]
    # R23 The contract's whole life: whether the notice period binds a termination (a contract),
    # or the agreement may end on any date from today by agreement (an SLA, not legally binding);
    # and whether the customer counts in the retention figures of external business (R14).
    notice_period_binds: ClassVar[bool]
    counts_in_retention: ClassVar[bool]

    # R12
    @property
    def penalties_apply(self) -> bool:
        """Whether missed targets earn the customer service credits (contract penalties)."""
        return self.breach_consequence is BreachConsequence.SERVICE_CREDIT

    @property
    def charged_at_cost(self) -> bool:
        """R5: charged the cost of service (internal); otherwise the agreed price."""
        return self.charge_basis is ChargeBasis.COST

    @property
    def charged_at_price(self) -> bool:
        """R6: charged the agreed price, which must exceed cost (external)."""
        return self.charge_basis is ChargeBasis.PRICE

    @property
    def co_authorizes_changes(self) -> bool:
        """R11: the customer's approver co-authorizes every change (internal)."""
        return self.change_authorization is ChangeAuthorization.CO_AUTHORIZE

    def billing_currency(self, customer: Any) -> str:
        """The currency the customer is charged in."""
        raise NotImplementedError

    def validate_customer(self, customer: Any) -> dict[str, list[str]]:
        """Field errors for a customer of this kind (kind-specific required/forbidden fields)."""
        errors: dict[str, list[str]] = {}
        for name in self.required_fields:
            if getattr(customer, name) in (None, ""):
                errors.setdefault(name, []).append(f"required for an {self.kind} customer")
        for name in self.foreign_fields:
            if getattr(customer, name) not in (None, "", False):
                errors.setdefault(name, []).append(f"does not apply to an {self.kind} customer")
        return errors

    def charge_rate(self, *, unit_cost: Decimal | None, unit_price: Decimal, provider: Any):
        """The rate a unit of an offering is charged at: cost-based or price-based."""
        raise NotImplementedError

    def pays_for_service(self, customer: Any) -> bool:
        """R16: whether the customer has anything to pay (so could be suspended for non-payment):
        external customers pay invoices; internal ones only under a funding model that recovers
        cost from them (chargeback, partial recovery), never central allocation or showback."""
        raise NotImplementedError

    def invited_into_improvement(self, *, in_difficulty: bool) -> bool:
        """R14: whether the customer takes part in the detail of an improvement plan."""
        return self.involved_in_improvement_detail or in_difficulty

    def may_refuse_for(self, ground: str) -> bool:
        """R9/R18: whether the provider may refuse this kind of customer's request on
        ``ground`` (an unknown ground is never a reason)."""
        return ground in self.refusal_grounds

    def may_join_design(self, positioning: str) -> bool:
        """R10: whether the customer may take part in design work for this positioning."""
        return positioning in self.design_participation

    def feedback_follow_up(
        self, *, topic: str, score: int | None, low_score: int
    ) -> FeedbackFollowUp:
        """R15: what a piece of feedback proposes. Design feedback revises the service's design
        specification for its owners to review (R10: internal customers take part in detailed
        design, external customers' feedback on pre-defined services improves it); a complaint,
        or a satisfaction score at or below the provider's ``low_score``, proposes an
        improvement item driven by ``feedback_driver`` (R14)."""
        if topic == "design":
            return FeedbackFollowUp.DESIGN_REVISION
        if topic == "complaint" or (score is not None and score <= low_score):
            return FeedbackFollowUp.IMPROVEMENT
        return FeedbackFollowUp.NONE

    def describe(self) -> dict[str, Any]:
        """The answers of this policy, for the documentation page and the API."""
        return {
            "kind": self.kind,
            "funding_source": self.funding_source,
            "funding_description": self.funding_description,
            "charge_nature": self.charge_nature,
            "charge_is_revenue": self.charge_is_revenue,
            "charge_basis": self.charge_basis,
            "discloses_cost": self.discloses_cost,
            "agreement_kind": self.agreement_kind,
            "legally_binding": self.legally_binding,
            "breach_consequence": self.breach_consequence,
            "penalties_apply": self.penalties_apply,
            "accepts_in_kind": self.accepts_in_kind,
            "charges_tax": self.charges_tax,
            "signs_off_design": self.signs_off_design,
            "change_authorization": self.change_authorization,
            "improvement_drivers": list(self.improvement_drivers),
            "feedback_driver": self.feedback_driver,
            "parity_driver": self.parity_driver,
            "demand_check": self.demand_check,
            "refusal_grounds": list(self.refusal_grounds),
        }


@dataclass(frozen=True)
class InternalPolicy(CustomerPolicy):
    """A department of the provider's own organization: a colleague more than a customer."""

    kind = INTERNAL
    label = "Internal"
    funding_source = FundingSource.INTERNAL_BUDGET
    funding_description = (
        "Funded internally: IT is a cost to recover by central budget allocation, "
        "chargeback or showback."
    )
    charge_nature = ChargeNature.NOTIONAL_TRANSFER
    charge_is_revenue = False
    # transfer (cost centre ↔ IT cost recovery) and subsidy; never revenue or receivables
    ledger_accounts = frozenset(
        {
            LedgerAccount.INTERNAL_CHARGES,
            LedgerAccount.COST_RECOVERY,
            LedgerAccount.SUBSIDY,
            LedgerAccount.ADJUSTMENT,
        }
    )
    posting_accounts = {
        Posting.CHARGE: LedgerAccount.INTERNAL_CHARGES,
        Posting.UNCOVERED: LedgerAccount.SUBSIDY,
        Posting.INCOME: LedgerAccount.COST_RECOVERY,
    }
    charge_basis = ChargeBasis.COST
    discloses_cost = True
    agreement_kind = AgreementKind.SLA
    agreement_label = "Service level agreement"
    legally_binding = False
    notice_period_binds = False
    counts_in_retention = False
    breach_consequence = BreachConsequence.IMPROVEMENT_ACTION
    accepts_in_kind = False
    charges_tax = False  # a statement is no sale: no VAT, no invoice number series
    signs_off_design = True
    records_customer_roi = True
    design_participation = frozenset({"needs_based", "demand_based", "pre_defined", "bespoke"})
    change_authorization = ChangeAuthorization.CO_AUTHORIZE
    adds_change_tasks = True
    co_owns_deployment_schedule = True
    price_impact_needs_acceptance = False
    deployment_needs_training = False
    improvement_drivers = ("business_impact", "cost_quality_balance", "business_objectives")
    involved_in_improvement_detail = True
    # poor service to a colleague is first a question of the cost/quality balance; a gap in
    # customer service against the business units is an impact on the business
    feedback_driver = "cost_quality_balance"
    parity_driver = "business_impact"
    demand_check = DemandCheck.CHALLENGE
    justification_needed_for = ("negative_npv", "costlier_option")
    # R9: the provider refuses what damages the business it belongs to, whoever asks
    refusal_grounds = (
        RefusalGround.AGAINST_OBJECTIVES,
        RefusalGround.AGAINST_PROFITABILITY,
        RefusalGround.ILLEGAL,
        RefusalGround.NOT_FEASIBLE,
    )
    demand_names_objectives = True
    shares_objectives = True
    records_outcomes = False
    due_diligence_checks = ("identity", "authority", "legality", "jurisdiction")
    has_commitments = True
    # R20: optional for an internal customer (e.g. a subsidiary in another country); checked
    # when set.
    checks_jurisdiction = True
    catalog_audiences = frozenset({"all", INTERNAL})
    required_fields = ("business_unit", "cost_centre", "funding_model")
    foreign_fields = (
        "legal_name",
        "registration_number",
        "payment_terms_days",
        "credit_limit",
        "vat_number",
    )
    # R16: the funding models under which the customer itself pays (a statement it settles).
    paying_funding_models: ClassVar[frozenset[str]] = frozenset({"chargeback", "partial_recovery"})
    user_role = "internal_customer"

    def billing_currency(self, customer: Any) -> str:
        return customer.provider.base_currency

    def pays_for_service(self, customer: Any) -> bool:
        return customer.funding_model in self.paying_funding_models

    def charge_rate(self, *, unit_cost: Decimal | None, unit_price: Decimal, provider: Any):
        """R5: cost of service × (1 + the internal margin the enterprise policy allows)."""
        if unit_cost is None:
            return None
        return unit_cost * (Decimal(1) + provider.internal_margin)


@dataclass(frozen=True)
class ExternalPolicy(CustomerPolicy):
    """A separate legal entity buying under a legally binding contract."""

    kind = EXTERNAL
    label = "External"
    notice_period_binds = True
    counts_in_retention = True
    funding_source = FundingSource.CUSTOMER_REVENUE
    funding_description = (
        "Funds the service directly as revenue: IT is a generator of income. "
        "Paid in money or in kind."
    )
    charge_nature = ChargeNature.REVENUE
    charge_is_revenue = True
    # revenue, receivables (cash and in kind) and what settles them; never a transfer or subsidy
    ledger_accounts = frozenset(
        {
            LedgerAccount.REVENUE,
            LedgerAccount.SERVICE_CREDITS,
            LedgerAccount.RECEIVABLE,
            LedgerAccount.IN_KIND_RECEIVABLE,
            LedgerAccount.CASH,
            LedgerAccount.IN_KIND_RECEIVED,
            LedgerAccount.ADJUSTMENT,
            LedgerAccount.VAT_PAYABLE,
        }
    )
    posting_accounts = {
        Posting.CHARGE: LedgerAccount.RECEIVABLE,
        Posting.IN_KIND: LedgerAccount.IN_KIND_RECEIVABLE,
        Posting.CREDITS: LedgerAccount.SERVICE_CREDITS,
        Posting.INCOME: LedgerAccount.REVENUE,
        Posting.TAX: LedgerAccount.VAT_PAYABLE,
    }
    charge_basis = ChargeBasis.PRICE
    discloses_cost = False
    agreement_kind = AgreementKind.CONTRACT
    agreement_label = "Contract"
    legally_binding = True
    breach_consequence = BreachConsequence.SERVICE_CREDIT
    accepts_in_kind = True
    charges_tax = True  # a sale: VAT as the law of the supply says (finance.billing.tax)
    signs_off_design = False
    records_customer_roi = False
    design_participation = frozenset({"needs_based", "demand_based"})
    change_authorization = ChangeAuthorization.PER_CONTRACT
    adds_change_tasks = False
    co_owns_deployment_schedule = False
    price_impact_needs_acceptance = True
    deployment_needs_training = True
    improvement_drivers = ("retention", "competitiveness", "cost_reduction")
    involved_in_improvement_detail = False
    # an unhappy paying customer, or one served worse than the colleagues, is one to retain
    feedback_driver = "retention"
    parity_driver = "retention"
    demand_check = DemandCheck.LEGAL_POSSIBLE_PROFITABLE
    justification_needed_for = ()
    # an unprofitable external request is re-quoted, not refused; its outcomes are its own
    refusal_grounds = (RefusalGround.ILLEGAL, RefusalGround.NOT_FEASIBLE)
    demand_names_objectives = False
    shares_objectives = False
    records_outcomes = True
    due_diligence_checks = ("identity", "authority", "legality", "jurisdiction", "financial")
    has_commitments = False
    checks_jurisdiction = True
    catalog_audiences = frozenset({"all", EXTERNAL})
    required_fields = ("legal_name", "jurisdiction", "currency", "payment_terms_days")
    foreign_fields = ("business_unit", "cost_centre", "funding_model", "budget_per_period")
    user_role = "external_customer"

    def billing_currency(self, customer: Any) -> str:
        return customer.currency

    def pays_for_service(self, customer: Any) -> bool:
        return True

    def charge_rate(self, *, unit_cost: Decimal | None, unit_price: Decimal, provider: Any):
        """R6: the agreed price is the primary driver."""
        return unit_price


POLICIES: dict[str, CustomerPolicy] = {INTERNAL: InternalPolicy(), EXTERNAL: ExternalPolicy()}
KIND_CHOICES = [(kind, policy.label) for kind, policy in POLICIES.items()]


def policy_for(customer_or_kind: Any) -> CustomerPolicy:
    """The policy for a customer (or a kind name). The one place the kind is looked at."""
    kind = customer_or_kind if isinstance(customer_or_kind, str) else customer_or_kind.kind
    try:
        return POLICIES[kind]
    except KeyError:
        raise ValueError(f"unknown customer kind {kind!r}") from None


class HasPolicy:
    """What a customer (a model instance, or the plain values of one a long list reads, see
    ``parties.rows``) answers through its policy: one definition for both."""

    __slots__ = ()

    @property
    def policy(self) -> CustomerPolicy:
        return policy_for(self)

    @property
    def billing_currency(self) -> str:
        return self.policy.billing_currency(self)


def policies_allowing_accounts(purposes: Any) -> list[CustomerPolicy]:
    """R2: the customer policies under which one entry may use all these accounts together
    (empty: the entry mixes one kind's accounts with another's, e.g. a cost centre and revenue)."""
    used = set(purposes)
    return [policy for policy in POLICIES.values() if used <= policy.ledger_accounts]


def user_may_see_cost(user: Any) -> bool:
    """R7: provider staff and internal customer users may see cost; external users never."""
    from servicebook.core.roles import is_provider_staff

    if is_provider_staff(user):
        return True
    customer = getattr(user, "customer", None) if getattr(user, "is_authenticated", False) else None
    return customer is not None and policy_for(customer).discloses_cost


def user_may_see_margin(user: Any) -> bool:
    """R6/R7: margin (and the ledger) is for finance and the provider admin only: never for a
    customer user, nor for staff whose work does not need it (service, change and senior
    managers see cost, not margin)."""
    from servicebook.core.roles import Role, has_role, is_provider_staff

    return is_provider_staff(user) and has_role(user, Role.FINANCE, Role.PROVIDER_ADMIN)
