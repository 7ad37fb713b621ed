"""Accord's vocabulary: data categories, purposes, safeguards, transfer mechanisms, party kinds,
roles, transaction kinds, exemptions, countries (ISO 3166-1 alpha-2) and named country groups, each
term with a label, a description, its parents, and its W3C DPV concept where one exists.

Use the shared instance::

    from accord.vocab import VOCAB

    VOCAB.is_a("human-genomic", "sensitive-personal-data")   # True
    VOCAB.is_a("HK", "countries-of-concern")                  # True
    VOCAB.suggest("category", "human-genomics")               # ["human-genomic", ...]

The data lives in ``vocab/data/*.yaml`` and is read once, when this module is first imported.
"""

from __future__ import annotations

from accord.vocab._vocabulary import DPV_PREFIXES, Group, Kind, Term, Vocabulary

# Plain sorted order, as tests/unit/test_exported_members.py checks (not ruff's isort-style order).
__all__ = ["DPV_PREFIXES", "Group", "KINDS", "Kind", "Term", "VOCAB", "Vocabulary"]  # noqa: RUF022

#: The vocabulary shipped with Accord, loaded once.
VOCAB: Vocabulary = Vocabulary.shipped()

#: The kinds of term, as strings.
KINDS: tuple[str, ...] = tuple(kind.value for kind in Kind)
