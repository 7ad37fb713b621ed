"""Batch hashing and framing for the log's append path: the C extension, or Python.

:func:`leaf_hashes`, :func:`parent_hashes` and :func:`frame` come from the C extension
:mod:`accord.ledger._native` (OpenSSL's SHA-256) when it is built, and from the pure-Python
:mod:`accord.ledger._hashing_py` otherwise; both give the same bytes and raise the same errors.
Setting ``ACCORD_PURE_PYTHON=1`` in the environment forces the Python one. :data:`NATIVE` says
which is in use.
"""

from __future__ import annotations

import os

__all__ = ["NATIVE", "frame", "leaf_hashes", "parent_hashes"]


def _pure_python_forced() -> bool:
    return os.environ.get("ACCORD_PURE_PYTHON", "").strip() not in ("", "0")


NATIVE: bool
if _pure_python_forced():
    from accord.ledger._hashing_py import frame, leaf_hashes, parent_hashes

    NATIVE = False
else:
    try:
        from accord.ledger._native import frame, leaf_hashes, parent_hashes

        NATIVE = True
    except ImportError:  # not built: no compiler, OpenSSL or Python headers where installed
        from accord.ledger._hashing_py import frame, leaf_hashes, parent_hashes

        NATIVE = False
