"""Check-file expectations of issue 11 (expect.hessian, .jacobian, .taylor,
.exact): validation, comparison with the case's tolerance, and --update's fill."""

from __future__ import annotations

from typing import Optional

from autodiff.higher_check import fill, problems, validate


def _close(what: str, got: float, want: float) -> Optional[str]:
    return None if abs(got - want) <= 1e-9 * max(1.0, abs(want)) else f"{what} expected {want} got {got}"


def test_validate() -> None:
    assert validate({"hessian": {"x": {"x": 2}}}) is None
    assert validate({"jacobian": {"u": {"x": 1}, "v": {"x": 2.5}}}) is None
    assert validate({"taylor": {"x": [1, 2, 2]}}) is None
    assert validate({"exact": {"value": "1/9", "gradient": {"x": "1/3"}}}) is None
    for bad in ({"hessian": {"x": 2}}, {"hessian": {}}, {"jacobian": {"u": {"x": "1"}}},
                {"taylor": {"x": [], "y": [1]}}, {"taylor": [1, 2]}, {"exact": {"value": "a/b"}},
                {"exact": {"value": "1/3", "other": 1}}, {"exact": {"gradient": {"x": "1/0"}}}):
        assert validate(bad) is not None, bad


def test_problems_and_fill() -> None:
    program, bindings = "x^3*y + y^2", {"x": 2, "y": 3}
    good = {"hessian": {"x": {"x": 36, "y": 12}, "y": {"x": 12, "y": 2}},
            "taylor": {"x": [33, 36, 36, 18, 0]}}
    assert problems(program, bindings, None, good, _close) == []
    bad = {"hessian": {"x": {"x": 35}}, "taylor": {"x": [33, 36, 35]}}
    found = problems(program, bindings, None, bad, _close)
    assert found == ["hessian.x.x expected 35.0 got 36.0", "taylor.x[2] expected 35.0 got 36.0"]
    assert fill(program, bindings, None, bad) == {
        "hessian": {"x": {"x": 36, "y": 12}, "y": {"x": 12, "y": 2}}, "taylor": {"x": [33, 36, 36]}}


def test_jacobian_and_exact() -> None:
    program = "u = x*y; v = x + y; w = u*v"
    want = {"jacobian": {"u": {"x": 3, "y": 2}, "w": {"x": 21, "y": 16}}}
    assert problems(program, {"x": 2, "y": 3}, None, want, _close) == []
    exact = {"exact": {"value": "1/81", "gradient": {"x": "1/9"}}}
    assert problems("x^3/3", {"x": "1/3"}, None, exact, _close) == []
    wrong = {"exact": {"value": "1/80", "gradient": {"x": "0.111"}}}
    assert problems("x^3/3", {"x": "1/3"}, None, wrong, _close) == [
        "exact.value expected 1/80 got 1/81", "exact.gradient.x expected 0.111 got 1/9"]
    assert fill("x^3/3", {"x": "1/3"}, None, wrong) == {
        "exact": {"value": "1/81", "gradient": {"x": "1/9"}}}


CASES = '''
[[case]]
name = "hessian"
program = "x^3*y + y^2"
bindings = { x = 2, y = 3 }
expect = { value = 33, hessian = { x = { x = 36, y = 12 }, y = { x = 12, y = 2 } } }

[[case]]
name = "jacobian"
program = "u = x*y; v = x + y; w = u*v"
bindings = { x = 2, y = 3 }
expect = { jacobian = { u = { x = 3, y = 2 }, w = { x = 21, y = 16 } } }

[[case]]
name = "taylor"
program = "exp(2*x)"
bindings = { x = 0 }
expect = { taylor = { x = [1, 2, 4, 8] } }

[[case]]
name = "exact"
program = "x^3/3"
bindings = { x = "1/3" }
expect = { exact = { value = "1/81", gradient = { x = "1/9" } } }
'''


def test_check_files_with_the_new_expectations(run, tmp_path) -> None:
    path = tmp_path / "cases.toml"
    path.write_text(CASES, encoding="utf-8")
    res = run("check", str(path))
    assert res.exit_code == 0, res.stdout + res.stderr
    assert res.stdout.count("PASS") == 4
    path.write_text(CASES.replace('value = "1/81"', 'value = "1/80"').replace("21", "22"),
                    encoding="utf-8")
    res = run("check", str(path))
    assert res.exit_code == 1
    assert "exact.value expected 1/80 got 1/81" in res.stdout
    assert "jacobian.w.x expected 22 got 21" in res.stdout
    res = run("check", "--update", str(path))
    assert res.exit_code == 0, res.stdout + res.stderr
    assert run("check", str(path)).exit_code == 0
    bad = tmp_path / "bad.toml"
    bad.write_text('[[case]]\nprogram = "x"\nbindings = { x = "1/0" }\n'
                   'expect = { exact = { value = "1" } }\n', encoding="utf-8")
    res = run("check", str(bad))
    assert res.exit_code == 2 and "bindings" in res.stderr
    bad.write_text('[[case]]\nprogram = "x"\nbindings = { x = 1 }\nexpect = { hessian = 3 }\n',
                   encoding="utf-8")
    res = run("check", str(bad))
    assert res.exit_code == 2 and "expect.hessian" in res.stderr
