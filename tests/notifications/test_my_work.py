"""My work: what waits for each demo user, on the page, in the badge and through the API."""

from __future__ import annotations

import pytest

from servicebook.notifications import services
from servicebook.notifications.kinds import Kind
from servicebook.notifications.models import Notification
from servicebook.notifications.services import Message
from servicebook.notifications.work import my_work

pytestmark = pytest.mark.django_db


def kinds_of(user) -> set[str]:
    return {item.kind for item in my_work(user)}


def test_every_role_has_its_own_work(users):
    assert Kind.APPROVAL in kinds_of(users["external"])  # the patches change, by contract
    assert Kind.CHANGE_TASK in kinds_of(users["internal"])  # its own regression test
    assert Kind.APPROVAL in kinds_of(users["senior"])  # a held demand to justify
    assert Kind.OVERDUE_INVOICE in kinds_of(users["finance"])  # the demo's overdue invoice
    assert Kind.OVERDUE_INVOICE not in kinds_of(users["manager"])
    assert all(item.kind != Kind.OVERDUE_INVOICE for item in my_work(users["external"]))


def test_items_come_oldest_first(users):
    for user in users.values():
        moments = [item.since for item in my_work(user)]
        assert moments == sorted(moments)


def test_a_customer_user_never_sees_another_customers_work(users):
    external = users["external"]
    names = {item.customer for item in my_work(external)} - {""}
    assert names <= {external.customer.name}
    for item in my_work(external):
        assert "Marketing" not in item.title


def test_the_page_lists_the_work_and_the_notifications(users, web_for):
    services.notify(
        kind=Kind.JOB, recipients=[users["external"]], message=Message("Import finished", link="/")
    )
    page = web_for(users["external"]).get("/my-work/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Waiting for you" in text and "Import finished" in text
    assert "Decide on change RFC-2026-0002" in text


def test_the_badge_counts_work_and_unread(users, web_for):
    client = web_for(users["finance"])
    badge = client.get("/my-work/count/").content.decode()
    waiting = (
        len(my_work(users["finance"]))
        + Notification.objects.filter(recipient=users["finance"], read_at__isnull=True).count()
    )
    assert f">{waiting}<" in badge


def test_mark_read_from_the_page(users, web_for):
    (row,) = services.notify(kind=Kind.JOB, recipients=[users["admin"]], message=Message("x"))
    client = web_for(users["admin"])
    assert client.post("/my-work/read/", {"id": row.pk}).status_code == 302
    row.refresh_from_db()
    assert row.read_at is not None
    assert client.post("/my-work/read/", {"id": "abc"}).status_code == 302


def test_settings_page_saves_a_channel(users, web_for):
    client = web_for(users["manager"])
    form = client.get("/my-work/settings/")
    assert form.status_code == 200
    data = {kind.value: "email" for kind in Kind} | {Kind.BREACH.value: "digest"}
    assert client.post("/my-work/settings/", data).status_code == 302
    from servicebook.notifications.selectors import channels_of

    assert channels_of(users["manager"])[Kind.BREACH] == "digest"
    bad = client.post("/my-work/settings/", data | {Kind.BREACH.value: "pigeon"})
    assert bad.status_code == 200 and "pigeon" in bad.content.decode()


def test_api_my_work_and_notifications_are_the_readers_own(users, client_for):
    services.notify(kind=Kind.JOB, recipients=[users["manager"]], message=Message("theirs"))
    mine = services.notify(kind=Kind.JOB, recipients=[users["finance"]], message=Message("mine"))
    api = client_for(users["finance"])
    work = api.get("/api/my-work/")
    assert work.status_code == 200 and work.json()
    listed = api.get("/api/notifications/").json()
    subjects = {row["subject"] for row in listed["results"]}
    assert "mine" in subjects and "theirs" not in subjects
    assert api.post("/api/notifications/read/", {"ids": [mine[0].pk]}, format="json").json() == {
        "marked": 1
    }


def test_api_channels(users, client_for):
    api = client_for(users["internal"])
    assert api.get("/api/notifications/channels/").json()[Kind.TICKET] == "email"
    changed = api.put("/api/notifications/channels/", {"ticket": "inbox"}, format="json")
    assert changed.status_code == 200 and changed.json()["ticket"] == "inbox"
    refused = api.put("/api/notifications/channels/", {"ticket": "pigeon"}, format="json")
    assert refused.status_code == 400 and "ticket" in refused.json()
    assert api.put("/api/notifications/channels/", [1], format="json").status_code == 400


@pytest.mark.parametrize("ids", [[2**63], [10**20], [-1], ["x"], [None]])
def test_api_read_refuses_ids_that_cannot_be_ids(users, client_for, ids):
    response = client_for(users["finance"]).post(
        "/api/notifications/read/", {"ids": ids}, format="json"
    )
    assert response.status_code == 400 and "ids" in response.json()


@pytest.mark.parametrize("body", [{"nosuch": "email"}, {"kind": "email"}, {}])
def test_api_channels_refuse_unknown_kinds_and_empty_bodies(users, client_for, body):
    from servicebook.notifications.models import Preference

    before = Preference.objects.filter(user=users["internal"]).count()
    response = client_for(users["internal"]).put(
        "/api/notifications/channels/", body, format="json"
    )
    assert response.status_code == 400
    assert Preference.objects.filter(user=users["internal"]).count() == before


def test_a_subject_is_one_line_whatever_was_typed(users):
    (row,) = services.notify(
        kind=Kind.TICKET,
        recipients=[users["manager"]],
        message=Message("New incident SS1: line1\r\nBcc: evil@example.com"),
    )
    assert row.subject == "New incident SS1: line1 Bcc: evil@example.com"
