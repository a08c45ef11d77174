"""The columnar CSV batch path writes what the point-by-point path writes.

Programs of + - * / and sqrt (correctly rounded in NumPy as in C) must give
byte-identical output; programs with elementary functions the same text with
numbers within an ulp or so per operation."""

from __future__ import annotations

import csv
import io
import math
import os
import random
import subprocess
import sys
import textwrap

import pytest

np = pytest.importorskip("numpy")

import autodiff  # noqa: E402
from autodiff import columnar  # noqa: E402
from autodiff.batch import BatchOptions, BatchSummary, run_batch  # noqa: E402
from autodiff.cli.common import parse_number  # noqa: E402

EXACT = "f = x*y/(x - y) + sqrt(x) - y/3"


def batch(program: str, data: bytes, *, columnar_on: bool, **opts: object) -> tuple[bytes, BatchSummary]:
    full = autodiff.parse(program)
    out = io.BytesIO()
    options = BatchOptions(points_format="csv", columnar=columnar_on, **opts)  # type: ignore[arg-type]
    summary = run_batch(full, full.select(None), io.BytesIO(data), out, options, parse_value=parse_number)
    return out.getvalue(), summary


def same(program: str, data: bytes, **opts: object) -> bytes:
    """Both paths on `data`: identical bytes and summaries; returns the output."""
    new, s_new = batch(program, data, columnar_on=True, **opts)
    old, s_old = batch(program, data, columnar_on=False, **opts)
    assert new.decode() == old.decode()
    assert (s_new.points, s_new.failed, s_new.stopped) == (s_old.points, s_old.failed, s_old.stopped)
    assert [(n, e.kind, e.message) for n, e in s_new.failures] == \
        [(n, e.kind, e.message) for n, e in s_old.failures]
    return new


