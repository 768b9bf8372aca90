"""Reads about an agreement's term: its dates, notice deadline, next term and notice given."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from servicebook.agreements.lifecycle import services
from servicebook.agreements.lifecycle.models import RenewalReminder, TerminationNotice
from servicebook.agreements.models import Agreement, AgreementStatus


@dataclass
class Term:
    """What the agreement page and the API show of the agreement's term."""

    agreement: Agreement
    start: dt.date
    end: dt.date | None
    auto_renew: bool
    renewal_months: int | None
    notice_days: int  # 0 where the notice period does not bind (an SLA)
    notice_binds: bool
    notice_deadline: dt.date | None
    next_term: tuple[dt.date, dt.date] | None
    earliest_end_by_notice: dt.date | None  # notice given today takes effect then
    notice: TerminationNotice | None
    reminders: list[RenewalReminder]
    renewable: bool

    def as_dict(self) -> dict:
        notice = self.notice
        return {
            "agreement": self.agreement.pk,
            "version": self.agreement.version,
            "status": self.agreement.status,
            "start_date": self.start,
            "end_date": self.end,
            "auto_renew": self.auto_renew,
            "renewal_months": self.renewal_months,
            "notice_days": self.notice_days,
            "notice_period_binds": self.notice_binds,
            "notice_deadline": self.notice_deadline,
            "next_term": list(self.next_term) if self.next_term else None,
            "earliest_end_by_notice": self.earliest_end_by_notice,
            "termination_notice": None
            if notice is None
            else {
                "given_by": notice.given_by,
                "given_on": notice.given_on,
                "effective": notice.effective,
                "reason": notice.reason,
                "contact": notice.contact.name if notice.contact else None,
            },
            "reminders": [
                {"deadline": r.deadline, "sent_on": r.sent_on, "recipients": r.recipients}
                for r in self.reminders
            ],
            "renewable": self.renewable,
        }


def term_of(agreement: Agreement, *, today: dt.date | None = None) -> Term:
    today = today or timezone.localdate()
    notice = TerminationNotice.objects.filter(agreement=agreement).select_related("contact").first()
    active = agreement.status == AgreementStatus.ACTIVE
    has_next = Agreement.objects.filter(previous=agreement).exists()
    days = services.notice_days(agreement)
    end = agreement.end_date
    earliest = None
    if active and notice is None:
        earliest = max(today + dt.timedelta(days=days), agreement.start_date)
        if end is not None and earliest > end:
            earliest = None  # too late to end this term early: it ends (or renews) at its end
    return Term(
        agreement=agreement,
        start=agreement.start_date,
        end=end,
        auto_renew=agreement.auto_renew,
        renewal_months=agreement.renewal_months,
        notice_days=days,
        notice_binds=agreement.policy.notice_period_binds,
        notice_deadline=services.notice_deadline(agreement) if notice is None else None,
        next_term=services.next_term(agreement) if end is not None and notice is None else None,
        earliest_end_by_notice=earliest,
        notice=notice,
        reminders=list(agreement.renewal_reminders.all()),
        renewable=active and end is not None and notice is None and not has_next,
    )
