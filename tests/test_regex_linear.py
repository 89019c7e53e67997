"""Every regular expression of the code that reads what people send
(analysis/, handlers/, bot/) is written so that it cannot backtrack
catastrophically: an unbounded repeat is possessive (``*+``, ``++``), and
repeats that may still backtrack are bounded, nested only to a small
product of choices.  Checked on the parsed pattern, so a new pattern that
breaks the rule fails here before any input can find it.

What the rule cannot see -- a pattern searched for at every position of a
text, each try scanning to the end -- is covered by the hostile texts of
tests/test_hostile_text.py and the growth ratios of bench/bench_hostile.py."""

from __future__ import annotations

import ast
import importlib
import re
import re._constants as C  # type: ignore[import-not-found]
import re._parser as P  # type: ignore[import-not-found]
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("analysis", "handlers", "bot")
# Choices a backtracking repeat may multiply into (its bound times the
# bounds of the backtracking repeats around it).
MAX_CHOICES = 10_000
# Patterns in modules other slices own, left as they are on purpose: each
# sees a value already cut to a few hundred characters, or cannot backtrack
# at all.  Listed one by one, so that a new pattern there is checked.
OWNED_ELSEWHERE = {
    # analysis/text/assemble.py (field values, cut at 512 characters)
    r"\((\d+) procs?\)",
    # analysis/catalog.py: one class and nothing after it, which never backtracks
    r"[^\W_]+",
}


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            names.append(".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts))
    return names


def _compiled(value, seen: set[int]):
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, re.Pattern):
        yield value.pattern, value.flags
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from _compiled(item, seen)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _compiled(item, seen)


_RE_CALLS = {"compile", "search", "match", "fullmatch", "sub", "subn", "split", "findall", "finditer"}


def _literals(path: Path):
    """Patterns written inline: re.search(r"...", ...)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _RE_CALLS
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "re" and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, (str, bytes))):
            yield node.args[0].value, 0


def all_patterns() -> list[tuple[str, str | bytes, int]]:
    found: dict[str | bytes, tuple[str, int]] = {}
    for name in _modules():
        module = importlib.import_module(name)
        for pattern, flags in _compiled(list(vars(module).values()), set()):
            found[pattern] = (name, flags)
        for pattern, flags in _literals(Path(str(module.__file__))):
            found.setdefault(pattern, (name, flags))
    return sorted(((where, pattern, flags) for pattern, (where, flags) in found.items()), key=lambda x: (x[0], str(x[1])))


def violations(pattern: str | bytes, flags: int = 0) -> list[str]:
    """Why a pattern can backtrack without bound (empty: it cannot)."""
    problems: list[str] = []

    def walk(items, choices: int) -> None:
        for op, av in items:
            if op in (C.MAX_REPEAT, C.MIN_REPEAT):
                lo, hi, body = av
                if hi == C.MAXREPEAT:
                    problems.append(f"unbounded repeat that can backtrack: {_show(op, av)}")
                    walk(body, choices)
                    continue
                inner = choices * (hi + 1)
                if inner > MAX_CHOICES:
                    problems.append(f"backtracking repeats nested to {inner:,} choices: {_show(op, av)}")
                walk(body, inner)
            elif op == C.POSSESSIVE_REPEAT:
                walk(av[2], 1)
            elif op == C.SUBPATTERN:
                walk(av[3], choices)
            elif op == C.ATOMIC_GROUP:
                walk(av, choices)
            elif op == C.BRANCH:
                for alt in av[1]:
                    walk(alt, choices)
            elif op in (C.ASSERT, C.ASSERT_NOT):
                walk(av[1], choices)
            elif op == C.GROUPREF_EXISTS:
                walk(av[1], choices)
                if av[2] is not None:
                    walk(av[2], choices)

    walk(P.parse(pattern, flags), 1)
    return problems


def _show(op, av) -> str:
    lo, hi, _ = av
    top = "inf" if hi == C.MAXREPEAT else hi
    return f"{'lazy ' if op == C.MIN_REPEAT else ''}{{{lo},{top}}}"


PATTERNS = all_patterns()


def test_every_module_was_searched():
    where = {name for name, _, _ in PATTERNS}
    assert {"analysis.text.events", "analysis.text.clean", "analysis.text.stack", "handlers.parsing"} <= where


@pytest.mark.parametrize("where,pattern,flags", PATTERNS, ids=[f"{w}:{str(p)[:40]}" for w, p, _ in PATTERNS])
def test_pattern_cannot_backtrack_without_bound(where, pattern, flags):
    if pattern in OWNED_ELSEWHERE:
        pytest.skip("owned by another module's slice (see OWNED_ELSEWHERE)")
    assert violations(pattern, flags) == [], f"{where}: {pattern!r}"


@pytest.mark.parametrize("pattern,bad", [
    (r"(a+)+b", True),  # the textbook case
    (r"[ ]+:?[ ]*x", True),  # adjacent runs over the same character
    (r"(?:[ ]{1,100}a{1,100}){1,100}", True),  # bounded, but a million ways
    (r"[ ]++:?[ ]*+x", False),
    (r"(?:_[A-Z0-9]++)++", False),
    (r"[0-9a-f]{8,17}+", False),
    (r"(?:ab|a){0,3}c", False),
])
def test_the_rule_itself(pattern, bad):
    assert bool(violations(pattern)) is bad
