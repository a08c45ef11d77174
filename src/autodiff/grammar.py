"""Where the grammar file is: inside the installed package (a wheel carries a
copy of grammars/expr.lark) or, in a source checkout, at the top of the tree.
(os.path rather than pathlib: this runs at every start of the command.)"""

from __future__ import annotations

import os

GRAMMAR_NAME = "expr.lark"


def grammar_path() -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = (os.path.join(here, "grammars", GRAMMAR_NAME),
                  os.path.join(os.path.dirname(os.path.dirname(here)), "grammars", GRAMMAR_NAME))
    for candidate in candidates:
        if os.path.isfile(candidate):
            return candidate
    raise FileNotFoundError(f"the grammar file {GRAMMAR_NAME} is missing from the installation")


def grammar_text() -> str:
    with open(grammar_path(), encoding="utf-8") as fh:
        return fh.read()
