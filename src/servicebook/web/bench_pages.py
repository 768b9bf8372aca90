"""``servicebook bench pages``: every list page, detail page and API list at scale (issue 14).

For each size (the ``--baseline`` and the ``--customers`` count) a child process builds a
throwaway SQLite database under a temporary ``SERVICEBOOK_VAR_DIR`` (bulk inserts, see
:mod:`servicebook.web.bench_seed`: 100 tickets, ten invoices or statements and a year of ledger
entries a customer). It then asks, as the provider admin and as a user of an external and of an
internal customer, every page the URL conf offers without arguments (the lists), one object of
every detail page (picked through the view's own queryset, so one the user may see) and every API
list (first page), once untimed and then ``--repeat`` times, recording the SQL query count and
the 95th percentile of the response time (steady state: a served process pays a page's first,
cold request once). Pages and API lists are discovered, not listed: a new one is measured.

The JSON: ``p95_ms_max`` and ``slowest`` over the answered (200) pages of the target size,
``queries_grow`` (pages whose query count differs between the two sizes), ``seed_seconds``
per run and each run's per-page figures. Before the pages are asked, relationship health is
ranked and kept as the worker and the nightly ``servicebook improvement rank`` keep it (the
health pages read the kept ranking, decision 0030); each run's ``health_ranking_ms`` says how
long that took a period.

    servicebook bench pages [--customers 10000] [--baseline 1000] [--repeat 10]
                            [--only REGEX] [--keep DIR]

``--only REGEX`` measures only the pages whose name (``staff page web:home``, ``external api
invoice``…) the regular expression matches. ``--keep DIR`` keeps each size's database in
``DIR/<customers>/`` and reuses it on the next run instead of seeding again (seeding 10,000
customers takes minutes); delete the folder to seed afresh.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from servicebook.core.benchdb import start_database

TARGET_MS = 300
#: URL names left out of the lists: sign-in, forms that create or import, htmx fragments, files.
SKIP = re.compile(
    r"login|logout|sso|create|:new|import|first-run|count$|mark-read|focus-export|propose"
    r"|api-schema|api-docs|api-redoc|attach|download|export|ics|pdf|csv|ubl|facturx|xml"
)
#: Pages that need a query to show anything, with a typical one.
QUERIES = {"web:search": "?q=Contact"}
#: Lists of one object's children, by the detail route of the parent whose pk their URL takes.
CHILDREN_OF = {"levels:tickets": "agreements:detail"}


def register_bench(sub) -> None:
    pages = sub.add_parser(
        "pages", help="time every list, detail page and API list at scale, as staff and customers"
    )
    pages.add_argument("--customers", type=_positive, default=10_000, help="customers (10,000)")
    pages.add_argument(
        "--baseline", type=_positive, default=1_000, help="size to compare query counts with"
    )
    pages.add_argument("--repeat", type=_positive, default=10, help="requests per page (10)")
    pages.add_argument(
        "--only", type=_pattern, default=None, help="measure only pages whose name matches REGEX"
    )
    pages.add_argument(
        "--keep", default=None, help="keep the databases in DIR/<customers>/ and reuse them"
    )
    pages.set_defaults(func=cmd_bench_pages)


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {value!r}")
    return int(value)


def _pattern(value: str) -> str:
    try:
        re.compile(value)
    except re.error as error:
        raise argparse.ArgumentTypeError(f"not a regular expression: {error}") from None
    return value


def cmd_bench_pages(args) -> int:
    result = run(
        customers=args.customers,
        baseline=args.baseline,
        repeat=args.repeat,
        only=args.only,
        keep=args.keep,
    )
    print(json.dumps(result, indent=2))
    return 0 if all("error" not in r for r in result["runs"]) else 1


def run(
    *, customers: int, baseline: int, repeat: int, only: str | None = None, keep: str | None = None
) -> dict:
    sizes = [baseline, customers] if baseline and baseline != customers else [customers]
    runs = []
    for n in sizes:
        if keep:
            var_dir = Path(keep) / str(n)
            var_dir.mkdir(parents=True, exist_ok=True)
            if not (var_dir / SEEDED).exists():  # never seed over a run that broke off
                (var_dir / "bench.sqlite3").unlink(missing_ok=True)
            runs.append(_child(n, repeat, str(var_dir.resolve()), only))
            continue
        with tempfile.TemporaryDirectory() as tmp:
            runs.append(_child(n, repeat, tmp, only))
    result = summarize(runs, repeat)
    if only:
        result["only"] = only
    return result


def summarize(runs: list[dict], repeat: int) -> dict:
    result: dict = {"benchmark": "pages", "database": "sqlite", "repeat": repeat}
    last = runs[-1]
    pages = last.get("pages", {})
    answered = {k: v for k, v in pages.items() if v["status"] == 200}
    slowest = max(answered, key=lambda k: answered[k]["p95_ms"], default=None)
    result["p95_ms_max"] = answered[slowest]["p95_ms"] if slowest else None
    result["slowest"] = slowest
    result["target_ms"] = TARGET_MS
    result["over_target"] = sorted(k for k, v in answered.items() if v["p95_ms"] > TARGET_MS)
    result["queries_grow"] = _grow(runs[0].get("pages", {}), pages) if len(runs) > 1 else []
    result["seed_seconds"] = {str(r["customers"]): r.get("seed_seconds") for r in runs}
    result["health_ranking_ms"] = {str(r["customers"]): r.get("health_ranking_ms") for r in runs}
    result["runs"] = runs
    return result


def _grow(first: dict, last: dict) -> list[str]:
    return sorted(
        name
        for name, figures in first.items()
        if figures["status"] == 200
        and last.get(name, {}).get("status") == 200
        and last[name]["queries"] != figures["queries"]
    )


def _child(n: int, repeat: int, var_dir: str, only: str | None = None) -> dict:
    start_database(Path(var_dir) / "bench.sqlite3")  # empty, unless a template is named
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{Path(var_dir) / 'bench.sqlite3'}",
        "SERVICEBOOK_VAR_DIR": var_dir,
        "SERVICEBOOK_USAGE_DIR": str(Path(var_dir) / "usage"),
        "DEBUG": "1",
    }
    command = [sys.executable, "-m", "servicebook.web.bench_pages", "--child", str(n)]
    command += ["--repeat", str(repeat)] + (["--only", only] if only else [])
    proc = subprocess.run(command, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        return {"customers": n, "error": tail}
    return json.loads(proc.stdout)


# --- the child: discover, measure -----------------------------------------------------------------


def _routes():
    """``(name, pattern, view class, parameter names)`` of every GET route but the admin's."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(resolver, prefix="", namespace=None):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                ns = namespace
                if entry.namespace:
                    ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
                yield from walk(entry, prefix + str(entry.pattern), ns)
            elif isinstance(entry, URLPattern) and entry.name:
                name = f"{namespace}:{entry.name}" if namespace else entry.name
                view = getattr(entry.callback, "view_class", None)
                yield name, prefix + str(entry.pattern), view, tuple(entry.pattern.converters)

    for name, pattern, view, params in walk(get_resolver()):
        if pattern.startswith(("admin/", "api/")) or SKIP.search(name):
            continue
        if view is not None and not hasattr(view, "get"):
            continue
        yield name, pattern, view, params


