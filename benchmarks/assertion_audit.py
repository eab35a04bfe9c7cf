"""Count the test assertions that hold by construction (a heuristic, read by AST; no test is run).

A test passes when the code is wrong if its only check is one that the code's types already
guarantee: a distance is never negative, a ratio of positive numbers is positive, a correlation is in
[-1, 1], a sigmoid's mean is in (0, 1), a result dict has the keys it always has. This script walks
every `assert` statement in tests/*.py and flags it when its test contains one of these shapes:

    zero-bound   `x >= 0`, `x > 0`, `x != 0` (or `0 <= x`, `0 < x`, `0 != x`), and `len(x) >= 1`;
                 a bound within 1e-3 of the constant counts as it (`x >= -1e-6`, `x >= -1 - 1e-5`);
                 where x is not a difference (`a - b > 0` orders two inputs and is not counted) and
                 not an exit code (`main([...]) != 0`, `code != 0`: the error path is behaviour)
    range        a chained comparison whose lower bound is the constant -1, 0 or 1 and whose upper
                 bound is a constant >= 1 (`0 <= x <= 1`, `-1 <= r <= 1`, `1 <= is_ <= 2 + 1e-9`; a
                 narrow range such as `0 <= x <= 0.05` is a known value and an upper bound that is
                 another measurement is an ordering, neither counted), and a lone `x >= -1`, the
                 lower half of `x.min() >= -1 and x.max() <= 1`
    key-present  `"key" in d` or `key in d` where "key" is an identifier-like string and d does not
                 look like text (names such as out, err, log, text, message, table, card, str(...)
                 are text, where `in` is a substring check on printed output, which is counted as
                 real); also `set(...) <= set(d)` and `.issubset(...)`; not counted under a `not`
    not-none     `x is not None`
    isinstance   `isinstance(x, T)`
    one-of       `x in ("fp32", "bf16")`: membership in a literal tuple, list or set of constants,
                 which is often every value x can take (not counted under a `not`)

Comparisons nested inside calls (`(x >= 0).all()`, `all(v > 0 for v in vs)`) and inside `and`
are found too; one assert counts once, under the first shape found in it.

It is a heuristic: it knows shapes, not meaning. Some hits can fail for a real bug (a count after a
subtraction that a bug could drive below zero, a value that is 0 when a feature is off); those carry
a comment `# can fail: <why>` on one of the assert's lines and are reported as `kept`, not counted.
Some by-construction checks are missed (`x <= 1` on its own, `math.isfinite(x)`).

    python benchmarks/assertion_audit.py            # table per file and the total
    python benchmarks/assertion_audit.py --list     # every counted assertion as file:line
    python benchmarks/assertion_audit.py --list --kept   # also the ones marked `# can fail:`
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
CATEGORIES = ("zero-bound", "range", "key-present", "not-none", "isinstance", "one-of")
NEAR = 1e-3  # a bound this close to 0, -1 or 1 is that bound with a tolerance
CAN_FAIL = "# can fail:"
# Substring checks on printed output are real checks; a name like these marks the right side as text.
TEXT_WORDS = re.compile(
    r"out|err|log|text|message|msg|table|card|md\b|printed|str\(|readouterr|suggestion|fix|section|"
    r"help|html|doc|readme|line|paper|said|page|license|credit|attribution|usage|caption|repr|source|src|warn|reason|note|label|title|name",
    re.IGNORECASE,
)
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def constant_value(node: ast.AST) -> float | None:
    """The value of an expression made only of numbers (`2.0 + 1e-9`), else None."""
    if not all(isinstance(n, (ast.Constant, ast.BinOp, ast.UnaryOp, ast.operator, ast.unaryop)) for n in ast.walk(node)):
        return None
    try:
        value = eval(compile(ast.Expression(node), "<audit>", "eval"), {"__builtins__": {}})  # numbers only, checked above
    except Exception:
        return None
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def has_difference(node: ast.AST) -> bool:
    """`a - b` anywhere inside: the comparison orders two inputs, which can fail."""
    return any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Sub) for n in ast.walk(node))


EXIT_CODE = re.compile(r"^(main\(|.*\b(code|returncode|rc|exit_code)$)")


def lower_bound(cmp: ast.Compare, values: tuple[float, ...]) -> ast.AST | None:
    """x when the comparison is `x >= v`, `x > v`, `x != v`, `v <= x`, `v < x` or `v != x`."""
    if len(cmp.ops) != 1:
        return None
    left, op, right = cmp.left, cmp.ops[0], cmp.comparators[0]
    if near(constant_value(right), values) and isinstance(op, (ast.GtE, ast.Gt, ast.NotEq)):
        return left
    if near(constant_value(left), values) and isinstance(op, (ast.LtE, ast.Lt, ast.NotEq)):
        return right
    return None


def near(value: float | None, values: tuple[float, ...]) -> bool:
    return value is not None and any(abs(value - v) <= NEAR for v in values)


def zero_bound(cmp: ast.Compare) -> bool:
    x = lower_bound(cmp, (0,))
    if x is None:
        one = lower_bound(cmp, (1,))
        return one is not None and isinstance(cmp.ops[0], (ast.GtE, ast.LtE)) and ast.unparse(one).startswith("len(")
    if isinstance(cmp.ops[0], ast.NotEq) and EXIT_CODE.match(ast.unparse(x)):
        return False
    return not has_difference(x)


def wide_range(cmp: ast.Compare) -> bool:
    if len(cmp.ops) == 1:
        x = lower_bound(cmp, (-1,))
        return x is not None and not isinstance(cmp.ops[0], ast.NotEq) and not has_difference(x)
    if len(cmp.ops) != 2 or not all(isinstance(op, (ast.Lt, ast.LtE)) for op in cmp.ops):
        return False
    low, high = constant_value(cmp.left), constant_value(cmp.comparators[1])
    return near(low, (-1, 0, 1)) and high is not None and high >= 1 - NEAR


def looks_like_text(node: ast.AST) -> bool:
    return bool(TEXT_WORDS.search(ast.unparse(node)))


def key_present(node: ast.AST) -> bool:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "issubset":
        return True
    if not isinstance(node, ast.Compare) or len(node.ops) != 1:
        return False
    left, op, right = node.left, node.ops[0], node.comparators[0]
    if isinstance(op, ast.LtE) and all(isinstance(s, ast.Call) and ast.unparse(s.func) == "set" for s in (left, right)):
        return True
    if not isinstance(op, ast.In) or looks_like_text(right) or isinstance(right, (ast.Tuple, ast.List, ast.Set)):
        return False  # text output is a real check; a literal collection is `one-of`
    if isinstance(left, ast.Constant) and isinstance(left.value, str):
        return bool(IDENTIFIER.match(left.value))
    return isinstance(left, ast.Name)


def not_none(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Compare)
        and len(node.ops) == 1
        and isinstance(node.ops[0], ast.IsNot)
        and isinstance(node.comparators[0], ast.Constant)
        and node.comparators[0].value is None
    )


def is_isinstance(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance"


def one_of(node: ast.AST) -> bool:
    if not isinstance(node, ast.Compare) or len(node.ops) != 1 or not isinstance(node.ops[0], ast.In):
        return False
    options = node.comparators[0]
    return (isinstance(options, (ast.Tuple, ast.List, ast.Set)) and len(options.elts) >= 2
            and all(isinstance(e, ast.Constant) for e in options.elts) and not isinstance(node.left, ast.Constant))


def negated(test: ast.AST) -> set[int]:
    """ids of the nodes under a `not`: `not any(x in (...) ...)` is a real check."""
    return {id(n) for op in ast.walk(test) if isinstance(op, ast.UnaryOp) and isinstance(op.op, ast.Not)
            for n in ast.walk(op.operand)}


def category(test: ast.AST) -> str | None:
    """The first by-construction shape inside an assert's test, or None."""
    under_not = negated(test)
    for node in ast.walk(test):
        if one_of(node) and id(node) not in under_not:
            return "one-of"
        if isinstance(node, ast.Compare) and zero_bound(node):
            return "zero-bound"
        if isinstance(node, ast.Compare) and wide_range(node):
            return "range"
        if key_present(node) and id(node) not in under_not:
            return "key-present"
        if not_none(node):
            return "not-none"
        if is_isinstance(node):
            return "isinstance"
    return None


