"""Browser tests: Playwright for Python driving Debian's Chromium against a live server.

The live server runs in a thread of the test process with the demo provider loaded; screenshots go
to tests/browser/screenshots/ (git-ignored).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.browser.pagecheck import PageChecker

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"
#: Whether a page that fails the layout or accessibility check fails its test (pagecheck.py);
#: PAGECHECK_REPORT=FILE writes the findings to FILE instead.
ENFORCE_PAGECHECK = True

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the test
# itself are synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run `make chromium` (apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def demo(transactional_db, django_db_setup, settings, tmp_path):
    """The demo, restored from the run's copy (the previous test emptied the database), with
    fresh files (usage store, rejects, exports): see tests/demo_db.py."""
    settings.VAR_DIR = tmp_path
    settings.SERVICEBOOK_USAGE_DIR = tmp_path / "usage"
    # background jobs (imports, closes) run inline, in the request that starts them
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.SERVICEBOOK_JOBS_DIR = tmp_path / "jobs"
    django_db_setup.restore(tmp_path)


@pytest.fixture(scope="session")
def checked_routes() -> set:
    """(user, route) pairs whose page was checked in this run (tests/browser/pagecheck.py)."""
    return set()


@pytest.fixture
def page_checker(live_server, checked_routes):
    SCREENSHOTS.mkdir(exist_ok=True)
    return PageChecker(base_url=live_server.url, screenshots=SCREENSHOTS, done=checked_routes)


@contextmanager
def checked_tab(browser, base_url: str, page_checker):
    """A tab at 1400 px; every page of the site it opens is checked for layout at 1400 and 390 px
    and for accessibility when the test ends (or signs in as someone else): pagecheck.py."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on(
        "framenavigated",
        lambda frame: frame == page.main_frame and page_checker.visited(frame.url),
    )
    yield page
    page_checker.check(context)
    context.close()
    if page_checker.findings and os.environ.get("PAGECHECK_REPORT"):
        with open(os.environ["PAGECHECK_REPORT"], "a") as report:
            report.writelines(f"{line}\n" for line in page_checker.findings)
    elif page_checker.findings and ENFORCE_PAGECHECK:
        pytest.fail(
            "pages that fail the layout or accessibility check:\n"
            + "\n".join(dict.fromkeys(page_checker.findings))
        )


@pytest.fixture
def page(browser, live_server, demo, page_checker):
    with checked_tab(browser, live_server.url, page_checker) as page:
        yield page


@pytest.fixture
def empty_page(browser, live_server, transactional_db, settings, tmp_path, page_checker):
    """A tab on a database with nothing in it: no provider, no user (a real first day)."""
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    settings.VAR_DIR = tmp_path
    settings.SERVICEBOOK_USAGE_DIR = tmp_path / "usage"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.SERVICEBOOK_JOBS_DIR = tmp_path / "jobs"
    with checked_tab(browser, live_server.url, page_checker) as page:
        yield page


@pytest.fixture
def login(page, page_checker):
    def sign_in(username: str, password: str = "servicebook-demo"):
        page_checker.check(page.context)  # as the user who opened them
        page_checker.user = username
        page.context.clear_cookies()
        page.goto("/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=whoami]")
        return page

    return sign_in


@pytest.fixture
def shot(page, request):
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(name: str):
        page.screenshot(path=SCREENSHOTS / f"{request.node.name}-{name}.png", full_page=True)

    return take
