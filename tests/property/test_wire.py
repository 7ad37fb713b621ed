"""Frames between web workers and the sequencer survive any split of the byte stream."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.sequencer.wire import FrameReader, WireError, frame, principal_from, request_header
from accord.service import Principal
from accord.storage.models import Role

_frames = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2**32 - 1),
        st.binary(max_size=40),
        st.binary(max_size=300),
    ),
    max_size=8,
)


@given(frames=_frames, cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=12))
def test_any_split_of_the_stream_gives_back_the_frames(
    frames: list[tuple[int, bytes, bytes]], cuts: list[int]
) -> None:
    stream = b"".join(frame(i, h, b) for i, h, b in frames)
    points = sorted({c % (len(stream) + 1) for c in cuts} | {0, len(stream)})
    reader = FrameReader()
    got: list[tuple[int, bytes, bytes]] = []
    for start, stop in itertools.pairwise(points):
        got += reader.feed(stream[start:stop])
    assert got == frames


@pytest.mark.parametrize(
    "bad",
    [
        b"\x00\x00\x00\x01" + b"x" * 8,  # shorter than id + header length
        b"\xff\xff\xff\xff",  # beyond the largest frame
        b"\x00\x00\x00\x06" + b"\x00\x00\x00\x01" + b"\x00\x09",  # header longer than its frame
    ],
)
def test_malformed_frames_are_refused(bad: bytes) -> None:
    with pytest.raises(WireError):
        FrameReader().feed(bad)


@given(
    user=st.none() | st.integers(min_value=1, max_value=10**9),
    role=st.none() | st.sampled_from(list(Role)),
    org=st.none() | st.integers(min_value=1, max_value=10**9),
    via=st.sampled_from(["token", "session", "anonymous"]),
    scopes=st.frozensets(st.sampled_from(["read", "write"])),
    email=st.none() | st.emails(),
)
def test_the_caller_crosses_the_wire_unchanged(
    user: int | None,
    role: Role | None,
    org: int | None,
    via: str,
    scopes: frozenset[str],
    email: str | None,
) -> None:
    principal = Principal(user_id=user, email=email, role=role, org_id=org, via=via, scopes=scopes)
    assert principal_from(request_header(principal)) == ("decide", principal)


def test_a_malformed_header_is_refused() -> None:
    with pytest.raises(WireError):
        principal_from(b'{"op": "decide"}')
    assert principal_from(b'{"op": "packs"}') == ("packs", None)
