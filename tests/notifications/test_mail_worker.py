"""E-mail the way it runs: a notification written by one process, sent by ``servicebook worker
--burst`` in another, through a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.cli_databases import copy_sqlite
from tests.smtp import smtp_server

NOTIFY = """
from servicebook.core.models import User
from servicebook.notifications.kinds import Kind
from servicebook.notifications.services import Message, notify
from servicebook.notifications.services import set_channels
from django_tasks_db.models import DBTaskResult
people = [User.objects.create_user(name, email=f"{name}@example.test", password="x")
          for name in ("ana", "bo", "cy")]
set_channels(user=people[1], channels={Kind.APPROVAL: "digest"})
set_channels(user=people[2], channels={Kind.APPROVAL: "inbox"})
notify(kind=Kind.APPROVAL, recipients=people,
       message=Message("Change RFC-7 awaits your decision", "Storage upgrade", "/changes/7/"))
print(DBTaskResult.objects.count(), "queued")
"""

STATE = """
from servicebook.notifications.models import Notification
print(*Notification.objects.order_by("recipient__username").values_list("delivery", flat=True))
"""


def last_line(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def run(*args, env):
    return subprocess.run(
        [sys.executable, "-m", "servicebook.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_the_worker_sends_what_a_notification_queued(tmp_path, cli_templates):
    copy_sqlite(cli_templates, "migrated", tmp_path)  # the run's (tests/cli_databases.py)
    with smtp_server() as inbox:
        env = {
            **os.environ,
            "DEBUG": "1",
            "SERVICEBOOK_VAR_DIR": str(tmp_path),
            "DATABASE_URL": "",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(inbox.port),
            "DEFAULT_FROM_EMAIL": "servicebook@provider.test",
            "SERVICEBOOK_BASE_URL": "https://servicebook.provider.test",
        }
        queued = run("manage", "shell", "-c", NOTIFY, env=env)
        assert last_line(queued) == "1 queued"  # one e-mail task: ana's; bo waits, cy reads
        assert not inbox.messages  # nothing is sent inside the request
        worker = run("worker", "--burst", env=env)
        assert worker.returncode == 0, worker.stderr
        ((sender, recipients, content),) = inbox.wait(1)
    assert sender == "servicebook@provider.test" and recipients == ["ana@example.test"]
    assert "Subject: Change RFC-7 awaits your decision" in content
    assert "https://servicebook.provider.test/changes/7/" in content
    states = last_line(run("manage", "shell", "-c", STATE, env=env))
    assert states == "sent digest inbox_only"
