"""`autodiff plot`: the numbers behind the picture. Values and derivatives
against math's own functions, the tangent's slope against autodiff's
derivative, gaps where the function is undefined, kinks found where the
derivative jumps; the Braille text within the width and without escapes;
the SVG's polylines read back to the data through the mapping it records."""

from __future__ import annotations

import math
import re

import pytest

from autodiff.parser import parse
from autodiff.plot import nice_ticks, parse_range, plot_data, to_braille, to_png, to_svg


def data(program: str, **kw: float):
    bindings = {k: v for k, v in kw.items() if k not in ("lo", "hi")}
    return plot_data(parse(program).select(None), bindings, lo=kw.get("lo"), hi=kw.get("hi"))


def test_values_derivatives_and_tangent_are_autodiffs() -> None:
    d = data("J = sin(x)", x=1.0, lo=0.0, hi=3.0)
    assert d.xs[0] == 0.0 and d.xs[-1] == 3.0 and len(d.xs) == 401
    assert all(y == math.sin(x) for x, y in zip(d.xs, d.ys, strict=True))
    assert all(dy == math.cos(x) for x, dy in zip(d.xs, d.dys, strict=True))
    assert (d.x0, d.y0, d.slope) == (1.0, math.sin(1.0), math.cos(1.0))
    assert d.tangent(2.0) == math.sin(1.0) + math.cos(1.0)
    assert d.kinks == [] and d.gaps() == []


def test_default_range_and_other_variables_bound() -> None:
    d = plot_data(parse("J = x*y + x").select(None), {"x": 2, "y": 5}, variable="x")
    assert (d.lo, d.hi) == (-1.0, 5.0)
    assert d.slope == 6.0 and d.fixed == {"y": 5.0}
    assert all(y == x * 5 + x for x, y in zip(d.xs, d.ys, strict=True))


def test_log_is_a_gap_not_an_error() -> None:
    d = data("J = log(x)*x", x=1.0, lo=-2.0, hi=4.0)
    for x, y, dy in zip(d.xs, d.ys, d.dys, strict=True):
        if x <= 0:
            assert y is None and dy is None
        else:
            assert y == pytest.approx(math.log(x) * x) and dy == pytest.approx(math.log(x) + 1)
    [(a, b)] = d.gaps()
    assert a == -2.0 and b < 0 < b + 6 / 400 + 1e-12


def test_a_value_without_a_derivative_keeps_the_value() -> None:
    d = data("J = sqrt(x)", x=1.0, lo=0.0, hi=4.0)
    assert d.ys[0] == 0.0 and d.dys[0] is None and d.dys[1] == pytest.approx(0.5 / math.sqrt(d.xs[1]))


@pytest.mark.parametrize("program, lo, where, note", [
    ("J = abs(x - 1) + sin(x)", -1.0, 1.0, "abs'(0) = 0"),  # sampled exactly
    ("J = abs(x - 1) + sin(x)", -1.3, 1.0, "abs'(0) = 0"),  # between samples: bisection
    ("J = relu(x - 0.3)", -1.3, 0.3, "relu'(0) = 0"),
])
def test_kinks_are_found_and_marked(program: str, lo: float, where: float, note: str) -> None:
    d = data(program, x=2.0, lo=lo, hi=5.0)
    assert d.kinks == [(where, note)]
    text = to_braille(d, 80)
    assert f"× not differentiable at x = {where:g}: {note}, as in PyTorch" in text
    svg = to_svg(d)
    assert f'class="kink" data-x="{where!r}"' in svg


def test_braille_fits_the_width_and_has_no_escapes() -> None:
    d = data("J = log(x)*x", x=1.0, lo=-2.0, hi=4.0)
    for width in (40, 80, 132):
        text = to_braille(d, width)
        assert "\x1b" not in text
        assert max(len(line) for line in text.splitlines()) <= width
        assert "●" in text and "undefined for x from -2 to" in text
    text = to_braille(d, 80, height=10)
    rows = text.splitlines()
    # the bound point ● sits in the column of x0 = 1: a third of the way from -2 to 4
    row = next(r for r in rows if "●" in r and "┤" in r)
    cols = 80 - 12
    col = row.index("●") - 12
    assert abs(col - (1 - -2) / 6 * cols) <= 1
    assert "slope ∂J/∂x = 1" in text


def _svg_points(svg: str, role: str) -> tuple[list[tuple[float, float]], dict[str, float]]:
    part = svg.split(f'<g class="{role}" ', 1)[1].split('<g class="derivative"', 1)[0]
    head, body = part.split(">", 1)
    attrs = {k: float(v) for k, v in re.findall(r'data-(\w+)="([^"]+)"', head)}
    pts = []
    for poly in re.findall(r'<polyline class="curve" points="([^"]+)"', body):
        for pair in poly.split():
            px, py = map(float, pair.split(","))
            pts.append((attrs["x0"] + (px - attrs["left"]) / attrs["sx"],
                        attrs["y0"] - (py - attrs["top"]) / attrs["sy"]))
    return pts, attrs


