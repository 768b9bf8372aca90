"""``servicebook notifications``: send the daily digests, send what waits (cron)."""

from __future__ import annotations

import json


def register(sub) -> None:
    notifications = sub.add_parser("notifications", help="notification e-mail")
    what = notifications.add_subparsers(dest="what", required=True)
    digest = what.add_parser("digest", help="send the daily digest e-mails (run once a day)")
    digest.add_argument("--json", action="store_true", help="print a JSON summary")
    digest.set_defaults(func=cmd_digest)
    daily = what.add_parser(
        "daily", help="once a day: tell what fell due (overdue invoices...), then the digests"
    )
    daily.add_argument("--json", action="store_true", help="print a JSON summary")
    daily.set_defaults(func=cmd_daily)
    send = what.add_parser("send", help="e-mail every notification still waiting to be sent")
    send.add_argument("--json", action="store_true", help="print a JSON summary")
    send.set_defaults(func=cmd_send)


def _print(args, summary: dict, text: str) -> int:
    print(json.dumps(summary) if args.json else text)
    return 0


def cmd_digest(args) -> int:
    from servicebook.notifications import services

    summary = services.send_digests()
    return _print(args, summary, f"sent {summary['digests']} digest(s)")


def cmd_send(args) -> int:
    from servicebook.notifications import services
    from servicebook.notifications.kinds import Delivery
    from servicebook.notifications.models import Notification

    ids = Notification.objects.filter(delivery=Delivery.PENDING).values_list("pk", flat=True)
    summary = services.deliver(list(ids))
    return _print(args, summary, f"sent {summary['sent']}, failed {summary['failed']}")


def cmd_daily(args) -> int:
    from django.utils import timezone

    from servicebook import ports
    from servicebook.notifications import services

    today = timezone.localdate()
    told = {app: tell(today=today) for app, tell in ports.daily_notices.labelled()}
    summary = {"told": told, **services.send_digests()}
    text = ", ".join(f"{app}: {count}" for app, count in told.items())
    return _print(args, summary, f"told {text or 'nothing'}; sent {summary['digests']} digest(s)")
