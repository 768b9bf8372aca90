"""Load benchmark (issue 14): ``servicebook serve`` under Locust, every demo role at once.

    servicebook bench load [--users 50] [--seconds 60] [--workers 2]
    python benchmarks/bench_load.py --users 50 --seconds 60

On a fresh PostgreSQL database (``sb_load_<random>``, created on ``--pg-url``, dropped afterwards)
it loads the demo provider, starts ``servicebook serve`` (gunicorn, ``DEBUG=0``) on a free port
of 127.0.0.1, and probes every demo account once: the pages of its menu, the detail pages they
link to, and the API lists and details its role may read (the API root lists every endpoint; an
endpoint the role is refused is left out of its plan). Locust (benchmarks/locustfile.py, in a
child process, headless, bounded by ``--seconds``) then runs the mix with ``--users`` users, each
already signed in through the sign-in form (by the driver, ``--workers`` at a time: the password
hasher is slow on purpose, and a burst of sign-ins is not the browsing load), then the baseline:
the same mix with one user and no think time for ``--baseline-seconds``. Prints one JSON object:
``p50_ms``, ``p95_ms``, ``p99_ms``, ``requests``, ``requests_per_s``, ``errors`` and ``failures``
(each failed request with its URL and status) over the pages and API calls; the sign-in times
apart; the baseline's figures and the ratio of the two p95s. The server and Locust are stopped
on every exit (Ctrl-C included).
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOCUSTFILE = HERE / "locustfile.py"
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432"
MAX_USERS = 200
MAX_SECONDS = 600
TARGET_P95_MS = 250
WAIT_SECONDS = (0.5, 2.5)
DETAIL = re.compile(r"^/(?:[a-z0-9-]+/)+\d+/$")
LINK = re.compile(r'href="(/[^"#?]*)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SKIP = ("/static/", "/api/", "/admin/", "/login", "/logout", "/media/")
MAX_DETAILS = 40


def run(
    *,
    users: int = 50,
    seconds: int = 60,
    workers: int = 2,
    baseline_seconds: int = 10,
    pg_url: str | None = None,
) -> dict:
    """Run the whole benchmark and return its figures (see the module docstring)."""
    if not (1 <= users <= MAX_USERS and 1 <= seconds <= MAX_SECONDS):
        raise ValueError(f"--users must be 1-{MAX_USERS} and --seconds 1-{MAX_SECONDS}")
    if not 1 <= workers <= 16 or not 0 <= baseline_seconds <= 60:
        raise ValueError("--workers must be 1-16 and --baseline-seconds 0-60")
    server_url = (pg_url or os.environ.get("BENCH_PG_URL") or DEFAULT_PG).rstrip("/")
    name = f"sb_load_{secrets.token_hex(4)}"
    _admin_sql(server_url, f'CREATE DATABASE "{name}"')
    _exit_on_sigterm()
    try:
        with tempfile.TemporaryDirectory(prefix="sb-load-") as tmp:
            env = _environment(f"{server_url}/{name}", Path(tmp), workers)
            return _measure(env, Path(tmp), users, seconds, workers, baseline_seconds)
    finally:
        _admin_sql(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _exit_on_sigterm() -> None:
    """A SIGTERM unwinds like Ctrl-C, so the server, Locust and the database are cleaned up."""
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def _admin_sql(server_url: str, statement: str) -> None:
    import psycopg

    try:
        with psycopg.connect(f"{server_url}/postgres", autocommit=True) as connection:
            connection.execute(statement)
    except psycopg.Error as error:
        first_line = (str(error).strip().splitlines() or ["refused"])[0]
        raise RuntimeError(f"PostgreSQL at {server_url}: {first_line}") from None


def _environment(database_url: str, tmp: Path, workers: int) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SERVICEBOOK_VAR_DIR": str(tmp / "var"),
        "ALLOWED_HOSTS": "127.0.0.1",
        "CONN_MAX_AGE": "60",
        "WEB_CONCURRENCY": str(workers),
        "LOG_LEVEL": "WARNING",
    }
    for name in ("DJANGO_SETTINGS_MODULE", "SECURE_SSL_REDIRECT", "SECURE_COOKIES"):
        env.pop(name, None)
    return env


def _measure(env: dict, tmp: Path, users: int, seconds: int, workers: int, baseline: int) -> dict:
    servicebook = [sys.executable, "-m", "servicebook"]
    started = time.monotonic()
    demo = subprocess.run([*servicebook, "demo"], env=env, capture_output=True, text=True)
    demo_seconds = round(time.monotonic() - started, 1)
    if demo.returncode != 0:
        raise RuntimeError(f"servicebook demo failed: {demo.stderr.strip()[-300:]}")
    port = _free_port()
    log = (tmp / "serve.log").open("w")
    server = subprocess.Popen(
        [*servicebook, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for_port(port, server, tmp / "serve.log")
        started = time.monotonic()
        plan = _plan(base, workers)
        probe_seconds = round(time.monotonic() - started, 1)
        sign_ins = _sign_in_users(base, plan, users, workers)
        (tmp / "plan.json").write_text(json.dumps(plan))
        result = _figures(base, tmp, users, seconds, baseline, workers)
        result["sign_in"] = {**_timing([{"ms": ms} for ms in sign_ins]), "at_a_time": workers}
        result["setup_seconds"] = {"demo": demo_seconds, "probe": probe_seconds}
        result["plan"] = {a["username"]: _plan_sizes(a) for a in plan["accounts"]}
        return result
    finally:
        _stop(server)
        log.close()


def _figures(base: str, tmp: Path, users: int, seconds: int, baseline: int, workers: int) -> dict:
    result: dict = {
        "benchmark": "load",
        "database": "postgresql",
        "server": "gunicorn (servicebook serve, DEBUG=0)",
        "gunicorn_workers": workers,
        "users": users,
        "seconds": seconds,
        "think_time_s": list(WAIT_SECONDS),
        "target_p95_ms": TARGET_P95_MS,
    }
    result.update(summarize(_locust(base, tmp, users=users, seconds=seconds, tag="load")))
    if baseline:  # after the load, on a warm server, like the load's steady state
        one = _locust(base, tmp, users=1, seconds=baseline, tag="baseline", wait=(0, 0))
        result["baseline"] = {"users": 1, "seconds": baseline, "think_time_s": [0, 0]}
        result["baseline"] |= summarize(one)
    if baseline and result["baseline"]["p95_ms"]:
        result["p95_ratio_to_baseline"] = round(result["p95_ms"] / result["baseline"]["p95_ms"], 2)
    result["meets_target"] = result["errors"] == 0 and result["p95_ms"] < TARGET_P95_MS
    return result


# --- the server -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, server: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"servicebook serve stopped: {log.read_text()[-300:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise RuntimeError(f"servicebook serve did not listen within {timeout:.0f} s")


def _stop(process: subprocess.Popen, grace: float = 15) -> None:
    """Stop a child started in its own session, and everything it started (gunicorn workers)."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


