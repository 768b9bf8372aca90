"""`servicebook serve` on PostgreSQL: workers never share the master's database connection.

A real subprocess (gunicorn, two workers, ``preload_app``, ``CONN_MAX_AGE=60``) on a fresh
PostgreSQL database created here with the demo loaded. Right after start, concurrent
``GET /api/agreements/`` from several customers' tokens: every answer is 200 and holds only the
caller's agreements. A connection opened in the master before forking (the "is it migrated?"
check) was shared by both workers: answers crossed between customers, or failed with 500.
Runs in ``make test-postgres``; skipped when DATABASE_URL is not PostgreSQL.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit, urlunsplit

import pytest

DATABASE_URL = os.environ.get("DATABASE_URL", "")
pytestmark = [
    pytest.mark.postgres,  # its own database: kept by --database-tests-only
    pytest.mark.skipif(
        not DATABASE_URL.startswith(("postgres://", "postgresql://")),
        reason="needs PostgreSQL (DATABASE_URL=postgres://…; run by make test-postgres)",
    ),
]

REQUESTS_PER_ROUND = 60
THREADS = 20
ROUNDS = 2  # starts of the server, each hit at once

#: Extra customer users with API tokens, made in the new database; prints {token: customer_id}.
MAKE_TOKENS = """
import json
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from servicebook.agreements.models import Agreement
from servicebook.core.models import User
from servicebook.core.roles import Role
tokens = {}
customers = {a.customer for a in Agreement.objects.select_related("customer")}
for customer in sorted(customers, key=lambda c: c.pk)[:4]:
    role = Role.INTERNAL_CUSTOMER if customer.kind == "internal" else Role.EXTERNAL_CUSTOMER
    user = User.objects.create_user(f"serve-{customer.code}", customer=customer)
    user.groups.add(Group.objects.get(name=role.value))
    tokens[Token.objects.create(user=user).key] = customer.pk
print(json.dumps(tokens))
"""


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin_connection():
    import psycopg

    return psycopg.connect(_with_database(DATABASE_URL, "postgres"), autocommit=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _servicebook(*args: str, env: dict, timeout: int = 180) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "servicebook", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


@pytest.fixture(scope="module")
def served_database(tmp_path_factory):
    """A fresh PostgreSQL database with the demo and customer tokens; dropped afterwards."""
    name = f"sb_serve_{secrets.token_hex(4)}"
    with _admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": _with_database(DATABASE_URL, name),
        "CONN_MAX_AGE": "60",
        "SERVICEBOOK_VAR_DIR": str(tmp_path_factory.mktemp("serve-var")),
        "WEB_CONCURRENCY": "2",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    try:
        _servicebook("demo", env=env)
        made = _servicebook("manage", "shell", "-c", MAKE_TOKENS, env=env)
        tokens = json.loads(made.stdout.strip().splitlines()[-1])
        assert len(set(tokens.values())) >= 3, tokens
        yield env, tokens
    finally:
        with _admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _get(port: int, token: str):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/agreements/?page_size=500",
        headers={"Authorization": f"Token {token}", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read()[:300]
    except (OSError, ValueError) as error:
        return None, repr(error)


def _wait_for_port(port: int, server: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stdout.read()[-2000:]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail("servicebook serve did not listen within 30 s")


def test_concurrent_customers_right_after_start_each_get_only_their_own(served_database):
    env, tokens = served_database
    callers = list(tokens.items())
    for round_ in range(ROUNDS):
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "servicebook", "serve", "--port", str(port), "--workers", "2"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        try:
            _wait_for_port(port, server, time.monotonic() + 30)
            jobs = [callers[i % len(callers)] for i in range(REQUESTS_PER_ROUND)]
            with ThreadPoolExecutor(THREADS) as pool:
                statuses = pool.map(_get, [port] * len(jobs), [token for token, _ in jobs])
                answers = list(zip(jobs, statuses, strict=True))
        finally:
            server.terminate()
            try:
                server.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.communicate()
        failures = [(cid, status, body) for (_, cid), (status, body) in answers if status != 200]
        assert not failures, f"round {round_}: {len(failures)} failed, e.g. {failures[:3]}"
        for (_, customer_id), (_, body) in answers:
            seen = {agreement["customer"] for agreement in body["results"]}
            assert seen == {customer_id}, f"round {round_}: caller {customer_id} got {seen}"