def _detail_object(view, name: str, user):
    """One object the view would show ``user`` (its own queryset), or None."""
    from django.test import RequestFactory
    from django.views.generic.detail import SingleObjectMixin
    from django.views.generic.edit import FormMixin

    if not isinstance(view, type) or not issubclass(view, SingleObjectMixin):
        return None
    if issubclass(view, FormMixin):  # a form on one object (edit, decide): not a page to read
        return None
    request = RequestFactory().get("/")
    request.user = user
    instance = view()
    instance.setup(request)
    try:
        return instance.get_queryset().order_by("pk").values_list("pk", flat=True).first()
    except KeyError:  # a list of one object's children, its queryset needs the URL's argument
        return None


def _parent(name: str, views: dict, user):
    return _detail_object(views.get(name), name, user)


def targets(user) -> tuple[dict[str, str], list[str]]:
    """The URLs to measure for ``user``: pages, detail pages, API lists; and the detail routes
    no object could be found for."""
    from django.urls import reverse

    urls, skipped = {}, []
    routes = list(_routes())
    views = {name: view for name, _pattern, view, _params in routes}
    for name, _pattern, view, params in routes:
        if not params:
            urls[f"page {name}"] = reverse(name) + QUERIES.get(name, "")
        elif params == ("pk",):
            found = _detail_object(view, name, user)
            if found is not None:
                urls[f"detail {name}"] = reverse(name, args=[found])
            elif name in CHILDREN_OF and (parent := _parent(CHILDREN_OF[name], views, user)):
                urls[f"page {name}"] = reverse(name, args=[parent])
            else:
                skipped.append(name)
    urls.update(api_lists())
    return urls, skipped


