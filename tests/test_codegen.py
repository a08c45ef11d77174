"""`autodiff codegen`: the generated Python, NumPy, C and JavaScript are run
(C through the system compiler, JavaScript through Node.js) and give eval's
value and gradient on the SymPy corpus; hostile names and numbers reach the
code only as renamed identifiers and re-printed doubles."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_sympy_corpus import CORPUS

import autodiff
from autodiff.codegen import LANGUAGES, codegen, generate
from autodiff.ops import OPS, SPELL_HELPERS

from conftest import assert_close

HOSTILE = ("int = return*Math + NaN; main = __import__*double - int + undefined*printf; "
           "ad_sigmoid = sigmoid(main)*M_PI + exports/arguments + math*np*lambda + t1*v__import__; "
           "f = ad_sigmoid + 1e308*x + 5e-324*y - -0.0*z + 0.1*w + 2.5e-300*sin(x)")
HOSTILE_POINT = {"return": 0.5, "Math": -1.25, "NaN": 2.0, "__import__": 0.75, "double": 1.5,
                 "undefined": -0.5, "printf": 3.0, "exports": 1.0, "arguments": 4.0, "math": 0.3,
                 "np": -0.7, "lambda": 1.1, "M_PI": 0.6, "t1": 0.2, "v__import__": 0.9, "x": 1.0, "y": 1e300,
                 "z": 2.0, "w": -3.0}


# eval's forms without cancellation, which the generated code keeps: in the
# textbook forms these derivatives are exactly 0 (sigmoid at 45, tanh at 25)
TAILS = [("sigmoid(x) + tanh(y) + asin(z)", {"x": 45.0, "y": 25.0, "z": 1 - 2.0**-40}),
         ("softplus(-x) + sigmoid(-x)", {"x": -1000.0})]
# conditions and kinks with eval's conventions (ties split evenly; relu'(0) = 0)
CONDITIONS = [("relu(x)*y + max(x, y) + min(x*x, y) + (x < y)*x", {"x": 1.0, "y": 1.0}),
              ("relu(x)*y + max(x, y) + min(x*x, y) + (x < y)*x", {"x": 0.0, "y": 2.0}),
              ("clamp(x, y, 2) + where(x > 0, exp(x), -x)*y", {"x": 0.5, "y": 0.25}),
              ("clamp(x, y, 2) + where(x > 0, exp(x), -x)*y", {"x": -0.5, "y": -1.0})]


def cases() -> list[tuple[str, dict[str, float]]]:
    out = []
    for program, point in CORPUS + [(HOSTILE, HOSTILE_POINT)] + TAILS + CONDITIONS:
        try:
            codegen(program, "python")
        except autodiff.InputError:  # a row diff or codegen cannot write yet (NotExpressible)
            continue
        out.append((program, {k: float(v) for k, v in point.items()}))
    return out


CASES = cases()


def spelled(lang: str) -> list[tuple[str, dict[str, float]]]:
    """The cases whose every operation has a spelling in `lang` (erf has none
    in NumPy and JavaScript: refused, as test_every_row_is_spelled checks)."""
    out = []
    for program, point in CASES:
        try:
            codegen(program, lang)
        except autodiff.InputError:
            continue
        out.append((program, point))
    assert len(out) >= len(CASES) - 3
    return out


def expected(program: str, point: dict[str, float]) -> tuple[float, dict[str, float]]:
    r = autodiff.differentiate(program, point, keep_local=False)
    return r.value, r.gradient


def assert_same(program: str, point: dict[str, float], value: float, grad: dict[str, float],
                what: str) -> None:
    want_value, want_grad = expected(program, point)
    assert_close(value, want_value, rel=1e-12, abs_=1e-300, what=f"{what} value of {program}")
    assert set(grad) == set(want_grad), what
    for v, g in want_grad.items():
        assert_close(grad[v], g, rel=1e-10, abs_=1e-300, what=f"{what} d/d{v} of {program}")


def variables(program: str) -> list[str]:
    return autodiff.parse(program).select(None).output_variables()


def test_enough_cases() -> None:
    assert len(CASES) >= 35


@pytest.mark.parametrize("program, point", CASES, ids=[c[0][:40] for c in CASES])
def test_python(program: str, point: dict[str, float]) -> None:
    source = codegen(program, "python")
    namespace: dict[str, Any] = {}
    exec(compile(source, "<generated>", "exec"), namespace)  # noqa: S102 - our own output
    value, grad = namespace["value_and_gradient"](*(point[v] for v in variables(program)))
    assert_same(program, point, value, grad, "python")


def test_numpy_over_arrays() -> None:
    np = pytest.importorskip("numpy")
    for program, point in spelled("numpy"):
        source = codegen(program, "numpy")
        namespace: dict[str, Any] = {}
        exec(compile(source, "<generated>", "exec"), namespace)  # noqa: S102 - our own output
        names = variables(program)
        scale = np.array([1.0, 1.001, 0.999])
        args = [point[v] * scale for v in names]
        with np.errstate(all="ignore"):  # (a scaled point may leave a domain: NaN there)
            value, grad = namespace["value_and_gradient"](*args)
        assert value.shape == (3,) and all(g.shape == (3,) for g in grad.values())
        for k in range(3):
            p = {v: float(a[k]) for v, a in zip(names, args, strict=False)}
            try:
                expected(program, p)
            except autodiff.EvaluationError:
                continue
            assert_same(program, p, float(value[k]), {v: float(g[k]) for v, g in grad.items()},
                        "numpy")


def _c_harness(tmp_path: Path) -> tuple[list[Path], list[tuple[str, dict[str, float], int]]]:
    files = []
    runs = []
    decls = []
    calls = []
    for k, (program, point) in enumerate(spelled("c")):
        fn = f"case{k}"
        src = tmp_path / f"{fn}.c"
        src.write_text(codegen(program, "c", function=fn))
        files.append(src)
        names = variables(program)
        n = len(names)
        decls.append(f"double {fn}({', '.join(['double'] * n + ['double *'] * n) or 'void'});")
        args = ", ".join(repr(point[v]) for v in names)
        outs = ", ".join(f"&g[{j}]" for j in range(n))
        calls.append(f"  v = {fn}({', '.join(a for a in (args, outs) if a)});\n"
                     f"  printf(\"%.17g\", v); for (i = 0; i < {n}; i++) printf(\" %.17g\", g[i]);"
                     " printf(\"\\n\");")
        runs.append((program, point, n))
    main = tmp_path / "main.c"
    main.write_text("#include <stdio.h>\n" + "\n".join(decls) +
                    "\nint main(void) {\n  double v; double g[64]; int i;\n" + "\n".join(calls) +
                    "\n  return 0;\n}\n")
    return files + [main], runs


def test_c_with_the_system_compiler(tmp_path: Path) -> None:
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler (cc, gcc or clang) on PATH; .ci/run installs one")
    files, runs = _c_harness(tmp_path)
    exe = tmp_path / "cases"
    built = subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", "-O0", "-o",
                            str(exe), *map(str, files), "-lm"], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-3000:]
    lines = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.splitlines()
    assert len(lines) == len(runs)
    for line, (program, point, _n) in zip(lines, runs, strict=False):
        numbers = [float(x) for x in line.split()]
        names = variables(program)
        assert_same(program, point, numbers[0], dict(zip(names, numbers[1:], strict=False)), "C")


def test_javascript_with_node(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js (node) is not on PATH")
    parts = ["const results = [];"]
    cases = spelled("javascript")
    for program, point in cases:
        args = ", ".join(repr(point[v]) for v in variables(program))
        parts.append("results.push((function () {\n" + codegen(program, "javascript") +
                     f"\nreturn value_and_gradient({args});\n}})());")
    parts.append("process.stdout.write(JSON.stringify(results));")
    script = tmp_path / "cases.js"
    script.write_text("\n".join(parts))
    out = subprocess.run([node, str(script)], check=True, capture_output=True, text=True).stdout
    for (program, point), (value, grad) in zip(cases, json.loads(out), strict=True):
        assert_same(program, point, value, grad, "JavaScript")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_hostile_names_are_renamed(lang: str) -> None:
    # (the HOSTILE program also runs in every language with the corpus above)
    source = codegen(HOSTILE, lang)
    code = [line for line in source.splitlines() if not line.lstrip().startswith(("#", "//"))]
    start = next(k for k, line in enumerate(code) if "value_and_gradient(" in line)
    signature = code[start]
    params = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*[,)]", signature.split("(", 1)[1])
    assigned = [m.group(1) for line in code[start + 1:] if "np.asarray(" not in line
                if (m := re.match(r"\s*(?:const double |const )?([A-Za-z_][A-Za-z0-9_]*) = ", line))]
    names = params + assigned
    assert len(names) == len(set(names)), "two names were merged"
    reserved = {"python": {"int", "return", "__import__", "lambda", "math", "np"},
                "numpy": {"int", "return", "__import__", "lambda", "np"},
                "c": {"int", "return", "double", "main", "printf", "M_PI", "NAN"},
                "javascript": {"return", "Math", "NaN", "undefined", "arguments", "exports"}}[lang]
    assert not set(names) & reserved, set(names) & reserved
    assert not any(n.startswith("_") or n == "ad_sigmoid" for n in names)
    if lang != "c":  # the gradient is keyed by the program's own names
        assert '"__import__": ' in source and '"return": ' in source


def test_where_drops_the_branch_not_taken_in_c_and_javascript(tmp_path: Path) -> None:
    # log(x) at x = -1 is NaN in the branch not taken; eval never computes it
    program, point = "where(x > 0, log(x), -x)*y", {"x": -1.0, "y": 3.0}
    node = shutil.which("node")
    if node is not None:
        script = tmp_path / "w.js"
        script.write_text(codegen(program, "javascript") + "\nprocess.stdout.write(JSON.stringify("
                          "value_and_gradient(-1.0, 3.0)));")
        value, grad = json.loads(subprocess.run([node, str(script)], check=True, capture_output=True,
                                                text=True).stdout)
        assert_same(program, point, value, grad, "JavaScript")
    source = codegen(program, "python")
    assert "math.log(x)" in source  # computed eagerly: Python's math raises there (documented)


def test_hostile_numbers_are_reprinted_exactly() -> None:
    source = codegen("f = 1e308*x + 5e-324*y - -0.0*z + 0.1*w", "c")
    assert "1e+308" in source and "5e-324" in source and "0.1" in source
    # the header is re-printed from the graph, never the user's own text
    source = codegen("f = 1.0000000000000000000001*x  # comment */ int main", "python")
    assert "comment" not in source and "1.0000000000000000000001" not in source


def test_every_row_is_spelled_for_every_target() -> None:
    # every row has a spelling in each language, or codegen refuses it clearly
    for op in OPS:
        for lang in LANGUAGES:
            spelled = op.spell.get(lang)
            if spelled is None:
                call = f"x {op.symbol} y" if op.symbol else f"{op.name}({', '.join(['x'] * op.arity)})"
                with pytest.raises(autodiff.InputError) as refused:
                    codegen(call, lang)  # (or its derivative cannot be written: trigamma)
                assert op.name in str(refused.value) and "cannot" in str(refused.value)
                continue
            assert spelled.count("{0}") >= 1 and (op.arity == 1 or "{1}" in spelled), (op, lang)
            for helper in re.findall(r"\bad_[a-z0-9_]+\b", spelled):
                assert helper in SPELL_HELPERS[lang], (op, lang, helper)


def test_one_assignment_per_node_and_no_nesting() -> None:
    n = 3000
    source = codegen("sin(" * n + "x" + ")" * n, "c")
    assert max(len(line) for line in source.splitlines()) < 200
    assert source.count("const double ") == 3 * n - 1 and source.count(" = sin(") == n + 1  # + the header


def test_constant_output_and_unknown_language() -> None:
    source = codegen("f = 2*pi", "python")
    namespace: dict[str, Any] = {}
    exec(compile(source, "<generated>", "exec"), namespace)  # noqa: S102 - our own output
    value, grad = namespace["value_and_gradient"]()
    assert value == 2 * math.pi and grad == {}
    with pytest.raises(autodiff.InputError, match="unknown language"):
        generate(autodiff.parse("x").select(None), "fortran")
