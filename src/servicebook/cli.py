"""The ``servicebook`` command: one entry point for people and scripts.

Every command exits non-zero with a one-line reason on bad input and prints a JSON summary with
``--json`` where it has something to summarize. Django is set up lazily, after the arguments are
parsed, so ``servicebook --help`` works without a database.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Sequence

EXIT_BAD_INPUT = 2


class CommandError(Exception):
    """A one-line reason the command cannot do what was asked."""


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line instead of usage + error."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def port_number(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"port must be a number from 1 to 65535, not {value!r}"
        ) from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be a number from 1 to 65535, not {port}")
    return port


def setup_django(*, check_database: bool = True) -> None:
    """Configure Django from the environment; fail in one line if settings or database are bad."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicebook.config.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as error:
        raise CommandError(f"configuration: {error}") from None
    if check_database:
        from django.db import connection
        from django.db.utils import OperationalError

        try:
            connection.ensure_connection()
        except OperationalError as error:
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else "refused"
            raise CommandError(
                f"cannot reach the database ({describe_database()}): {first_line}"
            ) from None


def describe_database() -> str:
    """The database in use, without its password."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    engine = db["ENGINE"].rsplit(".", 1)[-1]
    if engine == "sqlite3":
        return f"sqlite {db['NAME']}"
    return f"{engine} {db.get('HOST') or 'localhost'}:{db.get('PORT') or 'default'}/{db['NAME']}"


def migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


class Progress:
    """The progress callback of a long command: ``progress(done, total=None, message="")``.

    Nothing is shown for work done within a second. Past that, a ``rich`` progress bar when the
    output is a terminal, plain lines on stderr otherwise (one each tenth of the way, so logs
    stay short and ``--json`` output stays clean). Use it as a context manager.
    """

    AFTER_SECONDS = 1.0

    def __init__(self, description: str, *, stream=None, tty: bool | None = None):
        self.description = description
        self.stream = stream or sys.stderr
        self.tty = sys.stdout.isatty() if tty is None else tty
        self.started = time.monotonic()
        self.bar = None
        self.task = None
        self.last_tenth = -1

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()

    def __call__(self, done: int, total: int | None = None, message: str = "") -> None:
        if time.monotonic() - self.started < self.AFTER_SECONDS:
            return
        if self.tty:
            self._bar(done, total, message)
            return
        tenth = int(10 * done / total) if total else -1
        if tenth != self.last_tenth or not total:
            self.last_tenth = tenth
            share = f" {100 * done // total}%" if total else f" {done}"
            print(f"{self.description}:{share} {message}".rstrip(), file=self.stream, flush=True)

    def _bar(self, done: int, total: int | None, message: str) -> None:
        if self.bar is None:
            from rich.progress import Progress as Bar

            self.bar = Bar(transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.description, total=total)
        label = f"{self.description} · {message}" if message else None
        self.bar.update(self.task, completed=done, total=total, description=label)


# --- commands -----------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    setup_django()
    migrate()
    from servicebook.demo import DEMO_PASSWORD, DEMO_USERS, load_demo

    summary = load_demo(reset=args.reset)
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
        return 0
    if summary["loaded"]:
        print(f"Loaded the demo provider into {describe_database()}.")
    else:
        print("The demo provider is already loaded (use --reset to load it afresh).")
    print(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for username, role, description in DEMO_USERS:
        print(f"  {username:<10} {role:<18} {description}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    setup_django()
    from django.conf import settings

    from servicebook.web.server import run_server

    with socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((args.host, args.port))
        except OSError as error:
            raise CommandError(
                f"cannot listen on {args.host}:{args.port}: {error.strerror}"
            ) from None
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise CommandError(
            "the database is not migrated: run `servicebook demo` or "
            "`servicebook manage migrate` first"
        )
    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
    # The checks above opened a connection in this (master) process. gunicorn forks the workers
    # from it (preload_app): an inherited socket would be shared by every worker, and with
    # CONN_MAX_AGE kept open, so two customers' queries could cross. Close it before forking.
    from django.db import connections

    connections.close_all()
    print(
        f"Servicebook on http://{args.host}:{args.port}/ "
        f"(gunicorn, {args.workers} workers, {describe_database()}, DEBUG={settings.DEBUG})",
        flush=True,
    )
    run_server(host=args.host, port=args.port, workers=args.workers)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Run background jobs (decision 0015): forever, or with ``--burst`` what is queued."""
    setup_django()
    from django.core.management import call_command
    from django.db import DatabaseError

    from servicebook.core import jobs

    try:
        interrupted = jobs.recover_interrupted()
    except DatabaseError as error:
        first_line = (str(error).strip().splitlines() or ["refused"])[0]
        raise CommandError(
            f"the database is not ready for jobs ({first_line}): run `servicebook demo` or "
            "`servicebook manage migrate` first"
        ) from None
    if interrupted:
        print(f"{interrupted} job(s) left running by a stopped worker marked failed.", flush=True)
    if not args.burst:
        print(f"Servicebook worker on {describe_database()} (Ctrl-C stops).", flush=True)
    try:
        call_command(
            "db_worker",
            batch=args.burst,
            interval=args.interval,
            reload=False,
            startup_delay=False,
            queue_name="*",
            verbosity=0 if args.burst else 1,
        )
    except DatabaseError as error:
        first_line = (str(error).strip().splitlines() or ["refused"])[0]
        raise CommandError(f"the database refused the worker: {first_line}") from None
    except SystemExit as stop:  # the worker's own Ctrl-C handling
        return int(stop.code or 0)
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    setup_django(check_database=False)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["servicebook manage", *args.rest])
    return 0


