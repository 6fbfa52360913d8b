"""The fuzz tests run with the garbage collector held back.

Hypothesis describes its strategies with ``ast.parse``. On Python 3.11, a
collection that starts inside that parse can run a finaliser left over from an
earlier test (a pooled database connection that logs its failed reset, say);
logging the traceback calls ``ast.parse`` again, and the nested parse fails
with "SystemError: AST constructor recursion depth mismatch" (CPython
gh-106905). It was seen once on CI. So: collect before each test, keep
collections out of it, and collect after it, when nothing is being parsed.
"""

from __future__ import annotations

import gc

import pytest


@pytest.fixture(autouse=True)
def _no_collection_inside_hypothesis():
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()
