"""Guard: no module over 800 lines and no function over 80 (issue 13).

Walks every module of ``src/servicebook`` (migrations skipped) with :mod:`ast`, no Django, no
database. A function's length runs from its ``def`` line to its last line (decorators not
counted); methods and nested functions count on their own, named ``Class.method`` and
``outer.inner``.

Two exceptions:

- a pure computation kernel may be longer when it says why: a comment
  ``# size: kernel — <reason>`` in its first 30 lines exempts the module and its functions. A
  kernel imports no Django (it is a computation, not a service in disguise).
- ``PENDING`` lists the code being split right now, as ``"path"`` or ``"path:function"``. An
  entry that is back within the limits fails the test too, so the set only shrinks: delete it.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "src" / "servicebook"
MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 80
KERNEL_MARK = re.compile(r"^\s*#\s*size:\s*kernel\s*(?:—|--?)\s*\S")
KERNEL_HEAD = 30

#: Code other work is splitting now (finance, changes, demand, improvement).
PENDING: set[str] = set()


def is_kernel(lines: list[str]) -> bool:
    return any(KERNEL_MARK.match(line) for line in lines[:KERNEL_HEAD])


def imports_django(tree: ast.Module) -> bool:
    names = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    names += [
        node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 0
    ]
    return any(name.split(".")[0] in {"django", "rest_framework"} for name in names)


def functions(node: ast.AST, prefix: str = ""):
    """(qualified name, lines) of every function under ``node``, nested ones included."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{prefix}{child.name}"
            if not isinstance(child, ast.ClassDef):
                yield name, child.end_lineno - child.lineno + 1
            yield from functions(child, f"{name}.")
        else:
            yield from functions(child, prefix)


@functools.cache  # one walk a run, shared by the tests
def measure() -> tuple[dict[str, int], list[str]]:
    """Every module and function over its limit (name → lines), and kernels that import Django."""
    oversized: dict[str, int] = {}
    impure_kernels: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.relative_to(PACKAGE).parts:
            continue
        name = path.relative_to(REPO).as_posix()
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        tree = ast.parse(text, filename=name)
        if is_kernel(lines):
            if imports_django(tree):
                impure_kernels.append(name)
            continue
        if len(lines) > MAX_MODULE_LINES:
            oversized[name] = len(lines)
        for function, length in functions(tree):
            if length > MAX_FUNCTION_LINES:
                oversized[f"{name}:{function}"] = length
    return oversized, impure_kernels


def test_no_module_or_function_over_the_limit():
    oversized, impure_kernels = measure()
    new = sorted(
        f"{name} ({lines} lines)" for name, lines in oversized.items() if name not in PENDING
    )
    assert not new, (
        f"over {MAX_MODULE_LINES} lines a module or {MAX_FUNCTION_LINES} a function (split it, "
        "or mark a pure kernel with '# size: kernel — <reason>'):\n" + "\n".join(new)
    )
    assert not impure_kernels, "a module marked as a kernel imports Django: " + ", ".join(
        impure_kernels
    )


def test_pending_only_lists_code_still_over_the_limit():
    oversized, _ = measure()
    done = sorted(PENDING - set(oversized))
    assert not done, "within the limits now, remove from PENDING:\n" + "\n".join(done)


def test_kernel_mark_needs_a_reason():
    assert is_kernel(["# size: kernel — one vectorized pass over every ticket"])
    assert is_kernel(['"""Doc."""', "# size: kernel -- a state machine table"])
    assert not is_kernel(["# size: kernel"])
    assert not is_kernel(["# size: kernel — "])
    assert not is_kernel([""] * KERNEL_HEAD + ["# size: kernel — too late to count"])


def test_functions_are_named_by_class_and_nesting():
    tree = ast.parse("class A:\n    def m(self):\n        def inner():\n            pass\n")
    assert [name for name, _ in functions(tree)] == ["A.m", "A.m.inner"]
