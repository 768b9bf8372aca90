"""Notifications: who is told what, by which channel, through a real SMTP server (R7 kept)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import override_settings

from servicebook.notifications import services
from servicebook.notifications.kinds import Channel, Delivery, Kind
from servicebook.notifications.models import Notification, Preference
from servicebook.notifications.services import DisclosureError, Message
from tests.smtp import smtp_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp():
    """A real SMTP server on loopback; Django's SMTP backend pointed at it."""
    with (
        smtp_server() as inbox,
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=inbox.port,
            EMAIL_USE_TLS=False,
        ),
    ):
        yield inbox


def _with_email(user, address=None):
    user.email = address or f"{user.username}@example.test"
    user.save(update_fields=["email"])
    return user


def test_notify_writes_one_row_per_person_by_their_channel(users):
    finance, manager, change = (
        _with_email(users[name]) for name in ("finance", "manager", "change")
    )
    services.set_channels(user=finance, channels={Kind.APPROVAL: Channel.DIGEST})
    services.set_channels(user=manager, channels={Kind.APPROVAL: Channel.INBOX})
    rows = services.notify(
        kind=Kind.APPROVAL,
        recipients=[finance, manager, change, change, None],
        message=Message("Approve CR-1", "A change waits", "/changes/1/"),
    )
    assert {row.recipient.username: row.delivery for row in rows} == {
        "finance": Delivery.DIGEST,
        "manager": Delivery.INBOX_ONLY,
        "change": Delivery.PENDING,
    }


def test_a_person_without_an_address_keeps_the_inbox(users):
    internal = users["internal"]
    internal.email = ""
    internal.save(update_fields=["email"])
    (row,) = services.notify(kind=Kind.TICKET, recipients=[internal], message=Message("Hello"))
    assert row.delivery == Delivery.NO_ADDRESS


def test_cost_in_a_message_to_an_external_user_is_refused_and_nothing_written(users):
    before = Notification.objects.count()
    with pytest.raises(DisclosureError, match=r"external.*'cost'"):
        services.notify(
            kind=Kind.ORDER,
            recipients=[users["manager"], users["external"]],
            message=Message("Order approved", "It will cost you 120.00 EUR a month"),
        )
    assert Notification.objects.count() == before


def test_a_message_written_per_person_tells_each_what_they_may_see(users):
    def message(user):
        if user.username == "internal":
            return Message("Order approved", "Charged at cost: 80.00 EUR a month")
        return Message("Order approved", "Price: 120.00 EUR a month")

    rows = services.notify(
        kind=Kind.ORDER, recipients=[users["internal"], users["external"]], message=message
    )
    assert [row.body for row in rows] == [
        "Charged at cost: 80.00 EUR a month",
        "Price: 120.00 EUR a month",
    ]


def test_an_unknown_kind_is_a_programming_error(users):
    with pytest.raises(ValueError):
        services.notify(kind="gossip", recipients=[users["admin"]], message=Message("x"))


def test_delivery_goes_through_a_real_smtp_server(users, smtp, settings):
    settings.SERVICEBOOK_BASE_URL = "https://servicebook.example.test"
    change = _with_email(users["change"])
    rows = services.notify(
        kind=Kind.APPROVAL,
        recipients=[change],
        message=Message("Approve change CR-9", "A storage upgrade waits", "/changes/9/"),
    )
    summary = services.deliver([row.pk for row in rows])
    assert summary == {"sent": 1, "failed": 0}
    ((_sender, recipients, content),) = smtp.wait(1)
    assert recipients == ["change@example.test"]
    assert "Subject: Approve change CR-9" in content
    assert "https://servicebook.example.test/changes/9/" in content
    row = Notification.objects.get(pk=rows[0].pk)
    assert row.delivery == Delivery.SENT and row.emailed_at is not None


def test_an_unreachable_server_leaves_the_rows_waiting_for_a_retry(users):
    change = _with_email(users["change"])
    rows = services.notify(kind=Kind.APPROVAL, recipients=[change], message=Message("x"))
    with (
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=1,
            EMAIL_TIMEOUT=2,
        ),
        pytest.raises(OSError),
    ):
        services.deliver([rows[0].pk])
    assert Notification.objects.get(pk=rows[0].pk).delivery == Delivery.PENDING


def test_one_digest_a_day_gathers_the_waiting_notifications(users):
    finance = _with_email(users["finance"])
    services.set_channels(user=finance, channels={Kind.OVERDUE_INVOICE: Channel.DIGEST})
    for number in ("INV-1", "INV-2"):
        services.notify(
            kind=Kind.OVERDUE_INVOICE,
            recipients=[finance],
            message=Message(f"Chase {number}", link=f"/finance/invoices/{number}/"),
        )
    mail.outbox.clear()
    summary = services.send_digests()
    assert summary == {"digests": 1, "notifications": 2}
    (message,) = mail.outbox
    assert message.to == ["finance@example.test"]
    assert "Chase INV-1" in message.body and "Chase INV-2" in message.body
    assert services.send_digests() == {"digests": 0, "notifications": 0}


def test_channels_refuse_unknown_values(users):
    with pytest.raises(ValueError):
        services.set_channels(user=users["admin"], channels={Kind.APPROVAL: "pigeon"})
    assert not Preference.objects.filter(user=users["admin"], channel="pigeon").exists()


def test_mark_read_touches_only_the_users_own(users):
    mine = services.notify(kind=Kind.JOB, recipients=[users["admin"]], message=Message("a"))
    theirs = services.notify(kind=Kind.JOB, recipients=[users["manager"]], message=Message("b"))
    assert services.mark_read(user=users["admin"], ids=[mine[0].pk, theirs[0].pk]) == 1
    assert Notification.objects.get(pk=theirs[0].pk).read_at is None
