"""`autodiff check`: regression cases as data (TOML and JSON), failures that
show expected, got and the difference, expected errors, malformed files, and
`--update` keeping comments."""

from __future__ import annotations

import json
import textwrap

import pytest

LECTURE_CASE = """\
# cases for the lecture, checked by hand
[[case]]
name = "lecture"
program = "J=3*(a+b*c)"
bindings = { a = 5, b = 3, c = 2 }
expect = { value = 33, gradient = { a = 3, b = 6, c = 9 } }
"""


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_the_issues_example_passes(run, tmp_path) -> None:
    res = run("check", str(write(tmp_path, "cases.toml", LECTURE_CASE)))
    assert (res.exit_code, res.stdout, res.stderr) == (0, "PASS lecture\n1 passed, 0 failed\n", "")


def test_a_failing_case_shows_expected_got_and_difference(run, tmp_path) -> None:
    path = write(tmp_path, "cases.toml", LECTURE_CASE + """
        [[case]]
        name = "wrong by hand"
        program = "J=3*(a+b*c)"
        bindings = { a = 5, b = 3, c = 2 }
        expect = { value = 33, gradient = { b = 6.5, c = 9 } }
        """)
    res = run("check", str(path))
    assert res.exit_code == 1
    assert res.stdout.splitlines() == [
        "PASS lecture",
        "FAIL wrong by hand: gradient.b expected 6.5 got 6 (difference -0.5)",
        "1 passed, 1 failed",
    ]


def test_tolerances_expected_errors_files_outputs_and_gradcheck(run, tmp_path) -> None:
    write(tmp_path, "model.ad", "u = b*c  # the inner product\nv = a + u\nJ = 3*v\n")
    path = write(tmp_path, "cases.toml", """\
        rel = 1e-6

        [[case]]
        name = "from a file"
        file = "model.ad"
        bindings = { a = 5, b = 3, c = 2 }
        expect = { value = 33.00001 }

        [[case]]
        name = "another output"
        file = "model.ad"
        of = "u"
        bindings = { b = 3, c = 2 }
        expect = { gradient = { b = 2, c = 3 } }

        [[case]]
        name = "tight"
        program = "x/3"
        bindings = { x = 1 }
        rel = 0
        abs = 0
        expect = { value = 0.3333333333333333 }

        [[case]]
        name = "too tight"
        program = "x/3"
        bindings = { x = 1 }
        rel = 0
        abs = 0
        expect = { value = 0.33333333333333 }

        [[case]]
        name = "log of a negative number"
        program = "log(x)"
        bindings = { x = -1 }
        expect = { error = "domain" }

        [[case]]
        name = "expected an error, got a value"
        program = "log(x)"
        bindings = { x = 1 }
        expect = { error = "domain" }

        [[case]]
        name = "wrong error kind"
        program = "1/x"
        bindings = { x = 0 }
        expect = { error = "domain" }

        [[case]]
        name = "gradcheck only"
        program = "sin(x)*exp(y)"
        bindings = { x = 0.3, y = -1 }
        gradcheck = true
        """)
    res = run("check", str(path))
    assert res.exit_code == 1
    lines = res.stdout.splitlines()
    assert lines[0] == "PASS from a file"  # within rel 1e-6
    assert lines[1] == "PASS another output"
    assert lines[2] == "PASS tight"
    assert lines[3].startswith("FAIL too tight: value expected 0.33333333333333 got 0.3333333333333333 "
                               "(difference 3.33")
    assert lines[4] == "PASS log of a negative number"
    assert lines[5] == "FAIL expected an error, got a value: error expected domain got a value, 0"
    assert lines[6].startswith("FAIL wrong error kind: error expected domain got division_by_zero: ")
    assert lines[7] == "PASS gradcheck only"
    assert lines[8] == "5 passed, 3 failed"


def test_json_cases(run, tmp_path) -> None:
    doc = {"case": [{"name": "lecture", "program": "J=3*(a+b*c)", "bindings": {"a": 5, "b": 3, "c": 2},
                     "expect": {"value": 33, "gradient": {"a": 3, "b": 6, "c": 9}}}]}
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(doc))
    res = run("check", str(path))
    assert (res.exit_code, res.stdout) == (0, "PASS lecture\n1 passed, 0 failed\n")


