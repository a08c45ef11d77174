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