# --- the plan: what each demo account reads -------------------------------------------------------


class Browser:
    """A cookie-keeping client of the served site (the probe before the load)."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str, *, api: bool = False) -> tuple[int, str]:
        headers = {"Accept": "application/json"} if api else {}
        request = urllib.request.Request(self.base + path, headers=headers)
        try:
            with self.opener.open(request, timeout=30) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, ""

    def cookie(self, name: str) -> str:
        return next((cookie.value or "" for cookie in self.jar if cookie.name == name), "")

    def sign_in(self, username: str, password: str) -> str:
        _, page = self.get("/login/")
        token = CSRF.search(page)
        fields = {"username": username, "password": password}
        fields["csrfmiddlewaretoken"] = token.group(1) if token else ""
        body = urllib.parse.urlencode(fields).encode()
        headers = {"Referer": self.base + "/login/"}
        request = urllib.request.Request(self.base + "/login/", data=body, headers=headers)
        with self.opener.open(request, timeout=60) as answer:
            if answer.geturl().rstrip("/").endswith("/login"):
                raise RuntimeError(f"cannot sign in as {username}")
            return answer.read().decode()


def _plan(base: str, workers: int) -> dict:
    """Probe every demo account (a few at a time): what its menu, pages and API offer it."""
    from concurrent.futures import ThreadPoolExecutor

    from servicebook.demo import DEMO_PASSWORD, DEMO_USERS

    def probe(account: tuple[str, str, str]) -> dict:
        return _probe_account(base, account[0], account[1], DEMO_PASSWORD)

    with ThreadPoolExecutor(max_workers=workers + 1) as pool:
        accounts = list(pool.map(probe, DEMO_USERS))
    return {"password": DEMO_PASSWORD, "accounts": accounts}


def _probe_account(base: str, username: str, role: str, password: str) -> dict:
    browser = Browser(base)
    home = browser.sign_in(username, password)
    pages = sorted({"/", *(link for link in _links(home) if not DETAIL.match(link))})
    details: set[str] = set()
    for page in pages:
        _, html = browser.get(page)
        details |= {link for link in _links(html) if DETAIL.match(link)}
    api_lists, api_details = _api_plan(browser)
    return {
        "username": username,
        "role": role,
        "pages": pages,
        "details": sorted(details)[:MAX_DETAILS],
        "api_lists": api_lists,
        "api_details": api_details,
    }


def _sign_in_users(base: str, plan: dict, users: int, workers: int) -> list[float]:
    """Sign in each Locust user (round-robin over the accounts) through the form, ``workers``
    at a time; its session goes into the plan. Returns the sign-in times in ms."""
    from concurrent.futures import ThreadPoolExecutor

    accounts = plan["accounts"]

    def sign_in(index: int) -> tuple[dict, float]:
        browser = Browser(base)
        started = time.perf_counter()
        browser.sign_in(accounts[index % len(accounts)]["username"], plan["password"])
        elapsed = (time.perf_counter() - started) * 1000
        return {"account": index % len(accounts), "session": browser.cookie("sessionid")}, elapsed

    with ThreadPoolExecutor(max_workers=workers) as pool:
        signed = list(pool.map(sign_in, range(users)))
    plan["users"] = [user for user, _ in signed]
    return [elapsed for _, elapsed in signed]


def _links(html: str) -> set[str]:
    return {link for link in LINK.findall(html) if not link.startswith(SKIP)}


def _api_plan(browser: Browser) -> tuple[list[str], list[str]]:
    """The API lists this account may read (200) and one readable detail of each."""
    _, root = browser.get("/api/", api=True)
    lists, details = [], []
    for url in json.loads(root or "{}").values():
        path = "/" + url.split("://", 1)[-1].split("/", 1)[-1]
        status, body = browser.get(path, api=True)
        if status != 200:
            continue
        lists.append(path)
        data = json.loads(body)
        rows = data.get("results") if isinstance(data, dict) else data
        first = rows[0] if isinstance(rows, list) and rows else None
        if isinstance(first, dict) and "id" in first:
            detail = f"{path}{first['id']}/"
            if browser.get(detail, api=True)[0] == 200:
                details.append(detail)
    return lists, details


def _plan_sizes(account: dict) -> dict:
    keys = ("pages", "details", "api_lists", "api_details")
    return {"role": account["role"], **{key: len(account[key]) for key in keys}}


# --- Locust -------------------------------------------------------------------------------------


def _locust(
    base: str, tmp: Path, *, users: int, seconds: int, tag: str, wait=WAIT_SECONDS
) -> list[dict]:
    samples = tmp / f"samples-{tag}.jsonl"
    env = {
        **os.environ,
        "SB_LOAD_PLAN": str(tmp / "plan.json"),
        "SB_LOAD_SAMPLES": str(samples),
        "SB_LOAD_WAIT": ",".join(str(s) for s in wait),
    }
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"]
    command += ["-u", str(users), "-r", str(users), "-t", f"{seconds}s"]
    command += ["--host", base, "--only-summary", "--stop-timeout", "5", "--loglevel", "ERROR"]
    log = (tmp / f"locust-{tag}.log").open("w")
    locust = subprocess.Popen(
        command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        locust.wait(timeout=seconds + 60)
    finally:
        _stop(locust)
        log.close()
    if not samples.exists():
        tail = (tmp / f"locust-{tag}.log").read_text()[-500:]
        raise RuntimeError(f"Locust wrote no samples: {tail}")
    return [json.loads(line) for line in samples.read_text().splitlines() if line]


# --- figures ------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` 0-100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 100))
    return round(ordered[int(rank) - 1], 1)


def _timing(samples: list[dict]) -> dict:
    times = [s["ms"] for s in samples]
    return {f"p{p}_ms": percentile(times, p) for p in (50, 95, 99)} | {"requests": len(samples)}


def summarize(samples: list[dict]) -> dict:
    """Figures over the pages and API calls, with every failure's URL."""
    started = min((s["at"] - s["ms"] / 1000 for s in samples), default=0)
    window = max((s["at"] for s in samples), default=started) - started
    failed = [s for s in samples if s["error"]]
    figures = _timing(samples)
    figures["requests_per_s"] = round(len(samples) / max(window, 1e-9), 1)
    figures["pages"] = sum(1 for s in samples if s["kind"] == "page")
    figures["api_calls"] = sum(1 for s in samples if s["kind"] == "api")
    figures["errors"] = len(failed)
    figures["failures"] = [
        {k: s[k] for k in ("method", "url", "status", "error", "role")} for s in failed[:50]
    ]
    figures["slowest"] = _slowest(samples)
    return figures


def _slowest(samples: list[dict], top: int = 5) -> list[dict]:
    """The routes with the highest p95 (at least 5 requests each)."""
    by_route: dict[str, list[float]] = {}
    for sample in samples:
        by_route.setdefault(sample["name"], []).append(sample["ms"])
    rows = [
        {"route": name, "requests": len(times), "p95_ms": percentile(times, 95)}
        for name, times in by_route.items()
        if len(times) >= 5
    ]
    return sorted(rows, key=lambda row: -(row["p95_ms"] or 0))[:top]


def main(argv: list[str] | None = None) -> int:
    """``python benchmarks/bench_load.py …``: the same as ``servicebook bench load …``."""
    from servicebook.cli import main as servicebook

    return servicebook(["bench", "load", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
