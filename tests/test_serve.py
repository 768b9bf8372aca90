"""`servicebook serve` on PostgreSQL: workers never share the master's database connection.

A real subprocess (gunicorn, two workers, ``preload_app``, ``CONN_MAX_AGE=60``) on a fresh
PostgreSQL database created here with the demo loaded. Right after start, concurrent
``GET /api/agreements/`` from several customers' tokens: every answer is 200 and holds only the
caller's agreements. A connection opened in the master before forking (the "is it migrated?"
check) was shared by both workers: answers crossed between customers, or failed with 500.
Runs in ``make test-postgres``; skipped when DATABASE_URL is not PostgreSQL.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
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


# --- past one machine: two web processes and two workers behind a reverse proxy ---------------

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SNOW = Path(__file__).resolve().parent / "data" / "tickets" / "servicenow_incidents.csv"
NGINX_CONF = """
user root;
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 256; }}
http {{
    log_format upstream '$upstream_addr $status $request';
    access_log {tmp}/access.log upstream;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    client_max_body_size 50m;
    upstream servicebook {{ server 127.0.0.1:{web1}; server 127.0.0.1:{web2}; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://servicebook;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"""


class Browser:
    """A cookie-keeping client that signs in and posts forms with their CSRF token."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def open(self, path: str, data: bytes | None = None, headers: dict | None = None):
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        with self.opener.open(request, timeout=30) as response:
            return response.status, response.geturl(), response.read().decode()

    def csrf(self, path: str) -> str:
        _, _, page = self.open(path)
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    def post(self, path: str, fields: dict, files: dict | None = None):
        fields = {"csrfmiddlewaretoken": self.csrf(path), **fields}
        boundary = secrets.token_hex(12)
        body = b""
        for name, value in fields.items():
            body += (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            ).encode()
        for name, (filename, content) in (files or {}).items():
            body += (
                (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                    f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'
                ).encode()
                + content
                + b"\r\n"
            )
        body += f"--{boundary}--\r\n".encode()
        headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Referer": self.base + path,
        }
        return self.open(path, body, headers)


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(args, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


@pytest.mark.skipif(not Path(NGINX).exists(), reason="needs nginx (make test installs it)")
def test_two_web_processes_and_two_workers_behind_a_reverse_proxy(served_database, tmp_path):
    """The deployment of docs/operations.md ("Past one machine") on one host: nginx spreads the
    requests over two ``servicebook serve`` processes that share the database (sessions, CSRF)
    and the jobs folder; a ticket import uploaded through the proxy is run by one of two
    ``servicebook worker`` processes."""
    env = {
        **served_database[0],
        "SECRET_KEY": secrets.token_urlsafe(50),  # one key for every web process
        "SERVICEBOOK_BEHIND_PROXY": "1",
        "WEB_CONCURRENCY": "1",
    }
    port, web = _free_port(), [_free_port(), _free_port()]
    env["CSRF_TRUSTED_ORIGINS"] = f"http://127.0.0.1:{port}"
    python = [sys.executable, "-m", "servicebook"]
    processes = [
        _start([*python, "serve", "--port", str(p)], env, tmp_path / f"web{p}.log") for p in web
    ]
    processes += [
        _start([*python, "worker", "--interval", "0.2"], env, tmp_path / f"worker{n}.log")
        for n in range(2)
    ]
    (tmp_path / "nginx.conf").write_text(
        NGINX_CONF.format(tmp=tmp_path, port=port, web1=web[0], web2=web[1])
    )
    processes.append(
        _start(
            [NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
            env,
            tmp_path / "nginx.log",
        )
    )
    try:
        for p in (*web, port):
            _wait_for_port(p, processes[0], time.monotonic() + 60)
        browser = Browser(f"http://127.0.0.1:{port}")
        status, landed, _ = browser.post(
            "/login/", {"username": "manager", "password": "servicebook-demo"}
        )
        assert (status, urlsplit(landed).path) != (200, "/login/"), "sign-in failed"
        for _ in range(6):  # the session holds whichever process answers
            status, landed, page = browser.open("/agreements/")
            assert status == 200 and urlsplit(landed).path == "/agreements/", landed
        status, landed, page = browser.post(
            "/service-levels/import/",
            {
                "format": "servicenow",
                "agreement": "SLA-MKT-2026",
                "time_zone": "Europe/Paris",
                "source": "",
            },
            {"file": (SNOW.name, SNOW.read_bytes())},
        )
        job = urlsplit(landed).path
        assert status == 200 and "/jobs/" in job, (landed, page[-500:])
        deadline = time.monotonic() + 120
        while "Succeeded" not in page:
            assert time.monotonic() < deadline and "Failed" not in page, page[-800:]
            time.sleep(0.5)
            _, _, page = browser.open(job)
        assert "310" in page and "306" in page  # rows read and imported
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    served = (tmp_path / "access.log").read_text().split("\n")
    answered_by = {line.split()[0] for line in served if line}
    assert answered_by == {f"127.0.0.1:{p}" for p in web}, answered_by
