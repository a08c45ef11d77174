"""Batches of points (`eval --points`), `--bindings`, and the JSON contract:
every output kind validates against schema/result.schema.json."""

from __future__ import annotations

import csv
import io
import json

import jsonschema
import pytest

import autodiff
from autodiff.batch import BatchOptions, run_batch
from autodiff.cli.common import parse_number

from conftest import valid

LECTURE = "J=3*(a+b*c)"


def ndjson(text: str) -> list[dict]:
    return [valid(json.loads(line)) for line in text.splitlines()]


def test_ndjson_points_one_line_each_with_line_numbers(run) -> None:
    points = '{"a": 5, "b": 3, "c": 2}\n\n{"c": 1, "a": 0.5, "b": -1}\n'
    res = run("eval", LECTURE, "--points", "-", input=points)
    assert res.exit_code == 0 and res.stderr == ""
    lines = res.stdout.splitlines()
    assert lines[0] == ('{"schema":1,"line":1,"output":"J","value":33,"gradient":{"a":3,"b":6,"c":9},'
                        '"bindings":{"a":5,"b":3,"c":2}}')
    second = ndjson(res.stdout)[1]
    assert second["line"] == 3  # the blank line 2 is not a point
    assert (second["value"], second["gradient"]) == (-1.5, {"a": 3, "b": 3, "c": -3})
    assert list(second["bindings"]) == ["c", "a", "b"]  # as given, like eval's bindings


def test_each_line_is_evals_json_plus_line(run) -> None:
    program = "y = sin(x)*z/3; w = y^2 + log(x); w"
    points = [{"x": 0.7, "z": -2}, {"x": 1e-5, "z": 3.25}, {"x": 12, "z": 0}]
    res = run("eval", program, "--points", "-", input="".join(json.dumps(p) + "\n" for p in points))
    for k, (p, doc) in enumerate(zip(points, ndjson(res.stdout), strict=True)):
        single = run("eval", program, "--json", "--no-nodes",
                     *[f"--{n}={v}" for n, v in p.items()])
        want = json.loads(single.stdout)
        assert doc == {"schema": 1, "line": k + 1, **{key: want[key] for key in list(want)[1:]}}


def test_bad_points_in_the_middle_become_error_records(run) -> None:
    good = '{"a": 1, "b": 2, "c": 3}'
    points = "\n".join([
        good,
        '{"a": 1, "b": 2}',                      # 2 missing c
        '{"a": 1, "b": "2", "c": 3}',            # 3 a string
        '{"a": true, "b": 2, "c": 3}',           # 4 a boolean
        '{"a": NaN, "b": 2, "c": 3}',            # 5 not JSON's
        '{"a": 1e999, "b": 2, "c": 3}',          # 6 too large
        'not json',                              # 7
        '[1, 2, 3]',                             # 8 not an object
        '{"a": 1, "b": 2, "c": 3, "z": 4}',      # 9 z is not a variable
        '{"a": {"x": 1}, "b": 2, "c": 3}',       # 10 nested
        good,
    ]) + "\n"
    res = run("eval", LECTURE, "--points", "-", input=points)
    assert res.exit_code == 1
    docs = ndjson(res.stdout)
    assert [d["line"] for d in docs] == list(range(1, 12))
    assert "error" not in docs[0] and "error" not in docs[-1]
    kinds = [d["error"]["kind"] for d in docs[1:-1]]
    assert kinds == ["binding", "binding", "binding", "point", "binding", "point", "point", "binding",
                     "binding"]
    assert "no value for the variable c" in docs[1]["error"]["message"]
    assert 'the value for b is not a number: "2"' in docs[2]["error"]["message"]
    assert "the value for a is not a number: true" in docs[3]["error"]["message"]
    assert "does not use z" in docs[8]["error"]["message"]
    assert "9 of 11 points failed" in res.stderr
    assert "error: line 2: no value for the variable c" in res.stderr
    assert "Traceback" not in res.stderr


def test_a_domain_error_at_a_point_says_what_eval_says(run) -> None:
    res = run("eval", "log(x) + 1/(y*y)", "--points", "-",
              input='{"x": 2, "y": 1}\n{"x": -1, "y": 1}\n{"x": 1, "y": 1e200}\n{"x": 1, "y": 2}\n')
    assert res.exit_code == 1
    docs = ndjson(res.stdout)
    for doc, args in [(docs[1], ["--x", "-1", "--y", "1"]), (docs[2], ["--x", "1", "--y", "1e200"])]:
        single = run("eval", "log(x) + 1/(y*y)", *args, "--json", "--no-nodes")
        assert doc["error"] == json.loads(single.stdout)["error"]
    assert docs[1]["error"]["kind"] == "domain" and docs[2]["error"]["kind"] == "overflow"
    assert "error" not in docs[3]