# --- parser -------------------------------------------------------------------------------------


def app_commands() -> list:
    """Each domain app's commands (``servicebook.ports.Commands``), in layer order, offered from
    its ``AppConfig.ready()``: ``register(sub)`` adds top-level commands, ``register_import(sub)``
    ``servicebook import …`` ones, ``register_bench(sub)`` ``servicebook bench …`` ones.
    Handlers take the parsed args, return an exit code and raise ``CommandError`` for a one-line
    refusal. Django is set up (without touching the database) so the apps can plug in."""
    setup_django(check_database=False)
    from servicebook import ports

    return ports.cli_commands.parts()


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="servicebook",
        description="Servicebook: the system an IT service provider runs its customers on.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    demo = sub.add_parser("demo", help="migrate the database and load the demo provider")
    demo.add_argument("--reset", action="store_true", help="erase all data and load it afresh")
    demo.add_argument("--json", action="store_true", help="print a JSON summary")
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="run the web app with a production server (gunicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=port_number, default=8000)
    serve.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", 2)))
    serve.set_defaults(func=cmd_serve)

    from servicebook import cli_init

    cli_init.register(sub)

    worker = sub.add_parser("worker", help="run background jobs (imports, closes) as they come")
    worker.add_argument(
        "--burst", action="store_true", help="run what is queued, then exit (tests, cron)"
    )
    worker.add_argument(
        "--interval", type=float, default=1.0, help="seconds between looks at the queue (1)"
    )
    worker.set_defaults(func=cmd_worker)

    manage = sub.add_parser("manage", help="run a Django management command", add_help=False)
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)

    imports = sub.add_parser("import", help="import data files (tickets, usage…)")
    import_sub = imports.add_subparsers(dest="what", required=True, parser_class=OneLineParser)
    bench = sub.add_parser("bench", help="run a benchmark and print one JSON object")
    bench_sub = bench.add_subparsers(dest="what", required=True, parser_class=OneLineParser)
    for commands in app_commands():
        for register, target in (
            (commands.register, sub),
            (commands.register_import, import_sub),
            (commands.register_bench, bench_sub),
        ):
            if register is not None:
                register(target)
    from servicebook import cli_master

    cli_master.register_import(import_sub)
    from servicebook.web import cli as web_cli

    web_cli.register_bench(bench_sub)  # bench load and bench pages
    return parser


#: Commands that work without a provider: (command, subcommand); ``*`` matches every subcommand.
WITHOUT_PROVIDER = {("demo", None), ("serve", None), ("manage", None), ("bench", "*")}
WITHOUT_PROVIDER |= {("worker", None), ("init", None)}
WITHOUT_PROVIDER |= {("demand", "npv")}


def needs_provider(args: argparse.Namespace) -> bool:
    what = getattr(args, "what", None)
    return not ({(args.command, what), (args.command, "*")} & WITHOUT_PROVIDER)


def require_provider() -> None:
    """Refuse in one line when the database is not migrated or no provider is set up yet."""
    setup_django()
    from django.db import DatabaseError

    from servicebook.parties.models import Provider

    try:
        exists = Provider.objects.exists()
    except DatabaseError:
        raise CommandError(
            "the database is not migrated: run `servicebook demo` or "
            "`servicebook manage migrate` first"
        ) from None
    if not exists:
        raise CommandError(
            "no provider is set up yet: run `servicebook demo` (or create one in the admin) first"
        )


def print_json(data) -> None:
    """Print a JSON summary (Decimals and dates as strings)."""
    print(json.dumps(data, indent=2, default=str))


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
    except CommandError as error:
        print(f"servicebook: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    from django.core.exceptions import ImproperlyConfigured, ObjectDoesNotExist, ValidationError

    from servicebook.core.errors import DomainError

    try:
        if needs_provider(args):
            require_provider()
        return func(args)
    except (CommandError, DomainError, ObjectDoesNotExist, ImproperlyConfigured) as error:
        return refuse(args, str(error))
    except ValidationError as error:
        return refuse(args, "; ".join(error.messages))
    except KeyboardInterrupt:
        return 130


def refuse(args: argparse.Namespace, reason: str) -> int:
    """Print the one-line reason a command refused, on stderr; the exit code for bad input."""
    command = " ".join(filter(None, [args.command, getattr(args, "what", None)]))
    reason = " ".join(reason.split()) or "refused"
    print(f"servicebook {command}: {reason}", file=sys.stderr)
    return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
