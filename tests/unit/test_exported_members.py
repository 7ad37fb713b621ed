"""The public surface is deliberate: ``__all__`` is sorted and names only what exists."""

from __future__ import annotations

import importlib

import pytest

PUBLIC_MODULES = ["accord", "accord.policy", "accord.ledger", "accord.vocab"]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_and_resolves(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert list(exported) == sorted(exported), f"{name}.__all__ is not sorted"
    missing = [member for member in exported if not hasattr(module, member)]
    assert not missing, f"{name}.__all__ names missing members: {missing}"
