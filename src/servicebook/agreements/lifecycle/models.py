"""What the contract's life records beside the agreement: reminders sent and notices given."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from servicebook.agreements.models import Agreement, AgreementChildQuerySet


class RenewalReminder(models.Model):
    """One reminder, sent once, that an agreement's notice deadline is near: after it the term
    renews (auto-renewal) or ends, and notice can no longer be given for it."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="renewal_reminders"
    )
    deadline = models.DateField(help_text="The last day notice can be given for this term.")
    term_end = models.DateField()
    sent_on = models.DateField()
    recipients = models.PositiveIntegerField(default=0)

    objects = AgreementChildQuerySet.as_manager()

    class Meta:
        ordering = ["agreement", "deadline"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "deadline"], name="renewal_reminder_once_per_deadline"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agreement.reference}: notice deadline {self.deadline} (told {self.sent_on})"


class NoticeSide(models.TextChoices):
    PROVIDER = "provider", "The provider"
    CUSTOMER = "customer", "The customer"


class TerminationNotice(models.Model):
    """Notice by either side that the agreement ends on ``effective`` (respecting its notice
    period where the policy says it binds). It stops auto-renewal; the agreement ends then."""

    agreement = models.OneToOneField(
        Agreement, on_delete=models.PROTECT, related_name="termination_notice"
    )
    given_by = models.CharField(max_length=10, choices=NoticeSide.choices)
    given_on = models.DateField()
    effective = models.DateField(help_text="The agreement's last day.")
    reason = models.TextField()
    contact = models.ForeignKey(
        "parties.Contact",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The customer's authorized person who gave notice (customer side).",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = AgreementChildQuerySet.as_manager()

    class Meta:
        ordering = ["agreement", "given_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective__gte=models.F("given_on")),
                name="termination_effective_after_notice",
            ),
            models.CheckConstraint(
                condition=Q(given_by__in=NoticeSide.values), name="termination_side_valid"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_given_by_display()} gave notice on {self.given_on}, ends {self.effective}"
        )
