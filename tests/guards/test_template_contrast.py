"""Colours that fail the contrast check in some state only (issue 14's night: a stale attainment
on the service-levels page, the ledger banner's command): the browser tests' accessibility check
(axe, tests/browser/conftest.py) sees a page in the states the demo happens to be in, so it missed
them until the date moved. This guard reads every template instead: Bootstrap's plain
``text-warning`` (yellow on white, about 1.6:1) and a ``<code>`` inside an alert (pink on the
alert's tint) are refused; ``text-warning-emphasis`` and ``font-monospace`` read well."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "servicebook"
CLASS = re.compile(r'class="([^"]*)"')
ALERT_WITH_CODE = re.compile(r'class="[^"]*\balert\b[^"]*"[^>]*>(?:(?!</div>).)*<code', re.S)


def _templates():
    return sorted(SRC.rglob("templates/**/*.html"))


def test_no_template_uses_plain_text_warning():
    found = [
        f"{path.relative_to(SRC)}: {classes}"
        for path in _templates()
        for classes in CLASS.findall(path.read_text())
        if "text-warning" in classes.split()
    ]
    assert not found, "use text-warning-emphasis (readable) instead:\n" + "\n".join(found)


def test_no_alert_holds_code():
    found = [str(p.relative_to(SRC)) for p in _templates() if ALERT_WITH_CODE.search(p.read_text())]
    assert not found, "a <code> inside an alert fails the contrast check:\n" + "\n".join(found)


def test_the_guard_sees_what_it_refuses():
    assert "text-warning" in CLASS.findall('<span class="small text-warning">x</span>')[0].split()
    assert ALERT_WITH_CODE.search('<div class="alert alert-warning">run <code>x</code></div>')
    assert not ALERT_WITH_CODE.search('<div class="alert">a</div><p><code>x</code></p>')