def test_fail_fast_stops_at_the_first(run) -> None:
    res = run("eval", "log(x)", "--points", "-", "--fail-fast", input='{"x": 1}\n{"x": -1}\n{"x": 2}\n')
    assert res.exit_code == 1
    assert [d["line"] for d in ndjson(res.stdout)] == [1, 2]
    assert "--fail-fast" in res.stderr


def test_nodes_in_batch_lines(run) -> None:
    res = run("eval", LECTURE, "--points", "-", "--nodes", input='{"a": 5, "b": 3, "c": 2}\n')
    doc = ndjson(res.stdout)[0]
    assert list(doc) == ["schema", "line", "output", "value", "gradient", "bindings", "nodes"]
    assert [n["adjoint"] for n in doc["nodes"] if n["op"] == "input"] == [3, 6, 9]


def test_csv_in_csv_out_round_trip(run, tmp_path) -> None:
    src = tmp_path / "points.csv"
    src.write_text("a,b,c\n5,3,2\n-1.5,2.5e-3,0\n1,oops,2\n.5,+2,-0\n")
    res = run("eval", LECTURE, "--points", str(src), "--format", "csv")
    assert res.exit_code == 1
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert res.stdout.splitlines()[0] == "line,a,b,c,J,dJ/da,dJ/db,dJ/dc,error"
    assert [r["line"] for r in rows] == ["2", "3", "4", "5"]
    assert rows[0] == {"line": "2", "a": "5", "b": "3", "c": "2", "J": "33", "dJ/da": "3",
                       "dJ/db": "6", "dJ/dc": "9", "error": ""}
    assert rows[2]["error"].startswith("binding: the value for b is not a number: 'oops'")
    assert rows[2]["J"] == ""
    # round trip: the CSV's inputs, read back as points, give the same numbers as NDJSON
    for row in (rows[0], rows[1], rows[3]):
        point = {k: float(row[k]) for k in "abc"}
        doc = autodiff.differentiate(LECTURE, point)
        assert float(row["J"]) == doc.value
        assert [float(row[f"dJ/d{k}"]) for k in "abc"] == list(doc.gradient.values())
    again = tmp_path / "again.csv"
    again.write_text("\n".join(",".join(r[k] for k in "abc") for r in rows if not r["error"]))
    again.write_text("a,b,c\n" + again.read_text() + "\n")
    res2 = run("eval", LECTURE, "--points", str(again), "--format", "csv")
    values = [(r["J"], r["dJ/da"]) for r in csv.DictReader(io.StringIO(res2.stdout))]
    assert values == [(r["J"], r["dJ/da"]) for r in rows if not r["error"]]


def test_csv_points_to_ndjson_and_csv_errors(run, tmp_path) -> None:
    src = tmp_path / "p.txt"
    src.write_text("x\r\n2\r\n1,2\r\n\r\n-3\r\n")
    res = run("eval", "x^2", "--points", str(src), "--points-format", "csv")
    docs = ndjson(res.stdout)
    assert [(d["line"], d.get("value")) for d in docs] == [(2, 4), (3, None), (5, 9)]
    assert docs[1]["error"] == {"kind": "point", "message": "line 3 has 2 cells; the header has 1"}
    bad = tmp_path / "bad.csv"
    bad.write_text("x,1y\n1,2\n")
    res = run("eval", "x^2", "--points", str(bad))
    assert res.exit_code == 2 and "'1y' is not one" in res.stderr
    assert valid(json.loads(res.stdout))["error"]["kind"] == "point"


def test_invalid_utf8_line_is_one_error_record(run) -> None:
    res = run("eval", "x", "--points", "-", input=b'{"x": 1}\n{"x": "\xff"}\n{"x": 2}\n')
    docs = ndjson(res.stdout)
    assert [d.get("value") for d in docs] == [1, None, 2]
    assert "not valid UTF-8" in docs[1]["error"]["message"]


def test_bindings_json_and_precedence(run, tmp_path) -> None:
    doc = json.loads(run("eval", LECTURE, "--bindings", '{"a": 5, "b": 3, "c": 2}', "--json").stdout)
    assert doc["value"] == 33
    point = tmp_path / "point.json"
    point.write_text('{"a": 5, "b": 3, "c": 2}')
    doc = json.loads(run("eval", LECTURE, "--bindings", f"@{point}", "--c", "4", "--json").stdout)
    assert (doc["value"], doc["bindings"]) == (51, {"a": 5, "b": 3, "c": 4})  # --c wins
    # batch: --bindings under each point, --NAME options over it
    res = run("eval", LECTURE, "--points", "-", "--bindings", '{"a": 100, "c": 2}', "--b", "3",
              input='{"a": 5}\n{"a": 5, "b": 1000}\n')
    assert [d["value"] for d in ndjson(res.stdout)] == [33, 33]
    for bad, words in [("[1]", "must be a JSON object"), ('{"a": "x"}', "not a number"),
                       ("{", "not valid JSON"), ('{"a": Infinity}', "not valid JSON")]:
        res = run("eval", LECTURE, "--bindings", bad)
        assert res.exit_code == 2 and words in res.stderr, res.stderr


