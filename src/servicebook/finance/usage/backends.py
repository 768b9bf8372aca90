"""Where usage lives and which engine rates it, from the settings: the usage store
(``SERVICEBOOK_USAGE_DIR``), its mirror in object storage (``SERVICEBOOK_USAGE_URL``) and the
rating backend (``SERVICEBOOK_RATING_BACKEND``)."""

from __future__ import annotations

import os

from django.conf import settings

from servicebook.finance.usage.store import UsageStore


def setting(name: str, default: str = "") -> str:
    return getattr(settings, name, None) or os.environ.get(name) or default


def usage_glob(store, period: str) -> str:
    """Where rating reads a month: the local store, or ``SERVICEBOOK_USAGE_URL`` (the store
    mirrored to object storage, e.g. ``s3://bucket/servicebook/usage``) when it is set. The local
    store stays the writer and says which months hold usage."""
    url = setting("SERVICEBOOK_USAGE_URL")
    if url:
        return f"{url.rstrip('/')}/period={period}/*.parquet"
    return store.parquet_glob(period)


def rating_backend():
    """The engine rating runs on: ``SERVICEBOOK_RATING_BACKEND`` = ``duckdb`` (default, embedded)
    or ``pyspark`` -- a Spark Connect server when ``SPARK_REMOTE`` is set (``sc://host:15002``),
    else the master in ``SERVICEBOOK_SPARK_MASTER`` (``spark://host:7077``, ``yarn``,
    ``local[*]``). Object storage URLs need DuckDB's httpfs (S3 credentials from the usual AWS
    environment) or Spark's s3a connector."""
    import ibis

    backend = setting("SERVICEBOOK_RATING_BACKEND", "duckdb").lower()
    if backend in ("pyspark", "spark"):
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.appName("servicebook-rating")
        if os.environ.get("SPARK_REMOTE"):
            builder = builder.remote(os.environ["SPARK_REMOTE"])
        else:
            builder = builder.master(setting("SERVICEBOOK_SPARK_MASTER", "local[*]"))
        return ibis.pyspark.connect(builder.getOrCreate())
    if backend != "duckdb":
        raise ValueError(f"SERVICEBOOK_RATING_BACKEND must be duckdb or pyspark, not {backend!r}")
    con = ibis.duckdb.connect()
    if "://" in setting("SERVICEBOOK_USAGE_URL"):
        con.raw_sql("INSTALL httpfs; LOAD httpfs;")
        con.raw_sql("CREATE OR REPLACE SECRET servicebook_s3 (TYPE s3, PROVIDER credential_chain)")
    return con


def usage_store():
    """The usage store at ``SERVICEBOOK_USAGE_DIR`` (default ``var/usage/``)."""
    return UsageStore(settings.SERVICEBOOK_USAGE_DIR)
