"""Build the optional C extensions; everything else is in pyproject.toml.

``accord.ledger._native`` holds the transparency log's batch hashing (OpenSSL's SHA-256) and
bundle framing. Each extension is optional: where it cannot be compiled (no C compiler, no OpenSSL
or Python headers) the build goes on without it and the package uses its pure-Python equivalent
(for ``_native``: ``accord.ledger._hashing`` falls back to ``_hashing_py``).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "accord.ledger._native",
            sources=["src/accord/ledger/_native.c"],
            libraries=["crypto"],
            extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra"],
            optional=True,
        ),
        Extension(
            "accord.ledger._canon",
            sources=["src/accord/ledger/_canon.c"],
            extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra"],
            optional=True,
        ),
    ]
)
