"""Frames between web workers and the sequencer survive any split of the byte stream, and a
decision crosses the wire with everything the sequencer needs to write and answer it."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.sequencer.wire import (
    FrameReader,
    WireError,
    answer_header,
    frame,
    parse_answer_header,
    parse_request,
    record_frame,
)
from accord.service import PendingDecision, Principal
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


_principals = st.builds(
    Principal,
    user_id=st.none() | st.integers(min_value=1, max_value=10**9),
    email=st.none() | st.emails(),
    role=st.none() | st.sampled_from(list(Role)),
    org_id=st.none() | st.integers(min_value=1, max_value=10**9),
    via=st.sampled_from(["token", "session", "anonymous"]),
    scopes=st.frozensets(st.sampled_from(["read", "write"])),
)


@given(
    principal=_principals,
    ident=st.integers(min_value=1, max_value=2**32 - 1),
    transfer_id=st.none() | st.text(max_size=30),
    packs=st.lists(st.sampled_from(["eu-gdpr-ch5", "us-dsp", "cn-pipl"]), unique=True),
    parts=st.tuples(st.binary(max_size=200), st.binary(max_size=500), st.binary(max_size=100)),
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
)
def test_a_decision_crosses_the_wire_unchanged(
    principal: Principal,
    ident: int,
    transfer_id: str | None,
    packs: list[str],
    parts: tuple[bytes, bytes, bytes],
    day: date,
) -> None:
    sent = PendingDecision(
        principal=principal,
        transfer_json={"id": transfer_id, "more": "not sent"},
        decision_id="ab" * 16,
        decision={"not": "sent"},
        digest="cd" * 32,
        outcome="permit",
        as_of=day,
        packs=packs,
        entry={},
        transfer_bytes=parts[0],
        decision_bytes=parts[1],
        entry_bytes=parts[2],
    )
    [(got_ident, header, body)] = FrameReader().feed(record_frame(ident, sent))
    assert got_ident == ident
    op, received = parse_request(header, body)
    assert op == "record"
    assert received is not None
    assert received.principal == principal
    assert received.transfer_json == {"id": transfer_id}
    for name in ("decision_id", "digest", "outcome", "as_of", "packs"):
        assert getattr(received, name) == getattr(sent, name)
    assert (received.transfer_bytes, received.decision_bytes, received.entry_bytes) == parts


def test_malformed_requests_are_refused() -> None:
    with pytest.raises(WireError):
        parse_request(b'{"op": "record"}', b"")
    with pytest.raises(WireError):
        parse_request(b"not json", b"")
    assert parse_request(b'{"op": "other"}', b"") == ("other", None)


def test_requests_of_the_wrong_shape_are_refused() -> None:
    good = record_frame(
        1,
        PendingDecision(
            principal=Principal(user_id=1, role=Role.MEMBER, org_id=2, via="token"),
            transfer_json={"id": "t"},
            decision_id="ab" * 16,
            decision={},
            digest="cd" * 32,
            outcome="permit",
            as_of=date(2026, 1, 1),
            packs=["us-dsp"],
            entry={},
            transfer_bytes=b"{}",
            decision_bytes=b"{}",
            entry_bytes=b"{}",
        ),
    )
    [(_ident, header, body)] = FrameReader().feed(good)
    assert parse_request(header, body)[0] == "record"
    for bad in (
        header.replace(b'"sizes":[2,2,2]', b'"sizes":["2",2,2]'),  # a size that is not a number
        header.replace(b'"as_of":"2026-01-01"', b'"as_of":"Jan 1"'),  # not a date
        header.replace(b'"role":"member"', b'"role":"emperor"'),  # no such role
    ):
        assert bad != header
        with pytest.raises(WireError):
            parse_request(bad, body)
    with pytest.raises(WireError):  # the body is not as long as the sizes say
        parse_request(header, body + b"x")


@given(
    status=st.integers(min_value=100, max_value=599),
    outcome=st.none() | st.sampled_from(["permit", "deny", "permit_with_obligations"]),
)
def test_an_answer_header_crosses_the_wire_unchanged(status: int, outcome: str | None) -> None:
    assert parse_answer_header(answer_header(status, outcome)) == (status, outcome)


@pytest.mark.parametrize("bad", [b"", b"[]", b'{"status":"201"}', b'{"outcome":"permit"}'])
def test_malformed_answer_headers_are_refused(bad: bytes) -> None:
    with pytest.raises(WireError):
        parse_answer_header(bad)
