"""The contract's whole life (R23): reminders before the notice deadline, renewal into the next
term as a new version, expiry at the end of the term, and termination by notice of either side.

``run_renewals(on=…)`` is the daily job (``servicebook agreements renewals``); it is idempotent:
one reminder per agreement and notice deadline, and an agreement whose term is over is renewed,
expired or terminated once (it is no longer active afterwards).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from servicebook.agreements import services as agreement_services
from servicebook.agreements.lifecycle import notices
from servicebook.agreements.lifecycle.models import NoticeSide, RenewalReminder, TerminationNotice
from servicebook.agreements.models import Agreement, AgreementEvent, AgreementStatus
from servicebook.agreements.selectors import activation_blockers
from servicebook.core.errors import DomainError
from servicebook.core.models import User
from servicebook.core.services import require_role, save_validated
from servicebook.parties.models import Contact

#: Days before the notice deadline the reminder is sent.
REMINDER_LEAD_DAYS = 30
#: The length of the next term when the agreement does not state one.
DEFAULT_TERM_MONTHS = 12


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months (the last day of a shorter month when needed)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def notice_days(agreement: Agreement) -> int:
    """The days' notice a termination needs: the contract's notice period where the policy
    says it binds (a contract), none otherwise (an SLA ends by agreement)."""
    if not agreement.policy.notice_period_binds:
        return 0
    return agreement.termination_notice_days or 0


def notice_deadline(agreement: Agreement) -> dt.date | None:
    """The last day notice can be given to end the agreement at the end of its term (None when
    it has no end date: it runs on until notice is given)."""
    if agreement.end_date is None:
        return None
    return agreement.end_date - dt.timedelta(days=notice_days(agreement))


def next_term(agreement: Agreement) -> tuple[dt.date, dt.date]:
    """The start and end of the term that follows the current one."""
    if agreement.end_date is None:
        raise DomainError(
            f"{agreement.reference} has no end date: it runs on until notice is given, so it "
            "has no next term",
            code="no_term",
        )
    start = agreement.end_date + dt.timedelta(days=1)
    months = agreement.renewal_months or DEFAULT_TERM_MONTHS
    return start, add_months(start, months) - dt.timedelta(days=1)


def _refuse_renewal(agreement: Agreement) -> None:
    if agreement.status != AgreementStatus.ACTIVE:
        raise DomainError(
            f"{agreement.reference} version {agreement.version} is "
            f"{agreement.get_status_display().lower()}: only an active agreement is renewed",
            code="not_renewable",
        )
    notice = TerminationNotice.objects.filter(agreement=agreement).first()
    if notice is not None:
        raise DomainError(
            f"{notice.get_given_by_display()} gave notice on {notice.given_on}: "
            f"{agreement.reference} ends on {notice.effective} and is not renewed",
            code="notice_given",
        )
    pending = Agreement.objects.filter(previous=agreement).first()
    if pending is not None:
        raise DomainError(
            f"{agreement.reference} already has a next version (version {pending.version}, "
            f"{pending.get_status_display().lower()})",
            code="already_amended",
        )


@transaction.atomic
def renew_agreement(
    *, actor: User | None, agreement: Agreement, automatic: bool = False
) -> Agreement:
    """The next term as a new version of the agreement (start the day after the current end).

    A renewal by hand is a draft to negotiate and sign like any version. An automatic renewal
    (the contract's auto-renewal, run by the daily job when the term is over) is activated at
    once without a new signature: the signed contract provides for it. When something else
    blocks activation (due diligence expired, customer suspended), the new term stays a draft
    for a service manager, and the current term ends.
    """
    require_role(actor, *agreement_services.AGREEMENT_EDITORS, action="Renewing an agreement")
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    _refuse_renewal(agreement)
    start, end = next_term(agreement)
    how = "auto-renewal" if automatic else "renewal"
    new = agreement_services._draft_amendment(
        actor=actor, agreement=agreement, note=f"{how}: term {start} to {end}"
    )
    new.start_date, new.end_date = start, end
    save_validated(new)
    AgreementEvent.objects.create(
        agreement=new, actor=actor, action="renewal", note=f"{how}: term {start} to {end}"
    )
    if not automatic:
        return new
    blockers = activation_blockers(new, signature_required=False)
    if blockers:
        AgreementEvent.objects.create(
            agreement=new,
            actor=actor,
            action="activation_pending",
            note="the renewal stays a draft: " + "; ".join(blockers),
        )
        agreement_services._set_status(
            actor=actor,
            agreement=agreement,
            to_status=AgreementStatus.EXPIRED,
            note=f"term ended on {agreement.end_date}; the renewal could not be activated",
        )
        return new
    return agreement_services._set_status(
        actor=actor,
        agreement=new,
        to_status=AgreementStatus.ACTIVE,
        note="renewed under the agreement's auto-renewal term",
        signature_required=False,
    )


@transaction.atomic
def give_notice(
    *,
    actor: User | None,
    agreement: Agreement,
    given_by: str,
    reason: str,
    effective: dt.date | None = None,
    contact: Contact | None = None,
    on: dt.date | None = None,
) -> TerminationNotice:
    """Record notice by either side that the agreement ends on ``effective``.

    Where the policy says the notice period binds (a contract), the earliest effective date is
    the notice date plus the notice period; without a date it is the end of the current term
    when notice comes in time, else that earliest date. Notice cannot end the agreement after
    its current term. The customer's notice is given by its authorized person (an active
    approver). The agreement's end date becomes the effective date and it is not renewed.
    """
    require_role(actor, *agreement_services.AGREEMENT_EDITORS, action="Recording a notice")
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    on = on or timezone.localdate()
    if agreement.status != AgreementStatus.ACTIVE:
        raise DomainError(
            f"{agreement.reference} is {agreement.get_status_display().lower()}: notice is "
            "given on an active agreement",
            code="not_active",
        )
    if TerminationNotice.objects.filter(agreement=agreement).exists():
        raise DomainError(f"notice was already given on {agreement.reference}", code="notice_given")
    if not reason.strip():
        raise ValidationError({"reason": "say why the agreement is ended"})
    NoticeSide(given_by)
    _check_giver(agreement, given_by, contact)
    effective = _effective_date(agreement, on, effective)
    notice = TerminationNotice(
        agreement=agreement,
        given_by=given_by,
        given_on=on,
        effective=effective,
        reason=reason.strip(),
        contact=contact,
        recorded_by=actor,
    )
    save_validated(notice)
    agreement.end_date = effective
    save_validated(agreement)
    AgreementEvent.objects.create(
        agreement=agreement,
        actor=actor,
        action="termination_notice",
        note=f"{notice}: {notice.reason}",
    )
    notices.notice_given(notice)
    return notice


def _check_giver(agreement: Agreement, given_by: str, contact: Contact | None) -> None:
    if given_by == NoticeSide.PROVIDER:
        if contact is not None:
            raise DomainError("the provider's notice names no customer contact", field="contact")
        return
    if contact is None:
        raise DomainError(
            "the customer's notice is given by its authorized person: name the contact",
            field="contact",
        )
    if contact.customer_id != agreement.customer_id:
        raise DomainError(
            f"{contact.name} is not a contact of {agreement.customer}", field="contact"
        )
    if not (contact.active and contact.is_approver):
        raise DomainError(
            f"{contact.name} is not an active approver of {agreement.customer}: only the "
            "customer's authorized person gives notice",
            code="no_authority",
            field="contact",
        )


def _effective_date(agreement: Agreement, on: dt.date, effective: dt.date | None) -> dt.date:
    days = notice_days(agreement)
    earliest = max(on + dt.timedelta(days=days), agreement.start_date)
    end = agreement.end_date
    if effective is None and end is not None and earliest > end:
        then = (
            "the term renews automatically: give notice on the renewed term"
            if agreement.auto_renew
            else f"it ends on {end} anyway"
        )
        raise DomainError(
            f"{agreement.reference}: notice given on {on} comes after the notice deadline "
            f"{end - dt.timedelta(days=days)} ({days} days before the term ends on {end}); {then}",
            code="notice_too_late",
            field="effective",
        )
    if effective is None:
        effective = end if end is not None else earliest
    if effective < earliest:
        why = (
            f"the contract requires {days} days' notice: notice given on {on} takes effect on "
            f"{earliest} at the earliest"
            if days
            else f"it takes effect on {earliest} at the earliest"
        )
        raise DomainError(
            f"{agreement.reference} cannot end on {effective}: {why}",
            code="notice_too_short",
            field="effective",
        )
    if end is not None and effective > end:
        raise DomainError(
            f"{agreement.reference}'s current term ends on {end}: notice ends it on that day at "
            "the latest",
            code="after_term",
            field="effective",
        )
    return effective


# --- the daily job ------------------------------------------------------------------------------


@dataclass
class RenewalRun:
    """What one run of the job did."""

    on: dt.date
    reminded: list[str] = field(default_factory=list)
    renewed: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    terminated: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # renewals left as drafts (blocked)

    def as_dict(self) -> dict:
        return {
            "on": self.on.isoformat(),
            "reminded": self.reminded,
            "renewed": self.renewed,
            "expired": self.expired,
            "terminated": self.terminated,
            "pending": self.pending,
        }


def run_renewals(*, on: dt.date | None = None, actor: User | None = None) -> RenewalRun:
    """Send the reminders that fall due on ``on`` and end the terms that are over before it."""
    on = on or timezone.localdate()
    run = RenewalRun(on=on)
    active = Agreement.objects.filter(status=AgreementStatus.ACTIVE, end_date__isnull=False)
    for agreement in active.filter(end_date__lt=on).select_related("customer").order_by("pk"):
        _end_term(agreement, on=on, actor=actor, run=run)
    due = (
        active.filter(end_date__gte=on, termination_notice__isnull=True)
        .select_related("customer")
        .order_by("end_date", "pk")
    )
    for agreement in due:
        deadline = notice_deadline(agreement)
        if deadline is None or not (
            deadline - dt.timedelta(days=REMINDER_LEAD_DAYS) <= on <= deadline
        ):
            continue
        if Agreement.objects.filter(previous=agreement).exists():
            continue  # a next version is already on its way
        if _remind(agreement, deadline=deadline, on=on):
            run.reminded.append(agreement.reference)
    return run


def _remind(agreement: Agreement, *, deadline: dt.date, on: dt.date) -> bool:
    """One reminder per agreement and deadline, even when two runs race (the unique row)."""
    if RenewalReminder.objects.filter(agreement=agreement, deadline=deadline).exists():
        return False
    try:
        with transaction.atomic():
            reminder = RenewalReminder.objects.create(
                agreement=agreement, deadline=deadline, term_end=agreement.end_date, sent_on=on
            )
            reminder.recipients = notices.renewal_reminder(agreement, deadline=deadline)
            reminder.save(update_fields=["recipients"])
    except IntegrityError:
        return False
    return True


def _end_term(agreement: Agreement, *, on: dt.date, actor: User | None, run: RenewalRun) -> None:
    ref = f"{agreement.reference} v{agreement.version}"
    with transaction.atomic():
        if TerminationNotice.objects.filter(agreement=agreement).exists():
            agreement_services._set_status(
                actor=actor,
                agreement=agreement,
                to_status=AgreementStatus.TERMINATED,
                note=f"ended on {agreement.end_date} by notice",
            )
            run.terminated.append(ref)
        elif agreement.auto_renew and not Agreement.objects.filter(previous=agreement).exists():
            new = renew_agreement(actor=actor, agreement=agreement, automatic=True)
            (run.renewed if new.status == AgreementStatus.ACTIVE else run.pending).append(ref)
        else:
            agreement_services._set_status(
                actor=actor,
                agreement=agreement,
                to_status=AgreementStatus.EXPIRED,
                note=f"term ended on {agreement.end_date}",
            )
            run.expired.append(ref)
