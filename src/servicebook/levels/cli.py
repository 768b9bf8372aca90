"""``servicebook import tickets|outages``, ``servicebook bench sla`` and ``servicebook levels``."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from servicebook.cli import CommandError, Progress, print_json, setup_django

FORMATS = ("servicenow", "csv")


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, not {number}")
    return number


def register_import(sub) -> None:
    tickets = sub.add_parser(
        "tickets",
        help="import tickets (ServiceNow incident event log or generic CSV), idempotently",
    )
    tickets.add_argument("file", help="the CSV file")
    tickets.add_argument("--format", choices=FORMATS, required=True)
    tickets.add_argument(
        "--agreement", help="agreement reference for rows without an 'agreement' column"
    )
    tickets.add_argument(
        "--source", help="name of the source system (default: the format); part of the key"
    )
    tickets.add_argument(
        "--time-zone",
        default="UTC",
        help="IANA zone of timestamps without an offset (default UTC)",
    )
    tickets.add_argument(
        "--no-recompute", action="store_true", help="do not recompute attainment afterwards"
    )
    tickets.add_argument("--json", action="store_true", help="print a JSON summary")
    tickets.set_defaults(func=cmd_import_tickets)

    outages = sub.add_parser("outages", help="import outages and planned maintenance (CSV)")
    outages.add_argument("file")
    outages.add_argument("--time-zone", default="UTC")
    outages.add_argument("--json", action="store_true")
    outages.set_defaults(func=cmd_import_outages)


def register_bench(sub) -> None:
    bench = sub.add_parser("sla", help="vectorized SLA clock vs. a per-ticket day-by-day loop")
    bench.add_argument("--n", type=positive_int, default=1_000_000, help="tickets (1,000,000)")
    bench.add_argument("--loop-sample", type=positive_int, default=2_000)
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument(
        "--import-rows",
        type=int,
        default=0,
        help="also import and evaluate a synthetic ServiceNow export of this many rows "
        "(in a transaction that is rolled back; needs the demo agreements)",
    )
    bench.set_defaults(func=cmd_bench_sla)
    imports = sub.add_parser(
        "import", help="import a synthetic ServiceNow event log into a throwaway SQLite database"
    )
    imports.add_argument("--rows", type=positive_int, default=150_004, help="rows (150,004)")
    imports.add_argument("--seed", type=int, default=0)
    imports.set_defaults(func=cmd_bench_import)


def register(sub) -> None:
    levels = sub.add_parser("levels", help="service levels: recompute attainment")
    levels_sub = levels.add_subparsers(dest="what", required=True)
    recompute = levels_sub.add_parser("recompute", help="recompute attainment from history")
    recompute.add_argument("--agreement", help="one agreement reference (default: all active)")
    recompute.add_argument("--json", action="store_true")
    recompute.set_defaults(func=cmd_recompute)
    alerts = levels_sub.add_parser(
        "alerts", help="warn group owners of open tickets past 75%% of a target (run often)"
    )
    alerts.add_argument("--json", action="store_true")
    alerts.set_defaults(func=cmd_alerts)


# --- handlers ----------------------------------------------------------------------------


def _open_csv(path_text: str):
    path = Path(path_text)
    if not path.is_file():
        raise CommandError(f"cannot read {path_text}: no such file")
    from servicebook.levels.intake import CsvFile

    file = CsvFile(path)
    try:
        columns = file.reader.fieldnames
    except (UnicodeDecodeError, csv.Error) as error:
        file.close()
        raise CommandError(f"cannot read {path_text}: {error}") from None
    if not columns:
        file.close()
        raise CommandError(f"{path_text} is empty: expected a CSV header line")
    return path, file, file.reader


def _rows(reader, path_text: str):
    try:
        return list(reader)
    except (UnicodeDecodeError, csv.Error) as error:
        raise CommandError(f"cannot read {path_text}: {error}") from None


def write_rejects(rejects, columns, what: str, stem: str) -> Path:
    """The rejected rows with their reason, under VAR_DIR/rejects/."""
    from django.conf import settings

    from servicebook.core.spreadsheets import safe_row

    folder = Path(settings.VAR_DIR) / "rejects"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    path = folder / f"{what}-{stem}-{stamp}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "reason", *columns])
        for number, row, reason in rejects:
            writer.writerow(safe_row([number, reason, *(row.get(c, "") for c in columns)]))
    return path


def cmd_import_tickets(args: argparse.Namespace) -> int:
    setup_django()
    from servicebook.core.errors import DomainError
    from servicebook.levels import services
    from servicebook.levels.intake import CsvFile

    path, handle, reader = _open_csv(args.file)
    started = time.perf_counter()
    with handle, Progress(f"import {path.name}") as progress:
        try:
            result = services.import_tickets(
                actor=None,
                rows=reader,
                reread=lambda: CsvFile.rows(path),
                fmt=args.format,
                columns=reader.fieldnames,
                agreement=args.agreement,
                source=args.source,
                time_zone=args.time_zone,
                filename=str(path),
                recompute=not args.no_recompute,
                progress=progress,
                read_share=handle.share,
            )
        except DomainError as error:
            raise CommandError(error.message) from None
        except (UnicodeDecodeError, csv.Error) as error:
            raise CommandError(f"cannot read {args.file}: {error}") from None
    rejects_path = write_rejects(result.rejects, reader.fieldnames, "tickets", path.stem)
    if result.batch is not None:
        result.batch.rejects_path = str(rejects_path)
        result.batch.save(update_fields=["rejects_path"])
    summary = {
        **result.summary(),
        "rejects_path": str(rejects_path),
        "seconds": round(time.perf_counter() - started, 3),
    }
    if args.json:
        print_json(summary)
    else:
        print(
            f"Read {summary['rows_read']} rows: {summary['tickets_created']} tickets created, "
            f"{summary['tickets_updated']} updated, {summary['rows_rejected']} rows rejected "
            f"(see {rejects_path})."
        )
    return 0


def cmd_import_outages(args: argparse.Namespace) -> int:
    setup_django()
    from servicebook.core.errors import DomainError
    from servicebook.levels import services

    path, handle, reader = _open_csv(args.file)
    with handle:
        rows = _rows(reader, args.file)
        try:
            result = services.import_outages(
                actor=None,
                rows=rows,
                columns=reader.fieldnames,
                time_zone=args.time_zone,
                filename=str(path),
            )
        except DomainError as error:
            raise CommandError(error.message) from None
    rejects_path = write_rejects(result["rejects"], reader.fieldnames, "outages", path.stem)
    summary = {k: v for k, v in result.items() if k != "rejects"}
    summary["rejects_path"] = str(rejects_path)
    if args.json:
        print_json(summary)
    else:
        print(
            f"Read {summary['rows_read']} rows: {summary['outages_created']} outages created, "
            f"{summary['outages_updated']} updated, {summary['rows_rejected']} rejected."
        )
    return 0


def cmd_bench_sla(args: argparse.Namespace) -> int:
    from servicebook.levels.bench import run_sla_benchmark

    if args.import_rows < 0:
        raise CommandError("--import-rows must not be negative")
    try:
        result = run_sla_benchmark(n=args.n, loop_sample=args.loop_sample, seed=args.seed)
    except ValueError as error:
        raise CommandError(str(error)) from None
    if args.import_rows:
        setup_django()
        from servicebook.levels.bench_import import run_import_benchmark

        try:
            result["servicenow_import"] = run_import_benchmark(args.import_rows, seed=args.seed)
        except LookupError as error:
            raise CommandError(str(error)) from None
    print_json(result)
    return 0


def cmd_bench_import(args: argparse.Namespace) -> int:
    from servicebook.levels.bench_import import run

    print_json(run(rows=args.rows, seed=args.seed))
    return 0


def cmd_recompute(args: argparse.Namespace) -> int:
    setup_django()
    from servicebook.agreements.models import Agreement
    from servicebook.levels import services
    from servicebook.levels.selectors import resolve_agreement

    if args.agreement:
        agreement = resolve_agreement(args.agreement)
        if agreement is None:
            raise CommandError(f"unknown agreement {args.agreement!r}")
        agreements = [agreement]
    else:
        agreements = list(Agreement.objects.filter(status="active").order_by("reference"))
    summary = []
    for agreement in agreements:
        rows = services.recompute_attainment(
            actor=None, agreement=agreement, reason="servicebook levels recompute"
        )
        summary.append(
            {
                "agreement": agreement.reference,
                "periods": len({r.period for r in rows}),
                "breaches": sum(1 for r in rows if r.met is False),
            }
        )
    if args.json:
        print_json({"agreements": summary})
    else:
        for item in summary:
            print(f"{item['agreement']}: {item['periods']} periods, {item['breaches']} breaches")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use the servicebook command")


def cmd_alerts(args) -> int:
    from servicebook.levels.alerts import warn_at_risk

    summary = warn_at_risk()
    print(json.dumps(summary) if args.json else f"warned {summary['warned']} ticket owner(s)")
    return 0
