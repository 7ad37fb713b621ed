"""Bad input gets a 4xx problem+json naming the field, and leaves nothing half-written."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import TRANSFER, Client, World


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = dict(response.json())
    assert {"type", "title", "status", "detail", "errors"} <= set(body)
    assert body["status"] == status
    return body


def _paths(body: dict[str, Any]) -> set[str]:
    return {e.get("path") for e in body["errors"]}


def _with(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(TRANSFER)
    for dotted, value in changes.items():
        target = doc
        *parents, last = dotted.split("__")
        for key in parents:
            target = target[key]
        target[last] = value
    return {"transfer": doc}


CASES = [
    ("wrong type", _with(importer__country=5), "body.transfer.importer.country"),
    (
        "unknown category",
        _with(data__categories=["customer-recordz"]),
        "body.transfer.data.categories[0]",
    ),
    ("unknown transaction", _with(transaction="bartering"), "body.transfer.transaction"),
    ("unknown mechanism", _with(mechanisms=["scc-1999"]), "body.transfer.mechanisms[0]"),
    ("not a list", _with(purposes="hosting"), "body.transfer.purposes"),
    (
        "missing importer",
        {"transfer": {k: v for k, v in TRANSFER.items() if k != "importer"}},
        "body.transfer.importer",
    ),
    ("bad date", {"transfer": TRANSFER, "as_of": "2026-02-30"}, "body.as_of"),
    ("unknown top-level field", {"transfer": TRANSFER, "colour": "red"}, "body.colour"),
    ("transfer not an object", {"transfer": [1, 2]}, "body.transfer"),
]


@pytest.mark.parametrize(("name", "body", "path"), CASES, ids=[c[0] for c in CASES])
def test_bad_transfer_names_the_field(
    client: Client, world: World, service: Any, name: str, body: Any, path: str
) -> None:
    before = service.count_rows()
    response = client.post("/api/v1/decisions", json=body, headers=world["member_a"].headers)
    problem = _problem(response, 422)
    paths = _paths(problem)
    assert any(p == path or (p or "").startswith(path) for p in paths), (name, paths)
    assert service.count_rows() == before


def test_malformed_json(client: Client, world: World, service: Any) -> None:
    before = service.count_rows()
    response = client.post(
        "/api/v1/decisions",
        content=b'{"transfer": {"id": "x",,}}',
        headers=world["member_a"].headers | {"Content-Type": "application/json"},
    )
    problem = _problem(response, 422)
    assert _paths(problem) == {"body"}
    assert "JSON" in problem["errors"][0]["message"]
    assert service.count_rows() == before


def test_oversize_body(client: Client, world: World, service: Any) -> None:
    before = service.count_rows()
    big = json.dumps({"transfer": TRANSFER | {"id": "x" * (1024 * 1024)}}).encode()
    response = client.post(
        "/api/v1/decisions",
        content=big,
        headers=world["member_a"].headers | {"Content-Type": "application/json"},
    )
    assert _paths(_problem(response, 413)) == {"body"}
    # Without a Content-Length (streamed), the limit still holds.

    async def chunks() -> Any:
        for _ in range(20):
            yield b"x" * 65536

    streamed = client.post(
        "/api/v1/decisions",
        content=chunks(),
        headers=world["member_a"].headers | {"Content-Type": "application/json"},
    )
    _problem(streamed, 413)
    assert service.count_rows() == before


def test_bad_query_parameters(client: Client, world: World) -> None:
    headers = world["auditor"].headers
    for params, path in (
        ({"outcome": "maybe"}, "query.outcome"),
        ({"from": "yesterday"}, "query.from"),
        ({"limit": 0}, "query.limit"),
        ({"cursor": "abc"}, "query.cursor"),
        ({"org": "x"}, "query.org"),
    ):
        response = client.get("/api/v1/decisions", params=params, headers=headers)
        assert path in _paths(_problem(response, 422))
    assert _problem(client.get("/api/v1/decisions/not-an-id", headers=headers), 422)
    _problem(client.get(f"/api/v1/decisions/{'0' * 32}", headers=headers), 404)
    _problem(client.get("/api/v1/log/proof/inclusion", params={"index": 10**6}), 404)
    _problem(client.get("/api/v1/nowhere"), 404)


def test_failed_write_leaves_nothing(
    client: Client, world: World, service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure after the transfer row and the ledger entry were written rolls back both."""
    ok = client.post("/api/v1/decisions", json=_with(), headers=world["member_a"].headers)
    assert ok.status_code == 201
    before = service.count_rows()
    import accord.service
    from accord.errors import StorageError

    original = accord.service._INSERT_DECISIONS
    calls: list[int] = []

    class Boom:
        """The decisions insert, failing after the transfers and the log entries were written."""

        def run(self, connection: Any, rows: Any) -> None:
            calls.append(len(rows))
            raise StorageError("disk on fire")

    monkeypatch.setattr(accord.service, "_INSERT_DECISIONS", Boom())
    failed = client.post("/api/v1/decisions", json=_with(), headers=world["member_a"].headers)
    assert failed.status_code == 503, failed.text
    assert failed.headers["content-type"].startswith("application/problem+json")
    assert calls  # the failure happened where it was meant to
    assert service.count_rows() == before
    monkeypatch.setattr(accord.service, "_INSERT_DECISIONS", original)
    again = client.post("/api/v1/decisions", json=_with(), headers=world["member_a"].headers)
    assert again.status_code == 201, again.text
    assert again.json()["leaf_index"] == before["ledger"]


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
_field = st.sampled_from(
    [
        "id",
        "date",
        "exporter",
        "importer",
        "data",
        "purposes",
        "transaction",
        "mechanisms",
        "safeguards",
        "occasional",
        "exemptions_claimed",
        "nonsense",
    ]
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(field=_field, value=_json)
def test_random_field_values_never_500(
    client: Client, world: World, service: Any, field: str, value: Any
) -> None:
    """Any value in any field: a decision (201) or a problem naming a field (4xx); never 500,
    and a refused request writes nothing."""
    doc = copy.deepcopy(TRANSFER)
    doc[field] = value
    before = service.count_rows()
    response = client.post(
        "/api/v1/decisions", json={"transfer": doc}, headers=world["member_a"].headers
    )
    assert response.status_code in (201, 422), response.text
    if response.status_code == 422:
        problem = _problem(response, 422)
        assert all(e.get("path") for e in problem["errors"]), problem
        assert service.count_rows() == before
    else:
        after = service.count_rows()
        assert after["decisions"] == before["decisions"] + 1


def test_nul_characters_are_refused_by_name(client: Client, world: World, service: Any) -> None:
    """Databases cannot store U+0000 in text: every text input refuses it, naming the field."""
    before = service.count_rows()
    response = client.post(
        "/api/v1/decisions", json=_with(id="tx\x00"), headers=world["member_a"].headers
    )
    assert _paths(_problem(response, 422)) == {"body.transfer.id"}
    response = client.post("/api/v1/session", json={"email": "a\x00@x.org", "password": "x"})
    assert _paths(_problem(response, 422)) == {"email"}
    response = client.post(
        "/api/v1/orgs", json={"name": "N\x00", "country": "DE"}, headers=world["admin"].headers
    )
    assert _paths(_problem(response, 422)) == {"name"}
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer acc_\x00" + "x" * 30})
    assert response.status_code in (400, 401)
    assert service.count_rows() == before
