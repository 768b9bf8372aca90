"""Benchmark the list pages and API lists (issue 15): queries and p95 time per list at two sizes.

For each size (default 1,000 and 10,000 customers) a child process builds a throwaway SQLite
database under a temporary ``SERVICEBOOK_VAR_DIR`` (bulk inserts): every customer with a contact,
an active agreement (two lines), five tickets and an invoice (external) or a statement (internal);
one change and one demand request per ten customers. It then asks every list page (first page,
50 rows) and every API list (first page) as the provider admin, ``--repeat`` times each, and
records the number of SQL queries and the 95th percentile of the response time. A list whose
query count differs between the sizes is named in ``queries_grow``.

    python benchmarks/bench_lists.py [--sizes 1000 10000] [--repeat 20]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PERIOD = "2026-10"
TICKETS_PER_AGREEMENT = 5


def run(*, sizes: list[int], repeat: int) -> dict:
    runs = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            runs.append(_child(n, repeat, tmp))
    result: dict = {"benchmark": "lists", "database": "sqlite", "repeat": repeat, "runs": runs}
    if all("lists" in r for r in runs) and len(runs) > 1:
        first, last = runs[0]["lists"], runs[-1]["lists"]
        result["queries_grow"] = sorted(
            name for name in first if last.get(name, {}).get("queries") != first[name]["queries"]
        )
        result["flat"] = not result["queries_grow"]
    return result


def _child(n: int, repeat: int, var_dir: str) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{Path(var_dir) / 'bench.sqlite3'}",
        "SERVICEBOOK_VAR_DIR": var_dir,
        "SERVICEBOOK_USAGE_DIR": str(Path(var_dir) / "usage"),
        "DEBUG": "1",
    }
    proc = subprocess.run(
        [sys.executable, __file__, "--child", "--n", str(n), "--repeat", str(repeat)],
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        return {"customers": n, "error": tail}
    return json.loads(proc.stdout)


# --- the child: migrate, seed, measure ------------------------------------------------------------


def _seed(n: int) -> dict:
    import datetime as dt
    from decimal import Decimal as D

    from django.utils import timezone

    from servicebook.agreements.models import Agreement
    from servicebook.catalog.models import Service
    from servicebook.changes.models import ChangeRequest
    from servicebook.demand.models import DemandRequest
    from servicebook.finance.billing.bench_close import _seed as seed_agreements
    from servicebook.finance.billing.models import Invoice, Statement
    from servicebook.levels.models import Ticket
    from servicebook.parties.models import Contact

    seeded = seed_agreements(n, 2)
    agreements = list(Agreement.objects.select_related("customer"))
    contacts = Contact.objects.bulk_create(
        [
            Contact(
                customer=a.customer,
                name=f"Contact {a.customer.code}",
                email=f"{a.customer.code}@bench.example",
                is_requester=True,
            )
            for a in agreements
        ],
        batch_size=5000,
    )
    requester = {c.customer_id: c for c in contacts}
    start = timezone.now() - dt.timedelta(days=30)
    Ticket.objects.bulk_create(
        (
            Ticket(
                agreement=a,
                source="bench",
                number=f"INC{a.pk:06d}{k}",
                short_description=f"Ticket {k} of {a.reference}",
                state="Resolved" if k % 2 else "New",
                active=not k % 2,
                priority=1 + k % 4,
                opened_at=start + dt.timedelta(hours=k),
                resolved_at=start + dt.timedelta(hours=k + 3) if k % 2 else None,
            )
            for a in agreements
            for k in range(TICKETS_PER_AGREEMENT)
        ),
        batch_size=5000,
    )
    today = dt.date(2026, 11, 1)
    Invoice.objects.bulk_create(
        (
            Invoice(
                number=f"INV-{a.pk:07d}",
                period=PERIOD,
                customer=a.customer,
                agreement=a,
                currency="EUR",
                issue_date=today,
                due_date=today + dt.timedelta(days=30),
                gross=D("900.00"),
                total=D("900.00"),
                cash_amount=D("600.00"),
                in_kind_amount=D("300.00"),
                cost=D("500.00"),
            )
            for a in agreements
            if a.customer.kind == "external"
        ),
        batch_size=5000,
    )
    Statement.objects.bulk_create(
        (
            Statement(
                number=f"ST-{a.pk:07d}",
                period=PERIOD,
                customer=a.customer,
                funding_model=a.customer.funding_model,
                currency="EUR",
                total_cost=D("400.00"),
                total_charge=D("400.00"),
                recovered=D("400.00"),
                uncovered=D("0.00"),
            )
            for a in agreements
            if a.customer.kind == "internal"
        ),
        batch_size=5000,
    )
    service = Service.objects.first()
    changes = ChangeRequest.objects.bulk_create(
        ChangeRequest(reference=f"RFC-{i:06d}", title=f"Change {i}", currency="EUR")
        for i in range(max(1, n // 10))
    )
    ChangeRequest.services.through.objects.bulk_create(
        ChangeRequest.services.through(changerequest_id=c.pk, service_id=service.pk)
        for c in changes
    )
    DemandRequest.objects.bulk_create(
        DemandRequest(
            reference=f"DR-{a.pk:06d}",
            customer=a.customer,
            requester=requester[a.customer_id],
            title=f"Demand of {a.customer.name}",
            expected_outcomes="Faster work",
            required_investment=D("10000.00"),
            currency="EUR",
        )
        for a in agreements[::10]
    )
    return {
        **seeded,
        "tickets": len(agreements) * TICKETS_PER_AGREEMENT,
        "invoices": Invoice.objects.count(),
        "statements": Statement.objects.count(),
        "changes": len(changes),
        "demands": DemandRequest.objects.count(),
    }


def _lists() -> dict[str, str]:
    from django.urls import reverse

    from servicebook.agreements.models import Agreement

    busiest = Agreement.objects.order_by("pk").first()
    pages = {
        "page customers": reverse("parties:list"),
        "page agreements": reverse("agreements:list"),
        "page tickets": reverse("levels:tickets", args=[busiest.pk]),
        "page invoices": reverse("finance:invoices"),
        "page statements": reverse("finance:statements"),
        "page changes": reverse("changes:list"),
        "page demands": reverse("demand:list"),
        "page contacts": reverse("parties:contacts"),
        "page payments": reverse("finance:payments"),
        "page journal entries": reverse("finance:ledger-entries"),
        "page services": reverse("catalog:list"),
        "page improvements": reverse("improvement:list"),
        "page service levels": reverse("levels:list"),
        "export agreements csv": reverse("agreements:list") + "?_export=csv&status=draft",
        "page search": reverse("web:search") + "?q=Contact",
    }
    api = {
        f"api {name}": f"/api/{name}/"
        for name in (
            "customers",
            "contacts",
            "agreements",
            "tickets",
            "invoices",
            "statements",
            "payments",
            "changes",
            "services",
            "improvements",
            "journal-entries",
        )
    }
    api["api demands"] = "/api/demands/"
    return {**pages, **api}


def _measure(repeat: int) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from servicebook.core.models import User

    admin = User.objects.create_superuser("bench-admin", "admin@bench.example", "x")
    client = Client(SERVER_NAME="localhost")
    client.force_login(admin)
    results = {}
    for name, url in _lists().items():
        times = []
        queries = 0
        status = 0
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
            queries, status = len(captured), response.status_code
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        results[name] = {"status": status, "queries": queries, "p95_ms": round(p95, 1)}
    return results


def child_main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicebook.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    started = time.perf_counter()
    seeded = _seed(args.n)
    seed_seconds = round(time.perf_counter() - started, 1)
    lists = _measure(args.repeat)
    print(
        json.dumps(
            {"customers": args.n, "seeded": seeded, "seed_seconds": seed_seconds, "lists": lists}
        )
    )
    return 0


if __name__ == "__main__":
    if "--child" in sys.argv:
        sys.argv.remove("--child")
        sys.exit(child_main())
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    print(json.dumps(run(sizes=args.sizes, repeat=args.repeat), indent=2))
