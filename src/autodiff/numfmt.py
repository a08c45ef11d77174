"""How numbers are written, in the table, in messages and in JSON.

- A number that is exactly an integer (and below 2^53 in size) is written
  without a fraction: ``33``, ``-4``. Negative zero is written ``-0.0``.
- Any other finite number is written as Python's shortest repr that reads back
  to the same double: ``0.1``, ``1e-300``, ``2.718281828459045``.
- With ``digits`` (the ``--digits N`` option) it is rounded to N significant
  digits instead.
- In JSON, a non-finite number (which autodiff never produces as a result, but
  an error record may quote) is the string ``"inf"``, ``"-inf"`` or ``"nan"``.
"""

from __future__ import annotations

import math
from typing import Optional, Union

_EXACT = 2.0**53


def format_number(x: float, digits: Optional[int] = None) -> str:
    if x != x:
        return "nan"
    if x in (math.inf, -math.inf):
        return "inf" if x > 0 else "-inf"
    if x == 0.0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0"
    if x.is_integer() and abs(x) < _EXACT and (digits is None or abs(x) < 10.0**digits):
        return str(int(x))
    if digits is not None:
        text = f"{x:.{digits}g}"
        if "e" in text:
            mant, _, exp = text.partition("e")
            text = f"{mant}e{int(exp)}"
        return text
    text = repr(x)
    if "e" in text:
        mant, _, exp = text.partition("e")
        text = f"{mant}e{int(exp)}"
    return text


def json_number(x: float) -> Union[int, float, str]:
    """A JSON-ready value for x: int when integral, float otherwise, and a
    string for non-finite values (JSON has no NaN or Infinity)."""
    if x != x:
        return "nan"
    if x in (math.inf, -math.inf):
        return "inf" if x > 0 else "-inf"
    if x.is_integer() and abs(x) < _EXACT and not (x == 0.0 and math.copysign(1.0, x) < 0):
        return int(x)
    return x
