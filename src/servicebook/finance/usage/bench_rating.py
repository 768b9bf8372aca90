"""Rating benchmark: how fast does :func:`servicebook.finance.usage.rating.rate` rate a month?

:func:`run_rating_benchmark` generates ``n`` synthetic usage records for September 2024 (about
300 offerings, 20,000 customers, every charge model, tiers, per-customer overrides and mid-month
price changes) straight to Parquet with DuckDB -- generation streams, so memory stays bounded for
``n`` far beyond what fits in pandas -- then measures, in the same process, each the best of
``repeat`` runs (the first run of either pays one-off costs: the file cache, Ibis' compiler):

* ``seconds``: :func:`rate` on DuckDB over the Parquet files (the full rating: price checks,
  compiling the Ibis expression, the query, and the Python finishing step); the prices do not
  change between runs, so from the second run on the checked catalogue and the compiled query
  are reused (:mod:`servicebook.finance.usage.rating.compiled`), as in a service rating the
  same catalogue again: ``first_run_seconds`` is the run that did it all;
* ``bare_duckdb_seconds``: a bare DuckDB join of the same Parquet to the list prices with a
  group-by per customer and offering -- the floor any rating on this engine can reach;
* ``loop_seconds``: the per-record Python loop with :class:`decimal.Decimal` arithmetic
  (:func:`servicebook.finance.usage.rating.rate_python`) on ``loop_sample`` records, the way early
  rating engines work; ``speedup_vs_loop`` compares records per second.

Targets on a 2-core machine: ``ratio_vs_bare_duckdb`` <= 2 and >= 10 million records per second.
"""

from __future__ import annotations

import datetime as dt
import resource
import shutil
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pyarrow as pa
import pyarrow.parquet as pq

from servicebook.finance.usage.rating import PRICE_SCHEMA, TIER_SCHEMA, compiled, rate, rate_python

PERIOD = "2024-09"
N_OFFERINGS = 300
N_CUSTOMERS = 20_000
UTC = dt.UTC


def _models(offering: int) -> str:
    """Charge model of an offering: half per_unit, the rest spread over the other models."""
    k = offering % 20
    if k < 10:
        return "per_unit"
    if k < 13:
        return "graduated"
    if k < 16:
        return "volume"
    if k < 19:
        return "package"
    return "flat"


def build_prices() -> tuple[pa.Table, pa.Table]:
    """List prices for every offering, mid-month changes, overrides; and three tier sets."""
    rows: list[dict[str, Any]] = []
    jan = dt.datetime(2024, 1, 1, tzinfo=UTC)
    mid = dt.datetime(2024, 9, 16, tzinfo=UTC)
    pid = 0
    for off in range(1, N_OFFERINGS + 1):
        model = _models(off)
        price = Decimal(off % 97 + 1) / Decimal(1000)
        base = {
            "customer_id": None,
            "offering_id": off,
            "charge_model": model,
            "unit_price": None if model in {"graduated", "volume"} else price,
            "package_size": Decimal(1000) if model == "package" else None,
            "currency": "EUR" if off % 10 else "USD",
            "tier_set_id": (off % 3) + 1 if model in {"graduated", "volume"} else None,
            "unit": f"u{off}",
        }
        if off % 25 == 0:  # a price change on the 16th
            pid += 1
            rows.append({**base, "price_id": pid, "valid_from": jan, "valid_to": mid})
            pid += 1
            changed = {**base, "unit_price": price * 2 if base["unit_price"] else None}
            rows.append({**changed, "price_id": pid, "valid_from": mid, "valid_to": None})
        else:
            pid += 1
            rows.append({**base, "price_id": pid, "valid_from": jan, "valid_to": None})
    # per-customer overrides: 2,000 contract prices on per_unit offerings
    for i in range(2000):
        off = (i * 7) % N_OFFERINGS + 1
        if _models(off) != "per_unit":
            continue
        pid += 1
        rows.append(
            {
                "price_id": pid,
                "customer_id": (i * 37) % N_CUSTOMERS + 1,
                "offering_id": off,
                "valid_from": jan,
                "valid_to": None,
                "charge_model": "per_unit",
                "unit_price": Decimal("0.0005"),
                "package_size": None,
                "currency": "EUR" if off % 10 else "USD",
                "tier_set_id": None,
                "unit": f"u{off}",
            }
        )
    prices = pa.Table.from_pylist(rows, schema=PRICE_SCHEMA)
    tier_rows = []
    for ts in (1, 2, 3):
        bounds = [0, 100 * ts, 1000 * ts, 10_000 * ts]
        unit_prices = [Decimal("0.05"), Decimal("0.04"), Decimal("0.03"), Decimal("0.02")]
        for i, lo in enumerate(bounds):
            tier_rows.append(
                {
                    "tier_set_id": ts,
                    "lower_bound": Decimal(lo),
                    "upper_bound": Decimal(bounds[i + 1]) if i + 1 < len(bounds) else None,
                    "unit_price": unit_prices[i],
                }
            )
    return prices, pa.Table.from_pylist(tier_rows, schema=TIER_SCHEMA)