@pytest.mark.parametrize("args, words", [
    (["--format", "csv"], "--format works with --points"),
    (["--fail-fast"], "--fail-fast works with --points"),
    (["--points", "-", "--gradcheck"], "does not work with --points"),
    (["--points", "-", "--format", "csv", "--nodes"], "CSV has no room for it"),
])
def test_batch_usage_errors(run, args, words) -> None:
    res = run("eval", "x", "--x", "1", *args)
    assert res.exit_code == 2 and words in res.stderr


def test_program_and_points_cannot_both_be_stdin(run) -> None:
    res = run("eval", "-", "--points", "-", input="x\n")
    assert res.exit_code == 2 and "only one input can come from stdin" in res.stderr


def test_compiled_and_interpreted_batches_are_byte_identical() -> None:
    program = ("f = sin(a*b+c)*exp(-a/4) + log(1+b*b)*cos(c-d) + exp(sin(a)*cos(b))/(1+c*c) "
               "+ log(2+sin(d*a))*b - a*b*c*d/(1+exp(-c)) + sin(exp(-d*d))*log(3+a*a+b*b) "
               "+ cos(a+b+c+d)")
    import random

    rng = random.Random(3)
    lines = []
    for k in range(400):
        p = {v: rng.choice([rng.uniform(-3, 3), 10 ** rng.uniform(-3, 3), -0.0, 0, 1e200]) for v in "abcd"}
        if k % 37 == 0:
            del p["d"]
        lines.append(json.dumps(p))
    data = ("\n".join(lines) + "\n").encode()
    full = autodiff.parse(program)
    outs = []
    for compiled in (True, False):
        out = io.BytesIO()
        run_batch(full, full.select(None), io.BytesIO(data), out, BatchOptions(compile=compiled))
        outs.append(out.getvalue())
    assert outs[0] == outs[1]
    assert b'"error"' in outs[0] and b'"value"' in outs[0]
    for fmt in ("csv",):
        csv_outs = []
        for compiled in (True, False):
            out = io.BytesIO()
            run_batch(full, full.select(None), io.BytesIO(data), out,
                      BatchOptions(output_format=fmt, compile=compiled), parse_value=parse_number)
            csv_outs.append(out.getvalue())
        assert csv_outs[0] == csv_outs[1]


def test_schema_covers_every_output_kind(run) -> None:
    kinds = {
        "result": run("eval", LECTURE, "--a", "5", "--b", "3", "--c", "2", "--json").stdout,
        "result without nodes": run("eval", "abs(x)", "--x", "0", "--json", "--no-nodes").stdout,
        "syntax error": run("eval", "x +", "--x", "1", "--json").stdout,
        "evaluation error": run("eval", "log(x)", "--x", "0", "--json").stdout,
        "binding error": run("eval", "x", "--json").stdout,
        "gradcheck": run("eval", "sin(x)*y", "--x", "1", "--y", "2", "--json", "--gradcheck").stdout,
    }
    for name, text in kinds.items():
        assert valid(json.loads(text)), name
    lines = run("eval", "log(x)", "--points", "-", input='{"x": 1}\n{"x": 0}\n').stdout.splitlines()
    valid(json.loads(lines[0]))
    valid(json.loads(lines[1]))
    with pytest.raises(jsonschema.ValidationError):
        valid({"schema": 1, "output": "f", "value": "NaN", "gradient": {}, "bindings": {}})


def test_batch_output_is_deterministic(run) -> None:
    points = "".join(json.dumps({"x": x / 7, "y": -x}) + "\n" for x in range(50))
    outs = {run("eval", "atan2(y, x) + hypot(x, y)", "--points", "-", input=points).stdout
            for _ in range(2)}
    assert len(outs) == 1


EDGE_NUMBERS = [0.0, -0.0, 5.0, -5.0, 0.5, 100.0, 1e15, 1e15 + 1, 2.0**53 - 1, 2.0**53, 2.0**53 + 2,
                -(2.0**53) + 1, 9.5e15, 1e16, 1e200, 1e-300, 123456789012345.0, -100.25, 10.05]