@pytest.mark.parametrize("name, text, words", [
    ("bad.toml", "[[case]\nname = 'x'\n", ["bad.toml:1:", "not valid TOML"]),
    ("bad.json", '{"case": [\n  {"name": "x",}\n]}', ["bad.json:2:", "not valid JSON"]),
    ("empty.toml", "# nothing\n", ["no cases"]),
    ("both.toml", "[[case]]\nprogram = 'x'\nfile = 'm.ad'\nexpect = {value = 1}\n",
     ["case 1", "exactly one of program and file"]),
    ("typo.toml", "[[case]]\nprogram = 'x'\nbindings = {x = 1}\nexpct = {value = 1}\n",
     ["unknown key 'expct'"]),
    ("str.toml", "[[case]]\nprogram = 'x'\nbindings = {x = '1'}\nexpect = {value = 1}\n",
     ["bindings must be a table of finite numbers"]),
    ("nothing.toml", "[[case]]\nprogram = 'x'\nbindings = {x = 1}\n", ["nothing to check"]),
    ("missing.toml", "[[case]]\nfile = 'nowhere.ad'\nexpect = {value = 1}\n", ["cannot read"]),
])
def test_malformed_files_exit_2_naming_the_file(run, tmp_path, name, text, words) -> None:
    res = run("check", str(write(tmp_path, name, text)))
    assert res.exit_code == 2, res.stdout
    assert res.stderr.startswith("error: ") and "Traceback" not in res.stderr
    for w in words:
        assert w in res.stderr, res.stderr


def test_missing_file(run, tmp_path) -> None:
    res = run("check", str(tmp_path / "none.toml"))
    assert res.exit_code == 2 and "cannot read" in res.stderr


def test_update_rewrites_numbers_and_keeps_comments(run, tmp_path) -> None:
    path = write(tmp_path, "golden.toml", """\
        # golden values: regenerate with autodiff check --update
        rel = 1e-9

        [[case]]
        name = "lecture"   # the board example
        program = "J=3*(a+b*c)"
        bindings = { a = 5, b = 3, c = 2 }
        # pinned by hand, one of them wrong
        expect = { value = 30, gradient = { b = 6, c = 10 } }

        [[case]]
        name = "new case, nothing pinned yet"
        program = "x*y"
        bindings = { x = 2, y = 0.5 }
        gradcheck = true

        [[case]]
        name = "now fails"
        program = "log(x)"
        bindings = { x = 0 }
        expect = { value = 1 }

        [[case]]
        name = "pinned block"
        program = "x^2"
        bindings = { x = 3 }

        [case.expect]
        value = 10  # wrong
        gradient = { x = 6 }
        """)
    res = run("check", str(path), "--update")
    assert res.exit_code == 0
    assert "updated 3 cases" in res.stderr
    text = path.read_text()
    assert "# golden values: regenerate with autodiff check --update" in text
    assert 'name = "lecture"   # the board example' in text
    assert "# pinned by hand, one of them wrong" in text
    assert "expect = { value = 33, gradient = { b = 6, c = 9 } }" in text
    assert 'expect = { error = "domain" }' in text or "expect = {error = \"domain\"}" in text
    assert "value = 9  # wrong" in text
    again = run("check", str(path))
    assert again.exit_code == 0, again.stdout
    assert again.stdout.endswith("4 passed, 0 failed\n")


def test_update_json(run, tmp_path) -> None:
    path = tmp_path / "cases.json"
    path.write_text(json.dumps({"case": [{"name": "sq", "program": "x*x", "bindings": {"x": 3},
                                          "expect": {"value": 10}}]}))
    assert run("check", str(path)).exit_code == 1
    assert run("check", str(path), "--update").exit_code == 0
    assert json.loads(path.read_text())["case"][0]["expect"] == {"value": 9}
    assert run("check", str(path)).exit_code == 0


def test_check_help(run) -> None:
    text = run("check", "--help").stdout
    for word in ["--update", "rel = 1e-9", "abs = 1e-12", "gradcheck", "error", "N passed", "Exit codes"]:
        assert word in text, word


def test_deeply_nested_files_are_malformed_not_crashes(run, tmp_path) -> None:
    for name, text in [("deep.json", "[" * 100_000), ("deep.toml", "a = " + "[" * 100_000)]:
        res = run("check", str(write(tmp_path, name, text)))
        assert res.exit_code == 2 and "nested too deeply" in res.stderr, res.stderr


def test_an_unknown_error_kind_is_a_malformed_file(tmp_path) -> None:
    from click.testing import CliRunner

    from autodiff.cli import cli

    f = tmp_path / "t.toml"
    f.write_text('[[case]]\nname = "typo"\nprogram = "log(x)"\nbindings = { x = -1 }\n'
                 'expect = { error = "domian" }\n')
    res = CliRunner().invoke(cli, ["check", str(f)])
    assert res.exit_code == 2
    assert 'expect.error "domian" is not an error kind; did you mean domain?' in res.stderr


def test_update_fills_a_case_that_pins_nothing(tmp_path) -> None:
    from click.testing import CliRunner

    from autodiff.cli import cli

    f = tmp_path / "new.toml"
    f.write_text('# golden\n[[case]]\nname = "new"\nprogram = "x*y"\nbindings = { x = 2, y = 3 }\n')
    assert CliRunner().invoke(cli, ["check", str(f)]).exit_code == 2  # nothing to check yet
    res = CliRunner().invoke(cli, ["check", str(f), "--update"])
    assert res.exit_code == 0
    text = f.read_text()
    assert text.startswith("# golden\n") and "value = 6" in text and "x = 3" in text and "y = 2" in text
    assert CliRunner().invoke(cli, ["check", str(f)]).exit_code == 0
