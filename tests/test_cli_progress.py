"""The CLI's progress callback: nothing for short work; past a second, plain lines (one each
tenth of the way) when not on a terminal, a rich bar on one."""

from __future__ import annotations

import io

from servicebook.cli import Progress


def test_short_work_prints_nothing():
    out = io.StringIO()
    with Progress("import x", stream=out, tty=False) as progress:
        for done in range(0, 101, 10):
            progress(done, 100, "working")
    assert out.getvalue() == ""


def test_long_work_prints_a_plain_line_each_tenth(monkeypatch):
    out = io.StringIO()
    with Progress("import x", stream=out, tty=False) as progress:
        progress.started -= 5  # as if it had been running for five seconds
        for done in range(0, 101, 5):
            progress(done, 100, f"step {done}")
    lines = out.getvalue().splitlines()
    assert lines[0] == "import x: 0% step 0"
    assert lines[-1] == "import x: 100% step 100"
    assert len(lines) == 11


def test_on_a_terminal_it_draws_a_bar():
    with Progress("import x", tty=True) as progress:
        progress.started -= 5
        progress(10, 100, "reading")
        progress(90, 100, "writing")
        assert progress.bar is not None
        task = progress.bar.tasks[0]
        assert (task.completed, task.total) == (90, 100)
        assert task.description == "import x · writing"
