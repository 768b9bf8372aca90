"""Issue 15, done when: a 141k-row ServiceNow import started from the page runs as a job with a
moving progress bar while the site keeps answering.

End to end, as `make run` does it: `servicebook serve` (gunicorn) and `servicebook worker` in
subprocesses on a file SQLite database with the demo; Chromium uploads a generated export of
141,000 rows (tests/data holds no such file: levels.bench writes one in the real format).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from playwright.sync_api import expect

from servicebook.levels.bench import write_servicenow_export
from tests.cli_databases import copy_sqlite

ROWS = 141_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail(f"nothing answers on port {port}")


@pytest.fixture(scope="module")
def site(tmp_path_factory, cli_templates):
    """The demo served by gunicorn with one worker process beside it, and a 141k-row export
    (the demo: a copy of the run's, made by ``servicebook demo``: tests/cli_databases.py)."""
    var = copy_sqlite(cli_templates, "demo", tmp_path_factory.mktemp("site"))
    env = {**os.environ, "DEBUG": "1", "SERVICEBOOK_VAR_DIR": str(var), "DATABASE_URL": ""}
    env.pop("TASKS_BACKEND", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    cli = [sys.executable, "-m", "servicebook.cli"]
    export = var / "incident_event_log.csv"
    written = write_servicenow_export(export, ROWS, seed=3, tz="Europe/Paris")
    port = _free_port()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    server = subprocess.Popen([*cli, "serve", "--port", str(port), "--workers", "2"], **quiet)
    worker = subprocess.Popen([*cli, "worker", "--interval", "0.2"], **quiet)
    try:
        _wait_for(port)
        yield f"http://127.0.0.1:{port}", export, written
    finally:
        for process in (worker, server):
            process.send_signal(signal.SIGTERM)
        for process in (worker, server):
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


def test_a_large_import_runs_as_a_job_with_a_moving_bar_while_the_site_answers(browser, site):
    url, export, written = site
    context = browser.new_context(base_url=url, viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto("/login/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", "servicebook-demo")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=whoami]")

    page.goto("/service-levels/import/")
    page.set_input_files("#id_file", str(export))
    page.select_option("#id_format", "servicenow")
    page.select_option("#id_agreement", "SLA-MKT-2026")
    page.fill("#id_time_zone", "Europe/Paris")
    page.click("[data-testid=import-form] button")
    page.wait_for_url("**/jobs/*/")

    other = context.new_page()  # the same user browsing elsewhere while the job runs
    seen: list[int] = []
    answers: list[tuple[str, int, float]] = []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        state = page.get_by_test_id("job-state").inner_text()
        if state in ("Succeeded", "Failed"):
            break
        if state == "Running":
            value = page.get_attribute("[role=progressbar]", "aria-valuenow")
            if value is not None and (not seen or seen[-1] != int(value)):
                seen.append(int(value))
            if len(answers) < 3:
                started = time.monotonic()
                status = other.goto("/service-levels/").status
                answers.append((state, status, time.monotonic() - started))
        time.sleep(0.2)
    expect(page.get_by_test_id("job-state")).to_have_text("Succeeded", timeout=60_000)
    assert len([v for v in seen if 0 < v < 100]) >= 2, f"the bar did not move: {seen}"
    assert seen == sorted(seen), seen
    running = [a for a in answers if a[0] == "Running"]
    assert running and all(status == 200 for _, status, _ in running), answers
    assert all(seconds < 10 for _, _, seconds in running), answers
    summary = page.get_by_test_id("job-summary")
    expect(summary).to_contain_text(f"{written}")
    expect(page.get_by_test_id("job-count-1")).to_have_text(str(written))  # rows read
    context.close()