def generate_usage(n: int, directory: Path, chunk: int = 10_000_000) -> list[Path]:
    """Write ``n`` usage records as Parquet files of at most ``chunk`` rows (streamed by DuckDB).

    Shape: records in time order over September 2024 (as a metering pipeline appends them), in
    runs of 64 records per customer (a collector flushing one customer's meters), each customer
    using 15 of the 300 offerings; quantities 0-99.999 with three decimals.
    """
    directory.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    seconds = 30 * 86400
    files = []
    for k, lo in enumerate(range(0, n, chunk)):
        hi = min(n, lo + chunk)
        path = directory / f"part-{k:05d}.parquet"
        con.execute(
            f"""
            COPY (
              SELECT
                'r' || i::VARCHAR AS record_id,
                c AS customer_id,
                o AS offering_id,
                (((i * 7919) % 100000) / 1000)::DECIMAL(18, 6) AS quantity,
                'u' || o::VARCHAR AS unit,
                TIMESTAMPTZ '2024-09-01 00:00:00+00' + to_seconds((i * {seconds}) // {n})
                  AS start_time,
                TIMESTAMPTZ '2024-09-01 00:00:00+00' + to_seconds((i * {seconds}) // {n} + 3600)
                  AS end_time,
                'bench' AS source
              FROM (
                -- each customer uses 15 of the 300 offerings
                SELECT i, c, ((c * 13 + hash(i * 7) % 15) % {N_OFFERINGS} + 1)::BIGINT AS o
                FROM (
                  -- a collector flushes 64 records of one customer at a time
                  SELECT i, (hash(i // 64) % {N_CUSTOMERS} + 1)::BIGINT AS c
                  FROM range({lo}, {hi}) t(i)
                )
              )
            ) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)
            """
        )
        files.append(path)
    con.close()
    return files


def _generate_once(n: int, usage_dir: Path) -> float | None:
    """Generate ``n`` records into ``usage_dir`` unless a previous run left exactly those there
    (a marker file records how many); the seconds it took, None when the files were reused."""
    marker = usage_dir / "records.txt"
    if marker.exists() and marker.read_text().strip() == str(n):
        return None
    if usage_dir.exists():
        shutil.rmtree(usage_dir)
    t0 = time.perf_counter()
    generate_usage(n, usage_dir)
    marker.write_text(f"{n}\n")
    return time.perf_counter() - t0


def _bare_duckdb(glob: str, prices: pa.Table) -> float:
    con = duckdb.connect()
    list_prices = prices.filter(pa.compute.is_null(prices["customer_id"]))  # noqa: F841
    con.execute("CREATE TABLE p AS SELECT offering_id, unit_price FROM list_prices")
    t0 = time.perf_counter()
    con.sql(
        f"""
        SELECT u.customer_id, u.offering_id, sum(u.quantity * p.unit_price) AS amount, count(*)
        FROM read_parquet('{glob}') u JOIN p ON u.offering_id = p.offering_id
        GROUP BY ALL
        """
    ).to_arrow_table()
    seconds = time.perf_counter() - t0
    con.close()
    return seconds