def test_numbers_are_written_as_eval_writes_them() -> None:
    from autodiff.numfmt import json_number

    full = autodiff.parse("f = x*y")
    data = "".join(json.dumps({"x": x, "y": 1.0}) + "\n" for x in EDGE_NUMBERS).encode()
    outs = []
    for compiled in (True, False):
        out = io.BytesIO()
        run_batch(full, full.select(None), io.BytesIO(data), out, BatchOptions(compile=compiled))
        outs.append(out.getvalue().decode())
    assert outs[0] == outs[1]
    for x, line in zip(EDGE_NUMBERS, outs[0].splitlines(), strict=True):
        want = json.dumps(json_number(x))
        assert f'"value":{want},' in line and f'"bindings":{{"x":{want},"y":1}}' in line, (x, line)


def test_a_csv_header_naming_an_unknown_variable_fails_the_batch(run) -> None:
    res = run("eval", "x^2", "--points", "-", "--points-format", "csv", input="x,z\n1,2\n")
    assert res.exit_code == 2
    assert "the CSV header (line 1) names z, but the program does not use z" in res.stderr


def test_eval_help_describes_the_pipeline_options(run) -> None:
    text = run("eval", "--help").stdout
    for word in ["--bindings", "@FILE", "--points", "--points-format", "--format", "--nodes",
                 "--fail-fast", "--gradcheck", "NDJSON", "CSV", "d<output>/d<variable>",
                 "1e-5", "points-format, nodes, fail-fast, ignore-extra,"]:
        assert word in text, word


def test_hostile_lines_are_error_records(run) -> None:
    deep = "[" * 100_000
    long_key = '{"' + "k" * 10_000 + '": 1}'
    surrogate_key = '{"\\ud800": 1}'
    lines = [deep, long_key, surrogate_key, '{"x": 1}']
    res = run("eval", "x", "--points", "-", input="\n".join(lines) + "\n")
    assert res.exit_code == 1
    docs = ndjson(res.stdout)
    assert [d.get("value") for d in docs] == [None, None, None, 1]
    assert "nested too deeply" in docs[0]["error"]["message"]
    assert len(docs[1]["error"]["message"]) < 300
    assert "\\ud800" in docs[2]["error"]["message"]
    res = run("eval", "x", "--bindings", deep)
    assert res.exit_code == 2 and "nested too deeply" in res.stderr


@pytest.mark.parametrize("program", ["J = x", "J = x*1", "f = 2 + 0*x"])
def test_values_the_output_passes_through_are_checked_too(run, program) -> None:
    res = run("eval", program, "--points", "-",
              input='{"x": "abc"}\n{"x": 1e999}\n{"x": true}\n{"x": null}\n{"x": 12345678901234567890}\n'
                    '{"x": 2}\n')
    docs = ndjson(res.stdout)
    assert [d["error"]["kind"] for d in docs[:4]] == ["binding"] * 4
    assert "too large" in docs[1]["error"]["message"]
    assert "error" not in docs[4] and docs[4]["bindings"]["x"] == 1.2345678901234567e19
    assert "error" not in docs[5]


@pytest.mark.parametrize("fmt", ["ndjson", "csv"])
def test_an_overlong_line_is_one_error_record_and_numbering_goes_on(monkeypatch, fmt) -> None:
    from autodiff import batch

    monkeypatch.setattr(batch, "MAX_LINE", 100)
    monkeypatch.setattr(batch, "CHUNK", 16)  # many small reads, as from a slow pipe
    full = autodiff.parse("f = 2*x")
    if fmt == "ndjson":
        lines = ['{"x": 1}', '{"x": ' + "1" * 1000 + "}", '{"x": 3}', "", '{"x": 4}']
    else:
        lines = ["x", "1", "1" * 1000, "3", "", "4"]
    out = io.BytesIO()
    summary = run_batch(full, full.select(None), io.BytesIO("\n".join(lines).encode()), out,
                        BatchOptions(points_format=fmt), parse_value=parse_number)
    docs = ndjson(out.getvalue().decode())
    first = 1 if fmt == "ndjson" else 2
    assert [(d["line"], d.get("value")) for d in docs] == [
        (first, 2), (first + 1, None), (first + 2, 6), (first + 4, 8)]
    assert "longer than 100 bytes" in docs[1]["error"]["message"]
    assert (summary.points, summary.failed) == (4, 1)


def test_a_large_graph_is_compiled_only_for_a_long_batch(monkeypatch) -> None:
    from autodiff import batch

    calls = []
    real = batch.compile_graph
    monkeypatch.setattr(batch, "compile_graph", lambda g: calls.append(len(g)) or real(g))
    full = autodiff.parse("+".join(f"sin(x*{i})" for i in range(1, 1100)))  # about 3,300 nodes
    n = len(full.select(None))
    for points, compiled in ((n // 1000, False), (n // 1000 + 1, True)):
        calls.clear()
        data = "".join(json.dumps({"x": k / 3}) + "\n" for k in range(points)).encode()
        run_batch(full, full.select(None), io.BytesIO(data), io.BytesIO(), BatchOptions())
        assert bool(calls) is compiled
