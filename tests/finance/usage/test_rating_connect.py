"""Rating through a Spark Connect server on loopback, the way a deployment past one machine
points Servicebook at a cluster (docs/operations.md): ``SERVICEBOOK_RATING_BACKEND=pyspark`` and
``SPARK_REMOTE=sc://host:port``.

The server is Spark's own (``spark-submit`` of ``SparkConnectServer``, from the PySpark
install), and the client runs in a process of its own: a Spark Connect client marks its whole
process as remote (``SPARK_CONNECT_MODE_ENABLED``), which would turn the other tests' local
sessions into clients too."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from servicebook.finance.usage.rating import rate
from tests.finance.usage.test_rating import PRICES, TIERS, USAGE
from tests.smtp import free_port

pytestmark = pytest.mark.spark

CLIENT = textwrap.dedent(
    """
    import sys
    import django
    import pyarrow.parquet as pq

    django.setup()
    from servicebook.finance.usage.backends import rating_backend
    from servicebook.finance.usage.rating import rate

    usage, prices, tiers, out = sys.argv[1:]
    con = rating_backend()
    assert type(con._session).__module__.startswith("pyspark.sql.connect"), type(con._session)
    lines = rate(con, usage, pq.read_table(prices), pq.read_table(tiers), "2024-09")
    pq.write_table(lines, out)
    """
)


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def connect_server(tmp_path_factory):
    """A Spark Connect server on 127.0.0.1, local[2], in the UTC time zone."""
    pyspark = pytest.importorskip("pyspark")
    pytest.importorskip("grpc")  # the Connect client's transport (pyspark[connect])
    home = Path(pyspark.__file__).parent
    port = free_port()
    log = tmp_path_factory.mktemp("spark-connect") / "server.log"
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1"}
    args = [
        str(home / "bin" / "spark-submit"),
        "--master",
        "local[2]",
        "--class",
        "org.apache.spark.sql.connect.service.SparkConnectServer",
        *("--conf", f"spark.connect.grpc.binding.port={port}"),
        *("--conf", "spark.connect.grpc.binding.address=127.0.0.1"),
        *("--conf", "spark.sql.session.timeZone=UTC"),
        *("--conf", "spark.ui.enabled=false"),
        *("--conf", "spark.sql.shuffle.partitions=2"),
        "spark-internal",
    ]
    with log.open("w") as out:
        server = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not _listening(port):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Spark Connect server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield f"sc://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def test_rating_through_spark_connect_gives_duckdb_s_lines(connect_server, tmp_path):
    """The close's own backend choice (``rating_backend``) with ``SPARK_REMOTE`` set rates
    Parquet usage on the server: Spark reduces the records, the client prices them, and the
    lines are DuckDB's to the cent."""
    (tmp_path / "usage").mkdir()
    pq.write_table(USAGE, tmp_path / "usage" / "part-0.parquet")
    pq.write_table(PRICES, tmp_path / "prices.parquet")
    pq.write_table(TIERS, tmp_path / "tiers.parquet")
    out = tmp_path / "lines.parquet"
    env = {
        **os.environ,
        "SERVICEBOOK_RATING_BACKEND": "pyspark",
        "SPARK_REMOTE": connect_server,
        "DJANGO_SETTINGS_MODULE": os.environ.get(
            "DJANGO_SETTINGS_MODULE", "servicebook.config.settings"
        ),
    }
    glob = str(tmp_path / "usage" / "*.parquet")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            CLIENT,
            glob,
            *(str(tmp_path / f) for f in ("prices.parquet", "tiers.parquet", "lines.parquet")),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = pq.read_table(out)
    assert lines.to_pylist() == rate("duckdb", USAGE, PRICES, TIERS, "2024-09").to_pylist()
