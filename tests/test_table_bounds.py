"""The table's size (and so its run time) is bounded whatever the length of
the names (issue 9 F): long names are cut as head…tail in every column and in
the gradient lines, so a 5e6-character name prints in about a second."""

from __future__ import annotations

import io

from rich.console import Console

import autodiff
from autodiff.table import cut, result_renderable


def render(result: autodiff.Result, width: int = 100) -> str:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None, highlight=False).print(result_renderable(result))
    return out.getvalue()


def test_cut_keeps_both_ends() -> None:
    assert cut("short") == "short"
    assert cut("weight_of_hidden_layer_one_a") == "weight_of_hi…layer_one_a"
    assert cut("weight_of_hidden_layer_one_b") != cut("weight_of_hidden_layer_one_a")
    assert len(cut("x" * 10**6)) == 24 and len(cut("x" * 10**6, 48)) == 48


def test_a_long_name_is_cut_everywhere() -> None:
    # Before: the operation column and the gradient lines held the whole name
    # (a 5e6-character name took more than a minute to fold into the table).
    name = "a" * 100_000 + "_end"
    result = autodiff.differentiate(f"J = {name}*3 + sin({name})", {name: 2.0})
    text = render(result)
    assert len(text) < 5_000
    assert "aaaaaaaaaaaa…aaaaaaa_end" in text
    assert f"∂J/∂{cut(name, 48)} = " in text


def test_a_number_is_never_split_across_lines_at_any_width() -> None:
    # Before: at 80 columns the local-factors column folded 0.4535961214255773
    # into "0.453596121" / "4255773".
    from autodiff.numfmt import format_number

    result = autodiff.differentiate("J = sin(x)*cos(y)*exp(z) + atan2(y, x)",
                                    {"x": 1.1, "y": 2.2, "z": 0.3})
    numbers = {format_number(d) for i in range(len(result.graph))
               for d in result.local_factors(i).values()}
    numbers |= {format_number(v) for v in result.values} | {format_number(a) for a in result.adjoints}
    for width in range(60, 181, 5):
        text = render(result, width)
        for number in numbers:
            assert number in text, (width, number)
        assert max(map(len, text.splitlines())) <= width
    assert "local factors ∂node/∂input:\n  ∂t1/∂x = 0.4535961214255773\n" in render(result, 80)
    assert "│ ∂t1/∂x = 0.4535961214255773" in render(result, 120)
