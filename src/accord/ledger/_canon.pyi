"""Type stub for the C extension ``accord.ledger._canon`` (source: ``_canon.c``).

Use :func:`accord.ledger.entries.canonical_json`, which falls back to Python when the extension
is not built or gives None.
"""

def canonical(value: object, /) -> bytes | None: ...