HOSTILE = textwrap.dedent("""\
    x,y
    1,2
    4,4
    -1,2
    0,5

    2.5 , 1e-3
    1e999,1
    abc,2
    ,2
    1_0,2
    nan,1
    inf,1
    3,2,1
    7
    \t9,8
    0x10,1
    5.,.5
    +1,-2
    1E3,2e-2
    """).encode() + b"\xff\xfe,1\n" + b"3,4\r\n" + b"6,7"


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_hostile_lines_give_the_same_records(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTODIFF_WORKERS", "0")
    out = same(EXACT, HOSTILE, output_format=fmt)
    assert b"division_by_zero" in out and b"domain" in out and b"derivative" in out
    assert b"too large" in out and b"cells" in out and b"not valid UTF-8" in out


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_clean_blocks_are_identical(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random points in small blocks, with worker processes: integral
    numbers, -0.0, tiny and huge values are written as the scalar path writes them."""
    monkeypatch.setattr(columnar, "BLOCK_BYTES", 2048)
    monkeypatch.setenv("AUTODIFF_WORKERS", "1")
    rng = random.Random(5)
    cells = ["0", "-0", "-0.0", "1", "2.0", "1e-7", "-3e20", "9007199254740993", "0.1", "1e300", "0.00010",
             "1.50", "+1", "007", "1.0", "0.0001", "-0.00001", "123456789012345", "1234567890123456",
             "9999999999999999", "0.000123456789012345", "12345678901234.5", "-0.5", "5.", ".5"]
    rows = ["x,y"] + [f"{rng.choice(cells) if rng.random() < 0.2 else repr(rng.uniform(-5, 5))},"
                      f"{rng.choice(cells) if rng.random() < 0.2 else repr(round(rng.uniform(-5, 5), 3))}"
                      for _ in range(3000)]
    same(EXACT, ("\n".join(rows) + "\n").encode(), output_format=fmt)


def test_fuzzed_cells_match(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cells made of the characters of numbers (and a few others): whatever
    the strict decimal rule accepts or refuses, both paths agree."""
    monkeypatch.setattr(columnar, "BLOCK_BYTES", 4096)
    monkeypatch.setenv("AUTODIFF_WORKERS", "0")
    rng = random.Random(7)
    alphabet = "0123456789.eE+-" * 3 + " _x"
    rows = ["x,y"]
    for _ in range(2000):
        rows.append(",".join("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 5)))
                             if rng.random() < 0.5 else str(rng.randint(1, 9)) for _ in range(2)))
    same(EXACT, ("\n".join(rows) + "\n").encode(), output_format="csv")


def test_a_quote_hands_the_rest_to_the_point_by_point_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(columnar, "BLOCK_BYTES", 64)
    monkeypatch.setenv("AUTODIFF_WORKERS", "0")
    rows = ["x,y"] + [f"{i},{i + 1}" for i in range(1, 40)]
    rows[25] = '"5",6'
    rows[30] = '"7\n8",9'
    for fmt in ("csv", "ndjson"):
        same(EXACT, ("\n".join(rows) + "\n").encode(), output_format=fmt)


def test_fail_fast_bindings_and_odd_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(columnar, "BLOCK_BYTES", 256)
    monkeypatch.setenv("AUTODIFF_WORKERS", "1")
    rows = "x,y\n" + "".join(f"{i},{(i * 7) % 13}\n" for i in range(1, 200))
    same(EXACT, rows.encode(), output_format="csv", fail_fast=True)
    same(EXACT, rows.encode(), output_format="ndjson", overrides={"y": 2.0})
    same(EXACT, b"x\n" + b"".join(b"%d\n" % i for i in range(50)), output_format="csv", base={"y": 2.0})
    for header in (b"y,x\n", b" x,y\n", b"x,x\n", b"x,z\n", b"", b"x,y", b"\xef\xbb\xbfx,y\n", b"x,,y\n"):
        got = []
        for on in (True, False):
            try:
                got.append(batch(EXACT, header + b"1,2\n3,4\n", columnar_on=on, output_format="csv")[0])
            except autodiff.AutodiffError as exc:
                got.append(exc.message.encode())
        assert got[0] == got[1], header


def test_elementary_functions_within_an_ulp_per_operation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTODIFF_WORKERS", "0")
    program = ("f = sin(a*b+c)*exp(-a/4) + log(1+b*b)*cos(c-d) + exp(sin(a)*cos(b))/(1+c*c) "
               "+ log(2+sin(d*a))*b - a*b*c*d/(1+exp(-c)) + sin(exp(-d*d))*log(3+a*a+b*b) "
               "+ cos(a+b+c+d)")
    rng = random.Random(4)
    text = "a,b,c,d\n" + "".join(",".join(repr(round(rng.uniform(-2, 2), 6)) for _ in range(4)) + "\n"
                                 for _ in range(2000))
    new, _ = batch(program, text.encode(), columnar_on=True, output_format="csv")
    old, _ = batch(program, text.encode(), columnar_on=False, output_format="csv")
    graph = autodiff.parse(program).select(None)
    ops = sum(op is not None for op in graph.op)
    rows_new = list(csv.reader(io.StringIO(new.decode())))
    rows_old = list(csv.reader(io.StringIO(old.decode())))
    assert len(rows_new) == len(rows_old) == 2001
    for a, b in zip(rows_new[1:], rows_old[1:], strict=True):
        assert a[:5] == b[:5] and a[-1] == b[-1] == ""
        r = autodiff.evaluate(graph, dict(zip("abcd", map(float, a[1:5]), strict=True)))
        scale = max(max(map(abs, r.values)), max(map(abs, r.adjoints)))
        for x, y in zip(a[5:-1], b[5:-1], strict=True):
            assert abs(float(x) - float(y)) <= ops * scale * 2.0**-52, (a, b)


def test_memory_stays_flat(tmp_path: pytest.TempPathFactory) -> None:
    """100,000 points take no more memory than 10,000 (blocks, streamed)."""
    script = textwrap.dedent("""\
        import io, resource, sys, autodiff
        from autodiff.batch import BatchOptions, run_batch
        from autodiff.cli.common import parse_number
        n = int(sys.argv[1])
        full = autodiff.parse("f = sin(x)*y + x/y")

        class Points(io.RawIOBase):
            def __init__(self):
                self.i = 0
                self.head = b"x,y\\n"
            def readable(self):
                return True
            def readinto(self, b):
                if self.i >= n:
                    return 0
                k = min(n - self.i, len(b) // 40)
                data = self.head + b"".join(b"%d.25,%d.5\\n" % (j, j + 1) for j in range(self.i, self.i + k))
                self.head = b""
                self.i += k
                b[:len(data)] = data
                return len(data)

        class Sink(io.RawIOBase):
            def writable(self):
                return True
            def write(self, b):
                return len(b)

        run_batch(full, full.select(None), io.BufferedReader(Points(), 1 << 16), Sink(),
                  BatchOptions(points_format="csv", output_format="csv"), parse_value=parse_number)
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        """)
    env = {**os.environ, "AUTODIFF_WORKERS": "0"}
    peak = [int(subprocess.run([sys.executable, "-c", script, str(n)], capture_output=True, text=True,
                               check=True, env=env).stdout) for n in (10_000, 100_000)]
    assert peak[1] - peak[0] < 8 * 1024, peak  # KiB


def test_without_numpy_the_point_by_point_path_runs(tmp_path: pytest.TempPathFactory) -> None:
    code = ("import sys; sys.modules['numpy'] = None\n"
            "from autodiff.cli import main; sys.argv = ['autodiff', 'eval', 'x*y', '--points', '-', "
            "'--points-format', 'csv', '--format', 'csv']\nmain()")
    got = subprocess.run([sys.executable, "-c", code], input="x,y\n2,3\n", capture_output=True,
                         text=True, check=True).stdout
    assert got == "line,x,y,f,df/dx,df/dy,error\n2,2,3,6,3,2,\n" or "6" in got
    assert math.isclose(float(got.splitlines()[1].split(",")[3]), 6.0)


def test_csv_results_stream_as_points_arrive() -> None:
    """One CSV point in, its result out, while the input is still open (the
    columnar path does not wait for a full block)."""
    import shutil
    import threading

    exe = shutil.which("autodiff", path=os.path.dirname(sys.executable)) or "autodiff"
    proc = subprocess.Popen([exe, "eval", "f = x^2", "--points", "-", "--points-format", "csv",
                             "--format", "csv"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    watchdog = threading.Timer(30, proc.kill)  # a held-back output fails the test, never hangs it
    watchdog.start()
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(b"x\n")
        for x in (3, 4):
            proc.stdin.write(f"{x}\n".encode())
            proc.stdin.flush()
            line = proc.stdout.readline()
            if line.startswith(b"line"):
                line = proc.stdout.readline()
            assert line.decode().split(",")[2] == str(x * x)
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
    finally:
        watchdog.cancel()
        proc.kill()
        proc.wait()
