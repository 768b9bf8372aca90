"""Finance commands: ``close-period``, ``credit-note``, ``ledger verify|export``,
``export focus|invoice``, ``import costs``, ``import usage``, ``rates import``, ``bench close``,
``bench rating``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from servicebook.cli import CommandError, Progress, print_json, setup_django
from servicebook.core.periods import PeriodError, check_period


def period_arg(value: str) -> str:
    try:
        return check_period(value)
    except PeriodError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def register(sub) -> None:
    close = sub.add_parser("close-period", help="close a month: statements, invoices, ledger")
    close.add_argument("period", type=period_arg, help="YYYY-MM")
    close.add_argument(
        "--dry-run", action="store_true", help="show what would happen, change nothing"
    )
    close.add_argument(
        "--earlier-reason",
        default="",
        metavar="TEXT",
        help="why a month earlier than one already closed is closed now (required then)",
    )
    close.add_argument("--json", action="store_true", help="print a JSON summary")
    close.set_defaults(func=cmd_close_period)

    note = sub.add_parser(
        "credit-note", help="credit all or part of an invoice (its own CN number, posted)"
    )
    note.add_argument("invoice", help="the invoice's number, e.g. INV-2026-00012")
    note.add_argument("--amount", required=True, help="amount credited, excluding tax")
    note.add_argument("--reason", required=True, help="why the invoice is credited")
    note.add_argument("--date", help="issue date YYYY-MM-DD (default today; an open month)")
    note.add_argument("--json", action="store_true", help="print a JSON summary")
    note.set_defaults(func=cmd_credit_note)

    ledger = sub.add_parser("ledger", help="the double-entry ledger")
    ledger_sub = ledger.add_subparsers(dest="what", required=True, parser_class=sub._parser_class)
    verify = ledger_sub.add_parser(
        "verify",
        help="check every ledger invariant now and record it for the ledger page (exit 1 if "
        "any fails; run it nightly)",
    )
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(func=cmd_ledger_verify)
    export = ledger_sub.add_parser("export", help="write the journal as CSV for the ERP")
    export.add_argument("--period", type=period_arg)
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    export.add_argument("--json", action="store_true")
    export.set_defaults(func=cmd_ledger_export)

    exports = sub.add_parser("export", help="export files for other tools (FOCUS, e-invoices)")
    exports_sub = exports.add_subparsers(dest="what", required=True, parser_class=sub._parser_class)
    focus = exports_sub.add_parser(
        "focus", help="a customer's charges of a month as FOCUS 1.2 (CSV or Parquet)"
    )
    focus.add_argument("--customer", required=True, metavar="REF", help="customer code")
    focus.add_argument("--period", required=True, type=period_arg, help="YYYY-MM")
    focus.add_argument("--format", required=True, choices=["csv", "parquet"])
    focus.add_argument("--output", "-o", help="file to write (default: standard output)")
    focus.add_argument("--json", action="store_true", help="print a JSON summary (with -o)")
    focus.set_defaults(func=cmd_export_focus)

    invoice = exports_sub.add_parser(
        "invoice", help="an invoice or credit note as PDF, UBL (Peppol BIS 3.0) or Factur-X"
    )
    invoice.add_argument("number", help="INV-YYYY-NNNNN or CN-YYYY-NNNNN")
    invoice.add_argument("--format", required=True, choices=["pdf", "ubl", "facturx"])
    invoice.add_argument("--output", "-o", help="file to write (default: standard output)")
    invoice.add_argument(
        "--vat-rate",
        default=None,
        help="invoice currency → the issuer's national currency, for the VAT in it (BT-6); "
        "default: the ECB reference rate of the issue date",
    )
    invoice.add_argument("--json", action="store_true", help="print a JSON summary")
    invoice.set_defaults(func=cmd_export_invoice)

    rates = sub.add_parser("rates", help="exchange rates (ECB reference rates)")
    rates_sub = rates.add_subparsers(dest="what", required=True, parser_class=sub._parser_class)
    rates_import = rates_sub.add_parser(
        "import", help="import an ECB reference rate CSV (eurofxref.csv or eurofxref-hist.csv)"
    )
    rates_import.add_argument("file")
    rates_import.add_argument("--json", action="store_true", help="print a JSON summary")
    rates_import.set_defaults(func=cmd_rates_import)


def register_import(sub) -> None:
    costs = sub.add_parser("costs", help="import cost pools (TBM categories) from CSV")
    costs.add_argument("file")
    costs.add_argument("--period", type=period_arg, help="only rows of this period")
    costs.add_argument("--json", action="store_true")
    costs.set_defaults(func=cmd_import_costs)

    usage = sub.add_parser(
        "usage", help="import metered usage (csv) or a FOCUS cloud bill (focus) into the store"
    )
    usage.add_argument("file", help="CSV or Parquet file")
    usage.add_argument("--format", required=True, choices=["csv", "focus"])
    usage.add_argument(
        "--period", type=period_arg, help="accept only records of this month (YYYY-MM)"
    )
    usage.add_argument("--source", default="", help="where the file comes from (kept with it)")
    usage.add_argument(
        "--cost",
        choices=["EffectiveCost", "BilledCost"],
        default="EffectiveCost",
        help="focus: the cost column charged to customers (default EffectiveCost)",
    )
    usage.add_argument(
        "--shared",
        choices=["separate", "spread"],
        default="separate",
        help="focus: report the unallocated pool separately (default) or spread it",
    )
    usage.add_argument(
        "--exchange-rate",
        default=None,
        help="focus: bill currency → statement currency, when they differ (e.g. 0.92); "
        "default: the reference rate of each billed month's last day",
    )
    usage.add_argument(
        "--offering", default=None, help="focus: offering code cloud cost is charged under"
    )
    usage.add_argument("--json", action="store_true")
    usage.set_defaults(func=cmd_import_usage)


def register_bench(sub) -> None:
    bench = sub.add_parser("close", help="time a period close of N customers (20 lines each)")
    bench.add_argument("--n", type=int, default=10_000, help="customers (default 10,000)")
    bench.add_argument("--lines", type=int, default=20, help="lines per customer (default 20)")
    bench.add_argument(
        "--database",
        "--backend",
        dest="backend",
        choices=["sqlite", "postgres", "postgresql", "both"],
        default="both",
        help="database(s) to measure (default both); postgres: a throwaway sb_bench_* database",
    )
    bench.add_argument("--pg-url", default=None, help="PostgreSQL server URL (127.0.0.1:5432)")
    bench.set_defaults(func=cmd_bench_close)

    rating = sub.add_parser(
        "rating", help="rate N generated usage records on DuckDB; compare with a bare join"
    )
    rating.add_argument(
        "--records",
        "--n",
        dest="n",
        type=int,
        default=20_000_000,
        help="usage records (default 20,000,000)",
    )
    rating.add_argument(
        "--backend",
        choices=["duckdb", "spark"],
        default="duckdb",
        help="engine: embedded DuckDB (default) or a local Spark session",
    )
    rating.add_argument(
        "--loop-sample", type=int, default=20_000, help="records for the per-record Python loop"
    )
    rating.add_argument(
        "--repeat", type=int, default=3, help="runs of each measurement, the best counts"
    )
    rating.add_argument("--workdir", default=None, help="keep the generated Parquet here")
    rating.set_defaults(func=cmd_bench_rating)


def _domain(call):
    from servicebook.core.errors import DomainError

    try:
        return call()
    except DomainError as error:
        raise CommandError(error.message) from None


def cmd_close_period(args) -> int:
    setup_django()
    from servicebook.finance.billing import services

    with Progress(f"close {args.period}") as progress:
        result = _domain(
            lambda: services.close_period(
                actor=None,
                period=args.period,
                dry_run=args.dry_run,
                progress=progress,
                earlier_reason=args.earlier_reason,
            )
        )
    if args.json:
        print_json(result)
        return 0
    print(result["message"])
    if result.get("statements") is not None:
        print(
            f"  {result.get('statements', 0)} statements, {result.get('invoices', 0)} invoices, "
            f"{result.get('lines', 0)} lines"
        )
        for currency, totals in (result.get("totals") or {}).items():
            parts = ", ".join(f"{k} {v}" for k, v in totals.items())
            print(f"  {currency}: {parts}")
        for warning in result.get("warnings", []):
            print(f"  warning: {warning}")
    for doc in result.get("documents", []):
        due = f", due {doc['due_date']}" if doc["due_date"] else ""
        print(f"  {doc['number']} {doc['customer']}: {doc['currency']} {doc['total']}{due}")
    if result.get("dry_run") and result.get("later_closed"):
        print(f"  {result['later_closed']} is already closed: closing needs --earlier-reason")
    return 0


def cmd_credit_note(args) -> int:
    import datetime as dt

    setup_django()
    from servicebook.finance.billing import credit_notes
    from servicebook.finance.billing.models import Invoice

    invoice = Invoice.objects.filter(number=args.invoice.strip()).first()
    if invoice is None:
        raise CommandError(f"no invoice numbered {args.invoice!r}")
    try:
        date = dt.date.fromisoformat(args.date) if args.date else None
    except ValueError:
        raise CommandError(f"--date: {args.date!r} is not a date (YYYY-MM-DD)") from None
    note = _domain(
        lambda: credit_notes.issue_credit_note(
            actor=None, invoice=invoice, amount=args.amount, reason=args.reason, date=date
        )
    )
    summary = {
        "number": note.number,
        "invoice": invoice.number,
        "currency": note.currency,
        "net_amount": str(note.net_amount),
        "tax_amount": str(note.tax_amount),
        "total": str(note.total),
        "issue_date": note.issue_date.isoformat(),
        "entry": note.entry.number,
    }
    if args.json:
        print_json(summary)
    else:
        print(
            f"{note.number} credits {invoice.number}: {note.currency} {note.net_amount} + tax "
            f"{note.tax_amount} = {note.total}, posted as {note.entry.number}"
        )
    return 0


def cmd_ledger_verify(args) -> int:
    """Check the whole ledger now, recorded as a ledger verification job (the ledger page shows
    the last one: run it nightly from cron, docs/jobs.md); exit 1 on a violation."""
    setup_django()
    from servicebook.core import jobs
    from servicebook.core.models import JobStatus
    from servicebook.finance.job_names import VERIFY_LEDGER

    job = jobs.run_now(kind=VERIFY_LEDGER, title="Ledger verification (command line)")
    if job.status != JobStatus.SUCCEEDED:
        print(f"ledger verify: the check failed: {job.error}", file=sys.stderr)
        return 1
    result = {k: v for k, v in job.summary.items() if k not in ("link", "link_label")}
    if args.json:
        print_json(result)
    elif result["ok"]:
        print(f"ledger verified: {result['entries']} entries, {result['lines']} lines, clean")
    else:
        print(f"ledger verify: {len(result['violations'])} violation(s)", file=sys.stderr)
        for violation in result["violations"]:
            print(f"  {violation}", file=sys.stderr)
    return 0 if result["ok"] else 1


def cmd_ledger_export(args) -> int:
    setup_django()
    from servicebook.finance.ledger.export import journal_csv
    from servicebook.finance.ledger.models import JournalLine

    lines = JournalLine.objects.all()
    if args.period:
        lines = lines.filter(entry__period=args.period)
    text = journal_csv(lines)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as error:
            raise CommandError(f"cannot write {args.output}: {error.strerror}") from None
        if args.json:
            print_json({"output": args.output, "lines": lines.count()})
    else:
        sys.stdout.write(text)
    return 0


def cmd_export_focus(args) -> int:
    """The same file as the page's and the API's download (``billing.selectors.focus_file``)."""
    setup_django()
    from servicebook.finance.billing import selectors
    from servicebook.parties.models import Customer

    customer = Customer.objects.filter(code=args.customer).first()
    if customer is None:
        raise CommandError(f"no customer with code {args.customer!r}")
    rows = selectors.customer_charge_rows(customer, args.period)
    content = selectors.focus_file(rows, args.format)
    if not args.output:
        if args.format == "parquet" and sys.stdout.isatty():
            raise CommandError("a Parquet file is binary: write it with --output FILE")
        sys.stdout.flush()
        sys.stdout.buffer.write(content)
        return 0
    try:
        Path(args.output).write_bytes(content)
    except OSError as error:
        raise CommandError(f"cannot write {args.output}: {error.strerror}") from None
    summary = {
        "output": args.output,
        "customer": customer.code,
        "period": args.period,
        "format": args.format,
        "lines": len(rows),
    }
    if args.json:
        print_json(summary)
    else:
        print(
            f"{customer.code} {args.period}: {len(rows)} charge line(s) as FOCUS to {args.output}"
        )
    return 0


def cmd_export_invoice(args) -> int:
    setup_django()
    from servicebook.core.money import to_decimal
    from servicebook.finance.billing.einvoice.document import EInvoiceError
    from servicebook.finance.billing.einvoice.export import CONTENT_TYPES, find_document, render

    binary = CONTENT_TYPES.get(args.format) != "application/xml"
    if not args.output and (args.json or (binary and sys.stdout.isatty())):
        # refused before the document is read or drawn (a PDF takes a second to draw)
        raise CommandError(f"{args.format} is written to a file: give --output FILE")
    obj = find_document(args.number)
    if obj is None:
        raise CommandError(f"no invoice or credit note numbered {args.number!r}")
    rate = None
    if args.vat_rate is not None:
        try:
            rate = to_decimal(args.vat_rate, field="vat-rate")
        except ValueError as error:
            raise CommandError(str(error)) from None
    try:
        file = render(obj, args.format, vat_exchange_rate=rate)
    except EInvoiceError as error:
        raise CommandError(f"{args.number} cannot be written as {args.format}: {error}") from None
    if args.output:
        try:
            Path(args.output).write_bytes(file.content)
        except OSError as error:
            raise CommandError(f"cannot write {args.output}: {error.strerror}") from None
    else:
        sys.stdout.buffer.write(file.content)
        sys.stdout.flush()
    if args.json:
        summary = {"number": obj.number, "format": args.format, "output": args.output}
        print_json({**summary, "bytes": len(file.content)})
    return 0


def cmd_import_costs(args) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"{args.file}: no such file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"{args.file}: cannot read it as UTF-8 text ({error})") from None
    setup_django()
    from servicebook.finance.costing import services

    result = _domain(lambda: services.import_cost_pools(actor=None, text=text, period=args.period))
    if args.json:
        print_json(result)
    else:
        print(
            f"read {result['read']}: imported {result['imported']}, rejected {result['rejected']}"
        )
        for reject in result["rejects"]:
            print(f"  row {reject['row']}: {reject['reason']}")
    return 0


def cmd_rates_import(args) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"{args.file}: no such file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"{args.file}: cannot read it as UTF-8 text ({error})") from None
    setup_django()
    from servicebook.finance.fx import services

    result = _domain(lambda: services.import_ecb_rates(actor=None, text=text))
    if args.json:
        print_json(result)
        return 0
    print(f"read {result['read']}: imported {result['imported']}, rejected {result['rejected']}")
    if result["first"]:
        print(f"  {result['first']} to {result['last']}: {', '.join(result['currencies'])}")
    for reject in result["rejects"][:50]:
        print(f"  row {reject['row']}, {reject['field']}: {reject['reason']}")
    return 0


def cmd_bench_close(args) -> int:
    if args.n < 1 or args.lines < 1:
        raise CommandError("--n and --lines must be positive")
    from servicebook.finance.billing import bench_close

    print_json(
        bench_close.run(
            n=args.n,
            lines=args.lines,
            backend="postgresql" if args.backend == "postgres" else args.backend,
            pg_url=args.pg_url,
        )
    )
    return 0


def cmd_import_usage(args) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"{args.file}: no such file")
    setup_django()
    from servicebook.catalog.models import Offering
    from servicebook.finance.usage import services

    offering = None
    if args.offering:
        offering = Offering.objects.filter(code=args.offering).first()
        if offering is None:
            raise CommandError(f"no offering with code {args.offering!r}")
    _, result = _domain(
        lambda: services.import_usage(
            actor=None,
            path=path,
            format=args.format,
            period=args.period,
            source=args.source,
            cost_basis=args.cost,
            shared_mode=args.shared,
            exchange_rate=args.exchange_rate,
            offering=offering,
        )
    )
    if args.json:
        print_json(result)
        return 0
    if result["already_imported"]:
        print(f"{args.file} was already imported: nothing changed")
    print(
        f"rows_read {result['rows_read']}, rows_imported {result['rows_imported']}, "
        f"rows_skipped_duplicate {result['rows_skipped_duplicate']}, "
        f"rows_rejected {result['rows_rejected']}"
    )
    for currency, total in result["totals"].items():
        print(f"  total {currency} {total}")
    for unit, total in result["quantity_totals"].items():
        print(f"  quantity {total} {unit}")
    for month, parts in result.get("allocation", {}).items():
        print(
            f"  {month} {result['cost_basis']}: total {parts['total']} = allocated "
            f"{parts['allocated']} + shared {parts['shared']} + unallocated {parts['unallocated']}"
        )
    if result["rejects"]:
        print(f"  rejects: {result['rejects']}")
    return 0


def cmd_bench_rating(args) -> int:
    if args.n < 1 or args.loop_sample < 1 or args.repeat < 1:
        raise CommandError("--n, --loop-sample and --repeat must be positive")
    from servicebook.finance.usage.bench_rating import run_rating_benchmark

    workdir = Path(args.workdir) if args.workdir else None
    print_json(
        run_rating_benchmark(
            n=args.n,
            workdir=workdir,
            loop_sample=min(args.loop_sample, args.n),
            repeat=args.repeat,
            backend=args.backend,
        )
    )
    return 0