def _spark_session():
    import os

    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = (
        SparkSession.builder.master("local[*]")
        .appName("servicebook-bench-rating")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def _bare_spark(session, glob: str, prices: pa.Table) -> float:
    """The same bare join + group-by as :func:`_bare_duckdb`, in Spark SQL over the same files,
    with the same exact types: the list prices' ``decimal(38, 10)``, as rating reads them (a
    ``double`` before 2026-12-02; no measurable difference at 20 M records)."""
    list_prices = prices.filter(pa.compute.is_null(prices["customer_id"]))
    session.createDataFrame(
        list_prices.select(["offering_id", "unit_price"])
    ).createOrReplaceTempView("p")
    session.read.parquet(glob).createOrReplaceTempView("u")
    t0 = time.perf_counter()
    session.sql(
        """
        SELECT u.customer_id, u.offering_id, sum(u.quantity * p.unit_price) AS amount, count(*)
        FROM u JOIN p ON u.offering_id = p.offering_id
        GROUP BY u.customer_id, u.offering_id
        """
    ).toArrow()
    return time.perf_counter() - t0


def _measure(backend: str, glob: str, prices, tiers, repeat: int):
    """Best-of runs of the bare baseline and of :func:`rate`, alternated on one engine."""
    session = _spark_session() if backend == "spark" else None
    bare_runs, rate_runs, lines = [], [], None
    compiled.queries.clear()  # the first run compiles, whatever ran before in this process
    compiled.catalogues.clear()
    try:
        for _ in range(max(1, repeat)):  # alternate, so that both see the same machine
            if session is not None:
                bare_runs.append(_bare_spark(session, glob, prices))
                con = ibis.pyspark.connect(session)
            else:
                bare_runs.append(_bare_duckdb(glob, prices))
                con = ibis.duckdb.connect()
            t0 = time.perf_counter()
            lines = rate(con, glob, prices, tiers, PERIOD)
            rate_runs.append(time.perf_counter() - t0)
            if session is None:
                con.disconnect()
    finally:
        if session is not None:
            session.stop()
    return lines, bare_runs, rate_runs


def run_rating_benchmark(
    n: int = 20_000_000,
    workdir: Path | None = None,
    loop_sample: int = 20_000,
    repeat: int = 3,
    backend: str = "duckdb",
) -> dict[str, Any]:
    """Generate ``n`` records, rate them on ``backend`` (duckdb or spark, local) and return the
    figures as a JSON-able dict; ``ratio`` compares with a bare join + group-by on that engine."""
    own = workdir is None
    root = Path(tempfile.mkdtemp(prefix="servicebook-bench-")) if own else Path(workdir)
    try:
        usage_dir = root / "usage"
        generate_seconds = _generate_once(n, usage_dir)
        glob = str(usage_dir / "*.parquet")
        prices, tiers = build_prices()

        # warm the file cache once so that both measurements read from memory
        duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{glob}')").fetchall()
        lines, bare_runs, rate_runs = _measure(backend, glob, prices, tiers, repeat)
        bare, seconds = min(bare_runs), min(rate_runs)

        first = pq.ParquetFile(next(iter(sorted(usage_dir.glob("*.parquet")))))
        sample = first.read_row_group(0).slice(0, loop_sample)
        t0 = time.perf_counter()
        rate_python(sample, prices, tiers, PERIOD)
        loop_seconds = time.perf_counter() - t0

        records_per_s = n / seconds
        loop_rate = sample.num_rows / loop_seconds if loop_seconds else float("inf")
        rated = lines.filter(pa.compute.equal(lines["status"], "rated"))
        return {
            "backend": backend,
            "records": n,
            "charge_lines": lines.num_rows,
            "rated_amount": str(pa.compute.sum(rated["amount"]).as_py()),
            "generate_seconds": None if generate_seconds is None else round(generate_seconds, 3),
            "seconds": round(seconds, 3),
            "records_per_s": round(records_per_s),
            "baseline_seconds": round(bare, 3),
            "ratio": round(seconds / bare, 3),
            f"bare_{backend}_seconds": round(bare, 3),
            f"ratio_vs_bare_{backend}": round(seconds / bare, 3),
            # the first run compiles the query; the next reuse it (prices unchanged)
            "first_run_seconds": round(rate_runs[0], 3),
            "runs": {
                "rating_seconds": [round(s, 3) for s in rate_runs],
                f"bare_{backend}_seconds": [round(s, 3) for s in bare_runs],
            },
            "loop_records": sample.num_rows,
            "loop_seconds": round(loop_seconds, 3),
            "loop_records_per_s": round(loop_rate),
            "speedup_vs_loop": round(records_per_s / loop_rate, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    finally:
        if own:
            shutil.rmtree(root, ignore_errors=True)
