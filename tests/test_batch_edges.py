"""Batches at their edges (issue 9 B, C, D, E, 5, 7, 13, D10, M14): Ctrl-C on a
slow pipe, stray quotes, huge lines, byte-order marks, duplicate keys and
columns, huge integers, extra columns carried through, semicolons."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import tracemalloc

import pytest

from autodiff import parse
from autodiff.batch import CHUNK, MAX_LINE, BatchOptions, PointError, run_batch
from autodiff.cli.common import parse_number


def batch(program: str, data: bytes, **options) -> tuple[list[str], object]:
    graph = parse(program)
    out = io.BytesIO()
    summary = run_batch(graph, graph.select(None), io.BytesIO(data), out, BatchOptions(**options),
                        parse_value=parse_number)
    return out.getvalue().decode("utf-8").splitlines(), summary


def records(lines: list[str]) -> list[dict]:
    return [json.loads(line) for line in lines]


def test_ctrl_c_on_a_slow_pipe_leaves_whole_lines(tmp_path) -> None:
    # Before: the write in progress was abandoned partway (a half record, no newline).
    points = tmp_path / "p.ndjson"
    points.write_text("".join(f'{{"x": {k}.5, "y": -{k}}}\n' for k in range(200_000)), encoding="utf-8")
    env = {**os.environ, "PYTHONUNBUFFERED": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "autodiff", "eval", "x*y + sin(x)", "--points",
                             str(points)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()  # it runs, and the pipe fills up behind this reader
    time.sleep(0.5)  # (not a timed assertion: only to let the writer block on the full pipe)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.2)
    rest = proc.stdout.read()  # the reader drains the pipe slowly, after the signal
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 130, err
    assert "interrupted" in err
    text = first + rest
    assert text.endswith(b"\n")
    lines = text.decode("utf-8").splitlines()
    assert 0 < len(lines) < 200_000
    assert [json.loads(line)["line"] for line in lines] == list(range(1, len(lines) + 1))


@pytest.mark.parametrize("rows", [2000, 30_000])  # (a file over 128 KiB takes the columnar path)
def test_a_stray_quote_swallows_no_rows(run, tmp_path, rows) -> None:
    # Before: 2 records for 2,002 data rows, and "1 of 2 points failed".
    lines = ["x,y", "1,2", '"3,4'] + [f"{i},{i + 1}" for i in range(5, rows + 5)]
    path = tmp_path / "quote.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = run("eval", "x*y", "--points", str(path))
    docs = records(res.stdout.splitlines())
    assert [d["line"] for d in docs] == list(range(2, rows + 4))
    assert docs[1]["error"] == {"kind": "point", "message": "line 3 is not valid CSV: a quoted cell "
                                "is not closed on this line (a cell cannot span lines)"}
    assert docs[2]["value"] == 30 and docs[-1]["value"] == (rows + 4) * (rows + 5)
    assert res.exit_code == 1
    assert f"1 of {rows + 2} points failed" in res.stderr


def test_a_quoted_cell_spanning_lines_is_an_error_on_each_line() -> None:
    lines, summary = batch("x*y", b'x,y\n"3\n4",5\n1,2\n', points_format="csv")
    docs = records(lines)
    assert [d["line"] for d in docs] == [2, 3, 4]
    assert "line 2 is not valid CSV" in docs[0]["error"]["message"]
    assert "error" in docs[1]  # `4",5`: not a number
    assert docs[2]["value"] == 2
    assert (summary.points, summary.failed) == (3, 2)


class _Endless(io.RawIOBase):
    """`size` bytes of "x" without a newline, then `tail`; never held whole."""

    def __init__(self, size: int, tail: bytes) -> None:
        self.left = size
        self.tail = tail
        self.block = b"x" * CHUNK

    def readable(self) -> bool:
        return True

    def read1(self, n: int = -1) -> bytes:
        if self.left > 0:
            self.left -= CHUNK
            return self.block
        tail, self.tail = self.tail, b""
        return tail

    read = read1


def test_an_overlong_line_is_skipped_in_bounded_memory() -> None:
    graph = parse("x*2")
    out = io.BytesIO()
    tracemalloc.start()
    try:
        summary = run_batch(graph, graph.select(None), _Endless(6 * MAX_LINE, b'\n{"x": 1}\n'), out,
                            BatchOptions())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    docs = records(out.getvalue().decode().splitlines())
    assert docs[0] == {"schema": 1, "line": 1, "error": {
        "kind": "point", "message": f"line 1 is longer than {MAX_LINE} bytes"}}
    assert docs[1]["line"] == 2 and docs[1]["value"] == 2
    assert summary.points == 2
    assert peak < 2.5 * MAX_LINE


@pytest.mark.parametrize("fmt,data", [("csv", b"\xef\xbb\xbfx,y\r\n1,2\r\n"),
                                      ("ndjson", b'\xef\xbb\xbf{"x": 1, "y": 2}\n')])
def test_a_byte_order_mark_is_accepted(fmt, data) -> None:
    lines, summary = batch("x*y", data, points_format=fmt)
    assert records(lines)[0]["bindings"] == {"x": 1, "y": 2}
    assert summary.failed == 0


def test_a_duplicate_key_is_an_error_record_as_in_bindings() -> None:
    lines, summary = batch("x/y", b'{"x": 1, "x": 2, "y": 1}\n{"x": 1, "y": 4}\n')
    docs = records(lines)
    assert docs[0]["error"] == {"kind": "binding", "message": "line 1: x is bound twice in the JSON "
                                "object", "name": "x"}
    assert docs[1]["value"] == 0.25


@pytest.mark.parametrize("digits", [400, 5000])
def test_huge_integers_are_too_large_for_a_double(digits) -> None:
    # Before: 5,000 digits gave a "point" error quoting Python's digit limit.
    big = "1" + "0" * (digits - 1)
    lines, _ = batch("x*z", f'{{"x": 1, "z": {big}}}\n{{"x": 1, "z": -{big}}}\n'.encode())
    for doc in records(lines):
        assert doc["error"] == {"kind": "binding", "message": "the value for z is too large for a "
                                "double", "name": "z"}


@pytest.mark.parametrize("program", ["line = x*2", "error = x*2"])
@pytest.mark.parametrize("rows", [1, 30_000])
def test_csv_output_refuses_an_output_named_like_a_column(run, tmp_path, program, rows) -> None:
    # Before: "line,x,line,dline/dx,error" (two columns named line).
    path = tmp_path / "p.csv"
    path.write_text("x\n" + "1.5\n" * rows, encoding="utf-8")
    res = run("eval", program, "--points", str(path), "--format", "csv")
    assert res.exit_code == 2 and res.stdout == ""
    assert "the CSV output would have two columns named" in res.stderr


def test_csv_output_writes_no_header_before_a_fatal_header_error(run) -> None:
    res = run("eval", "x*y", "--points", "-", "--points-format", "csv", "--format", "csv",
              input="x,zz\n1,2\n")
    assert res.exit_code == 2 and res.stdout == ""
    with pytest.raises(PointError, match="the CSV header"):
        batch("x*y", b"x,y y\n1,2\n", points_format="csv", output_format="csv")


def test_extra_columns_and_keys_are_carried_through() -> None:
    lines, summary = batch("x*y", b'id,x,y,note\nA7,1,2,first\nB8,3,oops,\n', points_format="csv",
                           ignore_extra=True)
    docs = records(lines)
    assert docs[0] == {"schema": 1, "line": 2, "extra": {"id": "A7", "note": "first"}, "output": "f",
                       "value": 2, "gradient": {"x": 2, "y": 1}, "bindings": {"x": 1, "y": 2}}
    assert docs[1]["extra"] == {"id": "B8", "note": ""} and docs[1]["error"]["kind"] == "binding"
    lines, _ = batch("x*y", b'id,x,y\nA7,1,2\n', points_format="csv", ignore_extra=True,
                     output_format="csv")
    assert lines == ["line,id,x,y,f,df/dx,df/dy,error", "2,A7,1,2,2,2,1,"]
    lines, _ = batch("x*y", b'{"id": "A7", "x": 1, "y": 2, "tags": [1]}\n{"x": 1, "y": 3}\n',
                     ignore_extra=True)
    docs = records(lines)
    assert docs[0]["extra"] == {"id": "A7", "tags": [1]} and docs[0]["value"] == 2
    assert "extra" not in docs[1] and docs[1]["value"] == 3
    lines, _ = batch("x*y", b'{"id": "A7", "x": 1, "y": 2}\n', ignore_extra=True, output_format="csv")
    assert lines == ["line,extra,x,y,f,df/dx,df/dy,error", '1,"{""id"":""A7""}",1,2,2,2,1,']


def test_without_the_option_an_extra_column_names_it() -> None:
    with pytest.raises(Exception, match="--ignore-extra"):
        batch("x*y", b"id,x,y\nA7,1,2\n", points_format="csv")


def test_semicolon_separated_csv_is_detected_or_chosen() -> None:
    lines, _ = batch("x*y", b"x;y\n1;2\n 3 ; 4 \n", points_format="csv")
    assert [d["value"] for d in records(lines)] == [2, 12]
    lines, _ = batch("x", b"x\n1\n", points_format="csv", csv_delimiter=";")
    assert records(lines)[0]["value"] == 1


def test_csv_on_stdin_read_as_ndjson_gets_a_hint(run) -> None:
    res = run("eval", "x*y", "--points", "-", input="x,y\n1,2\n")
    first = json.loads(res.stdout.splitlines()[0])
    assert first["error"]["message"].endswith("(it looks like a CSV header: say --points-format csv)")


def test_the_ignore_extra_option(run) -> None:
    res = run("eval", "x*y", "--points", "-", "--points-format", "csv", "--ignore-extra",
              input="id,x,y\nA7,1,2\n")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["extra"] == {"id": "A7"}
    res = run("eval", "x*y", "--points", "-", "--points-format", "csv", input="id,x,y\nA7,1,2\n")
    assert res.exit_code == 2 and "--ignore-extra" in res.stderr
    assert run("eval", "x", "--x", "1", "--ignore-extra").exit_code == 2