def audit_file(path: Path) -> list[tuple[int, str, bool, str]]:
    """(line, category, kept, source) of every flagged assert in one file."""
    source = path.read_text()
    lines = source.splitlines()
    hits = []
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if not isinstance(node, ast.Assert):
            continue
        cat = category(node.test)
        if cat is None:
            continue
        span = lines[node.lineno - 1 : node.end_lineno]
        kept = any(CAN_FAIL in line for line in span)
        hits.append((node.lineno, cat, kept, span[0].strip()))
    return sorted(hits)


def audit(tests: Path) -> dict[str, list[tuple[int, str, bool, str]]]:
    return {p.name: audit_file(p) for p in sorted(tests.glob("*.py"))}


def table(results: dict[str, list[tuple[int, str, bool, str]]]) -> str:
    head = "| file | " + " | ".join(CATEGORIES) + " | total | kept (`# can fail:`) |"
    rows = [head, "|" + "---|" * (len(CATEGORIES) + 3)]
    totals = {c: 0 for c in CATEGORIES}
    total_kept = 0
    for name, hits in results.items():
        counted = [cat for _, cat, kept, _ in hits if not kept]
        kept = sum(1 for _, _, k, _ in hits if k)
        if not counted and not kept:
            continue
        per = {c: counted.count(c) for c in CATEGORIES}
        for c in CATEGORIES:
            totals[c] += per[c]
        total_kept += kept
        rows.append(f"| {name} | " + " | ".join(str(per[c]) for c in CATEGORIES) + f" | {len(counted)} | {kept} |")
    grand = sum(totals.values())
    rows.append("| **total** | " + " | ".join(str(totals[c]) for c in CATEGORIES) + f" | **{grand}** | {total_kept} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=Path, default=TESTS, help="the folder of test files (default: tests/)")
    parser.add_argument("--list", action="store_true", help="list every counted assertion as file:line")
    parser.add_argument("--kept", action="store_true", help="with --list, also list those marked `# can fail:`")
    args = parser.parse_args(argv)
    if not args.tests.is_dir():
        print(f"error: --tests {args.tests} is not a folder; pass the tests/ folder of the repo", file=sys.stderr)
        return 2
    results = audit(args.tests)
    if args.list:
        for name, hits in results.items():
            for line, cat, kept, text in hits:
                if args.kept or not kept:
                    print(f"tests/{name}:{line}: [{cat}{', kept' if kept else ''}] {text}")
        return 0
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
