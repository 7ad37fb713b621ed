"""Row ids are UUIDv7 (RFC 9562): well formed, time-ordered, and random after the timestamp."""

from __future__ import annotations

import uuid
from unittest import mock

from hypothesis import given
from hypothesis import strategies as st

from accord.storage import models
from accord.storage.models import new_id

_MS = st.integers(min_value=0, max_value=(1 << 48) - 1)


def _at(ms: int, noise: bytes) -> str:
    with (
        mock.patch.object(models.time, "time_ns", return_value=ms * 1_000_000 + 999_999),
        mock.patch.object(models.os, "urandom", return_value=noise),
    ):
        return new_id()


@given(_MS, st.binary(min_size=10, max_size=10))
def test_an_id_is_a_uuid7_with_its_millisecond_and_74_random_bits(ms: int, noise: bytes) -> None:
    text = _at(ms, noise)
    parsed = uuid.UUID(hex=text)
    assert len(text) == 32
    assert text == parsed.hex
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122
    assert parsed.int >> 80 == ms
    rand = int.from_bytes(noise)
    assert (parsed.int >> 64) & 0xFFF == (rand >> 62) & 0xFFF
    assert parsed.int & ((1 << 62) - 1) == rand & ((1 << 62) - 1)


@given(_MS, _MS, st.binary(min_size=10, max_size=10), st.binary(min_size=10, max_size=10))
def test_ids_sort_by_their_millisecond(a: int, b: int, x: bytes, y: bytes) -> None:
    if a < b:
        assert _at(a, x) < _at(b, y)


@given(_MS, st.binary(min_size=10, max_size=10), st.integers(min_value=0, max_value=73))
def test_every_random_bit_reaches_the_id(ms: int, noise: bytes, bit: int) -> None:
    # The 74 bits used are the low 74 of the 80 drawn: flipping any of them changes the id.
    rand = int.from_bytes(noise) ^ (1 << bit)
    assert _at(ms, noise) != _at(ms, rand.to_bytes(10))


def test_ids_from_the_real_clock_and_csprng_are_distinct_and_ordered_by_time() -> None:
    ids = [new_id() for _ in range(2_000)]
    assert len(set(ids)) == len(ids)
    stamps = [int(i, 16) >> 80 for i in ids]
    assert stamps == sorted(stamps)
