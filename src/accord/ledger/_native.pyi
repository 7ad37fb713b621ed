"""Type stub for the C extension ``accord.ledger._native`` (source: ``_native.c``).

Import the functions from :mod:`accord.ledger._hashing`, which falls back to
:mod:`accord.ledger._hashing_py` when the extension is not built.
"""

from collections.abc import Sequence

def leaf_hashes(datas: Sequence[bytes], /) -> bytes: ...
def parent_hashes(level: bytes | bytearray | memoryview, /) -> bytes: ...
def frame(datas: Sequence[bytes], start: int | None = 0, stop: int | None = None, /) -> bytes: ...