def api_lists() -> dict[str, str]:
    from django.urls import NoReverseMatch, reverse

    from servicebook import ports

    urls = {}
    for routes in ports.api_routes:
        for _prefix, viewset, basename in routes:
            if not hasattr(viewset, "list"):
                continue
            try:
                urls[f"api {basename}"] = reverse(f"{basename}-list")
            except NoReverseMatch:
                continue
    return urls


def measure(url: str, client, repeat: int) -> dict:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    times, queries, status = [], 0, 0
    # one request first, not timed: a served process answers a page's first request once
    # (templates compiled, lazy imports, caches filled); with 10 timed requests the p95 is the
    # slowest of them, which without this was that first request (up to 2.5 times the others)
    client.get(url)
    for _ in range(repeat):
        reset_queries()  # the log keeps 9,000 queries: a full one would count none
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        queries, status = len(captured), response.status_code
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return {"status": status, "queries": queries, "p95_ms": round(p95, 1)}


def measure_all(repeat: int, users: dict, only: str | None = None) -> tuple[dict, dict]:
    from django.test import Client

    wanted = re.compile(only) if only else None
    pages, skipped = {}, {}
    for role, user in users.items():
        client = Client(SERVER_NAME="localhost")
        client.force_login(user)
        urls, skipped[role] = targets(user)
        for name, url in urls.items():
            if wanted is None or wanted.search(f"{role} {name}"):
                pages[f"{role} {name}"] = {"url": url, **measure(url, client, repeat)}
    return pages, skipped


#: Written beside a kept database once it is seeded: what was seeded, and the users' names.
SEEDED = "seeded.json"


def _seeded_users(names: dict) -> dict:
    from servicebook.core.models import User

    return {role: User.objects.get(username=name) for role, name in names.items()}


def _rank_health() -> dict[str, int]:
    """Rank relationship health as the worker does after a change and the nightly command does
    each day (``servicebook improvement rank``): the pages read the kept ranking. Its time a
    period is a figure of its own (``health_ranking_ms``), not a page's."""
    from servicebook.improvement import ranking, selectors

    periods = [selectors.current_period(), selectors.default_period()]
    return {k.period: k.took_ms for k in ranking.rank_due(periods=periods)}


def child_main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--only", default=None)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicebook.config.settings")
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)  # refusals (403) are figures here, not news
    from django.core.management import call_command

    from servicebook.web import bench_seed

    call_command("migrate", interactive=False, verbosity=0)
    marker = Path(os.environ["SERVICEBOOK_VAR_DIR"]) / SEEDED
    if marker.exists():  # --keep: seeded by an earlier run
        kept = json.loads(marker.read_text())
        seeded, seed_seconds = kept["seeded"], kept["seed_seconds"]
        users = _seeded_users(kept["users"])
    else:
        started = time.perf_counter()
        seeded = bench_seed.seed(args.n)
        users = bench_seed.users()
        seed_seconds = round(time.perf_counter() - started, 1)
        names = {role: user.username for role, user in users.items()}
        kept = {"seeded": seeded, "seed_seconds": seed_seconds, "users": names}
        marker.write_text(json.dumps(kept))
    health_ranking_ms = _rank_health()
    from servicebook.web.server import load_and_freeze

    load_and_freeze()  # as `servicebook serve` does before it forks its workers
    pages, skipped = measure_all(args.repeat, users, args.only)
    figures = {"customers": args.n, "seeded": seeded, "seed_seconds": seed_seconds}
    figures["health_ranking_ms"] = health_ranking_ms
    print(json.dumps({**figures, "detail_skipped": skipped, "pages": pages}))
    return 0


if __name__ == "__main__":
    if "--child" in sys.argv:
        sys.argv.remove("--child")
        sys.exit(child_main())
