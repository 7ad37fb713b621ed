"""The head of a recorded decision's answer is encoded with msgspec for speed; it must be byte for
byte what the JSON encoder used everywhere else gives, whatever the strings hold."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from accord.web.recording import _dumps, _encode

_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)

_heads = st.fixed_dictionaries(
    {
        "id": _text,
        "transfer_id": st.none() | _text,
        "org_id": st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1),
        "org": st.none() | _text,
        "outcome": _text,
        "as_of": _text,
        "leaf_index": st.integers(min_value=0, max_value=2**63 - 1),
        "digest": _text,
        "created_at": _text,
        "packs": st.lists(_text, max_size=5),
    }
)


@given(head=_heads)
def test_msgspec_encodes_the_head_as_the_json_encoder_does(head: dict[str, Any]) -> None:
    assert _encode(head) == _dumps(head).encode()