def test_svg_polylines_read_back_to_the_data() -> None:
    d = data("J = sin(x)", x=1.0, lo=0.0, hi=3.0)
    svg = to_svg(d)
    assert svg.startswith("<svg") and "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    pts, attrs = _svg_points(svg, "function")
    assert len(pts) == 401
    for x, y in pts:
        assert y == pytest.approx(math.sin(x), abs=0.01 / attrs["sy"])  # within a hundredth of a pixel
    pts, _ = _svg_points(svg, "derivative")
    for x, y in pts:
        assert y == pytest.approx(math.cos(x), abs=0.01)  # the derivative panel's scale is not the same
    m = re.search(r'class="tangent" x1="([^"]+)" y1="([^"]+)" x2="([^"]+)" y2="([^"]+)"', svg)
    assert m
    x1, y1, x2, y2 = map(float, m.groups())
    slope = -(y2 - y1) / attrs["sy"] / ((x2 - x1) / attrs["sx"])
    assert slope == pytest.approx(math.cos(1.0), rel=1e-3)


def test_svg_splits_at_gaps() -> None:
    svg = to_svg(data("J = log(x)*x", x=1.0, lo=-2.0, hi=4.0))
    assert svg.count('class="gap"') == 1
    pts, _ = _svg_points(svg, "function")
    assert min(x for x, _ in pts) > 0


def test_png_needs_matplotlib() -> None:
    pytest.importorskip("matplotlib")
    png = to_png(data("J = x^2", x=1.0))
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000


def test_range_and_variable_errors() -> None:
    assert parse_range("-3:3") == (-3.0, 3.0)
    for bad in ("3", "3:-3", "a:b", "1:inf"):
        with pytest.raises(Exception, match="--range"):
            parse_range(bad)
    with pytest.raises(Exception, match="--var NAME"):
        plot_data(parse("J = x*y").select(None), {"x": 1, "y": 2})
    assert nice_ticks(-2, 4, 6) == [-2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0]


# ---------------------------------------------------------------- the command


def test_plot_command_in_the_terminal(run) -> None:
    res = run("plot", "J = x^3 - 3*x", "--x", "1.5", "--range", "-2.5:2.5", "--width", "72")
    assert res.exit_code == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "J(x) for x in [-2.5, 2.5]"
    assert "slope ∂J/∂x = 3.75" in res.stdout  # 3x^2 - 3 at 1.5
    assert max(len(line) for line in lines) <= 72 and "\x1b" not in res.stdout


def test_plot_command_writes_svg_and_png(run, tmp_path) -> None:
    svg = tmp_path / "p.svg"
    res = run("plot", "J = log(x)*x", "--x", "1", "--range", "-2:4", "-o", str(svg))
    assert res.exit_code == 0, res.stderr
    assert res.stdout == "" and svg.read_text().startswith("<svg") and 'class="gap"' in svg.read_text()
    pytest.importorskip("matplotlib")
    png = tmp_path / "p.png"
    assert run("plot", "J = x^2", "--x", "1", "-o", str(png)).exit_code == 0
    assert png.read_bytes().startswith(b"\x89PNG")


def test_plot_command_errors(run) -> None:
    res = run("plot", "J = x*y", "--x", "1", "--y", "2")
    assert res.exit_code == 2 and "--var NAME" in res.stderr
    res = run("plot", "J = x", "--x", "1", "-o", "plot.txt")
    assert res.exit_code == 2 and ".svg or a .png" in res.stderr
    res = run("plot", "J = log(x)", "--x", "0")
    assert res.exit_code == 1 and "log is undefined" in res.stderr
    res = run("plot", "J = x*y", "--x", "1", "--y", "2", "--var", "x", "--range", "3:1")
    assert res.exit_code == 2 and "--range" in res.stderr


def test_eval_does_not_import_the_views() -> None:
    import subprocess
    import sys

    code = ("import sys; from autodiff.cli import main\n"
            "sys.argv = ['autodiff', 'eval', 'J = x', '--x', '1']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('autodiff.page', 'autodiff.plot', 'autodiff.notebook', 'matplotlib',"
            " 'IPython', 'playwright') if m in sys.modules), file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip().splitlines()[-1] == "[]"


def test_jumps_are_not_joined() -> None:
    d = data("J = floor(x) + x/2", x=0.5, lo=-2.3, hi=2.3)
    assert [round(x) for x in d.jumps()] == [-2, -1, 0, 1, 2]
    assert data("J = tan(x)", x=0.5, lo=0.0, hi=3.0).jumps() == pytest.approx([math.pi / 2], abs=0.01)
    assert data("J = x^3 - 3*x", x=1.0).jumps() == []
    svg = to_svg(d)
    assert svg.split('<g class="derivative"')[0].count('class="curve"') == 6
