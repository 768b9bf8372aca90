"""Benchmark: a period close of N customers with 20 agreement lines each, on SQLite and PostgreSQL.

Each database runs in a child process on a throwaway database (a temporary SQLite file; a
PostgreSQL database created on the server and dropped afterwards), migrated and seeded with bulk
inserts. Only the close itself (plan, documents, ledger postings, lock) is timed as
``close_seconds``; ``verify_seconds`` times ``ledger verify`` over the result.

    servicebook bench close [--n 10000] [--lines 20] [--database sqlite|postgres|both]

``seconds`` is the close, ``rerun_seconds`` closing the same period again, which must change
nothing (``rerun_noop``); ``peak_rss_mb`` is the child's peak resident memory (seed included;
``seed_peak_rss_mb`` the peak once seeded, before the close).
The PostgreSQL database is ``sb_bench_<random>`` on ``--pg-url`` (default
``postgres://postgres@127.0.0.1:5432``, or ``BENCH_PG_URL``), dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PERIOD = "2026-10"
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432"


def run(*, n: int, lines: int = 20, backend: str = "both", pg_url: str | None = None) -> dict:
    """Measure each requested backend in a child process and return one JSON-able object."""
    result: dict = {"benchmark": "close", "customers": n, "lines_per_customer": lines, "runs": []}
    backends = ["sqlite", "postgresql"] if backend == "both" else [backend]
    for name in backends:
        if name == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
                result["runs"].append(_child(url, n, lines, tmp))
        else:
            result["runs"].append(
                _postgres(pg_url or os.environ.get("BENCH_PG_URL", DEFAULT_PG), n, lines)
            )
    result["target_seconds"] = 60
    result["all_under_target"] = all(r.get("close_seconds", 1e9) < 60 for r in result["runs"])
    return _hoisted(result)


def _postgres(server: str, n: int, lines: int) -> dict:
    import psycopg

    name = f"sb_bench_{secrets.token_hex(6)}"
    try:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        return {"database": "postgresql", "error": str(error).strip().splitlines()[0]}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            return _child(f"{server}/{name}", n, lines, tmp)
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _child(url: str, n: int, lines: int, var_dir: str) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SERVICEBOOK_VAR_DIR": var_dir,
        "SERVICEBOOK_USAGE_DIR": str(Path(var_dir) / "usage"),
        "DEBUG": "1",
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "servicebook.finance.billing.bench_close",
            "--n",
            str(n),
            "--lines",
            str(lines),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        return {"database": url.split(":", 1)[0], "error": tail}
    return json.loads(proc.stdout)


def _hoisted(result: dict) -> dict:
    """With one database, its main figures at the top as well (``seconds``, ``peak_rss_mb``…)."""
    if len(result["runs"]) == 1:
        keys = ("database", "seconds", "peak_rss_mb", "rerun_seconds", "rerun_noop", "error")
        result.update({k: result["runs"][0][k] for k in keys if k in result["runs"][0]})
    return result


# --- the child: migrate, seed, close, verify -----------------------------------------------------


def _seed(n: int, lines: int) -> dict:
    """A provider with ``lines`` offerings (every charge model) and ``n`` customers, half internal
    and half external, each with an active agreement on every offering; bulk inserts."""
    import datetime as dt
    from decimal import Decimal as D

    from servicebook.agreements.models import Agreement, AgreementLine
    from servicebook.finance.billing.tax import seed_rates
    from servicebook.parties.models import Customer, Provider
    from servicebook.policy import policy_for

    provider = Provider.objects.create(name="Bench IT", base_currency="EUR", country="FR")
    seed_rates("FR")  # the home country's VAT rates, as `servicebook init` starts with
    offerings = _seed_offerings(provider, lines)
    customers = Customer.objects.bulk_create(
        [_seed_customer(provider, i) for i in range(n)], batch_size=2000
    )
    agreements = Agreement.objects.bulk_create(
        [
            Agreement(
                customer=c,
                reference=f"A-{c.code}",
                title="Bench",
                status="active",
                kind=policy_for(c).agreement_kind,
                currency="EUR",
                start_date=dt.date(2026, 1, 1),
            )
            for c in customers
        ],
        batch_size=2000,
    )
    step = max(1, 5000 // max(lines, 1))  # agreements a batch: bulk_create lists what it gets
    for start in range(0, len(agreements), step):
        AgreementLine.objects.bulk_create(
            [
                AgreementLine(
                    agreement=a,
                    offering=o,
                    quantity=D(5 + (a.pk + j) % 400),
                    unit_price=o.list_price,
                )
                for a in agreements[start : start + step]
                for j, o in enumerate(offerings)
            ],
            batch_size=5000,
        )
    return {"customers": len(customers), "agreement_lines": len(agreements) * len(offerings)}


def _seed_offerings(provider, lines: int) -> list:
    from decimal import Decimal as D

    from servicebook.catalog.models import Offering, PriceTier, Service

    service = Service.objects.create(provider=provider, code="bench", name="Bench", status="live")
    offerings = []
    for i in range(lines):
        model = ("per_unit", "graduated", "volume", "package", "flat")[i % 5]
        offerings.append(
            Offering(
                service=service,
                code=f"o{i}",
                name=f"Offering {i}",
                unit="user_month",
                charge_model=model,
                list_price=D("10") + i,
                currency="EUR",
                package_size=D(50) if model == "package" else None,
                standard_unit_cost=D("6.5") + i,
            )
        )
    offerings = Offering.objects.bulk_create(offerings)
    PriceTier.objects.bulk_create(
        PriceTier(offering=o, lower_bound=b, unit_price=p)
        for o in offerings
        if o.charge_model in ("graduated", "volume")
        for b, p in ((D(0), D("12")), (D(100), D("10")), (D(1000), D("9")))
    )
    return offerings


def _seed_customer(provider, i: int):
    """Customer ``i``: external when odd, else internal (chargeback, showback, partial)."""
    from decimal import Decimal as D

    from servicebook.parties.models import Customer

    if i % 2:
        return Customer(
            provider=provider,
            kind="external",
            name=f"External {i}",
            code=f"x{i}",
            status="active",
            legal_name=f"External {i} Ltd",
            jurisdiction="FR",
            currency="EUR",
            payment_terms_days=30,
        )
    return Customer(
        provider=provider,
        kind="internal",
        name=f"Internal {i}",
        code=f"i{i}",
        status="active",
        business_unit=f"Unit {i}",
        cost_centre=f"CC-{i}",
        funding_model=("chargeback", "showback", "partial_recovery")[i % 3],
        budget_per_period=D(5000),
    )


def _stored() -> dict[str, int]:
    """How many documents, lines and ledger rows the database holds (a rerun adds none)."""
    from servicebook.finance.billing.models import Invoice, InvoiceLine, Statement, StatementLine
    from servicebook.finance.ledger.models import JournalEntry, JournalLine

    models = (Invoice, InvoiceLine, Statement, StatementLine, JournalEntry, JournalLine)
    return {model.__name__: model.objects.count() for model in models}


def child_main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=20)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicebook.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    migrate_seconds = time.perf_counter() - started
    started = time.perf_counter()
    seeded = _seed(args.n, args.lines)
    seed_seconds = time.perf_counter() - started
    seed_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    from servicebook.finance.billing import services
    from servicebook.finance.ledger.verify import verify

    started = time.perf_counter()
    result = services.close_period(actor=None, period=PERIOD)
    close_seconds = time.perf_counter() - started
    started = time.perf_counter()
    verified = verify()
    verify_seconds = time.perf_counter() - started
    before = _stored()
    started = time.perf_counter()
    again = services.close_period(actor=None, period=PERIOD)
    rerun_seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "database": connection.vendor,
                **seeded,
                "statements": result["statements"],
                "invoices": result["invoices"],
                "document_lines": result["lines"],
                "journal_entries": result["entries"],
                "seconds": round(close_seconds, 2),
                "close_seconds": round(close_seconds, 2),
                "customers_per_second": round(args.n / close_seconds),
                "verify_seconds": round(verify_seconds, 2),
                "ledger_ok": verified["ok"],
                "rerun_seconds": round(rerun_seconds, 3),
                "rerun_changed": again["changed"],
                "rerun_noop": not again["changed"] and _stored() == before,
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "seed_peak_rss_mb": round(seed_peak, 1),
                "migrate_seconds": round(migrate_seconds, 2),
                "seed_seconds": round(seed_seconds, 2),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(child_main())
