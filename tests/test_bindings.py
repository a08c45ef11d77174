"""One judge of bindings (`evaluate.binding_value`): the library, --bindings,
batches and the arrays path give the same answers and the same messages."""

from __future__ import annotations

import pathlib
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

import autodiff
from autodiff import BindingError


@pytest.mark.parametrize("value", [np.float32(1.5), np.float64(1.5), np.int64(3), np.array(2.5),
                                   Decimal("0.1"), Fraction(1, 3), 7, 2.5, True])
def test_the_library_takes_any_real_number_type(value) -> None:
    if value is True:
        with pytest.raises(BindingError, match="the value for x is not a number: True"):
            autodiff.differentiate("J = x*x", {"x": value})
        return
    r = autodiff.differentiate("J = x*x", {"x": value})
    x = float(value)
    assert r.value == x * x and r.gradient == {"x": 2 * x}


@pytest.mark.parametrize("value,words", [
    ("3", "the value for x is not a number: '3'"),
    (None, "the value for x is not a number: None"),
    (float("nan"), "the value for x must be a finite number, got nan"),
    (float("inf"), "the value for x must be a finite number, got inf"),
    (10**400, "the value for x is too large for a double"),
    (np.array([1.0, 2.0]), "the value for x is not a number"),
    (1j, "the value for x is not a number"),
])
def test_values_that_are_not_finite_numbers_are_refused(value, words) -> None:
    with pytest.raises(BindingError) as info:
        autodiff.differentiate("J = x*x", {"x": value})
    assert words in info.value.message


def test_an_unused_name_gets_the_same_message_everywhere(run) -> None:
    lib = pytest.raises(BindingError, autodiff.differentiate, "J = x*2", {"x": 1.0, "y": 2.0}).value
    cli = run("eval", "J = x*2", "--bindings", '{"x": 1, "y": 2}')
    batch = run("eval", "J = x*2", "--points", "-", input='{"x": 1, "y": 2}\n')
    want = "a value was given for y, but the program does not use y (its variables: x)"
    assert lib.message == want
    assert want in cli.stderr
    assert want in batch.stdout
    src = pathlib.Path(autodiff.__file__).parent
    writers = [p.name for p in src.rglob("*.py") if "a value was given for" in p.read_text(encoding="utf-8")]
    assert writers == ["evaluate.py"], writers
