"""The decision fast path answers cached-token requests exactly as the route would, and leaves
every other request to the route."""

from __future__ import annotations

import copy
from typing import Any

from accord.web.fastpath import DecisionFastPath
from conftest import TRANSFER, Client, World


def _fastpath(app: Any) -> DecisionFastPath:
    layer = app.middleware_stack
    if layer is None:
        app.middleware_stack = layer = app.build_middleware_stack()
    while not isinstance(layer, DecisionFastPath):
        layer = layer.app
    return layer


def _body(**changes: Any) -> dict[str, Any]:
    transfer = copy.deepcopy(TRANSFER)
    transfer.update(changes)
    return {"transfer": transfer}


def _shape(view: dict[str, Any]) -> dict[str, Any]:
    """A decision view without what differs between two recordings of the same transfer."""
    drop = {"id", "leaf_index", "digest", "created_at", "receipt"}
    return {k: v for k, v in view.items() if k not in drop}


def test_cached_tokens_take_the_fast_path_with_the_routes_answers(
    client: Client, app: Any, world: World
) -> None:
    fast = _fastpath(app)
    member = world["member_a"].headers
    first = client.post("/api/v1/decisions", json=_body(), headers=member)  # authenticates
    assert first.status_code == 201, first.text
    assert fast.answered == 0
    second = client.post("/api/v1/decisions", json=_body(), headers=member)
    assert second.status_code == 201, second.text
    assert fast.answered == 1
    assert second.headers["content-type"] == first.headers["content-type"]
    assert _shape(second.json()) == _shape(first.json())
    assert second.json()["leaf_index"] == first.json()["leaf_index"] + 1
    # Bad input answered on the fast path is the same problem as on the route.
    bad = client.post("/api/v1/decisions", json=_body(purpose="x"), headers=member)
    assert fast.answered == 2
    routed = client.post("/api/v1/decisions?x=1", json=_body(purpose="x"), headers=member)
    assert fast.answered == 2  # a query string goes to the route
    assert bad.status_code == routed.status_code == 422
    assert bad.json() == routed.json()
    assert bad.headers["content-type"].startswith("application/problem+json")


def test_everyone_else_goes_to_the_route(client: Client, app: Any, world: World) -> None:
    fast = _fastpath(app)
    body = _body()
    assert client.post("/api/v1/decisions", json=body).status_code == 401
    auditor = world["auditor"].headers
    for _ in range(2):  # the second time the auditor's token is cached
        assert client.post("/api/v1/decisions", json=body, headers=auditor).status_code == 403
    bogus = {"Authorization": "Bearer acc_" + "x" * 40}
    assert client.post("/api/v1/decisions", json=body, headers=bogus).status_code == 401
    malformed = {"Authorization": "Basic abc"}
    assert client.post("/api/v1/decisions", json=body, headers=malformed).status_code == 401
    assert fast.answered == 0


def test_a_revoked_token_is_refused_at_once(
    client: Client, app: Any, world: World, service: Any
) -> None:
    from accord.service import OPERATOR

    member = world["member_a"]
    assert client.post("/api/v1/decisions", json=_body(), headers=member.headers).status_code == 201
    assert client.post("/api/v1/decisions", json=_body(), headers=member.headers).status_code == 201
    assert _fastpath(app).answered == 1
    tokens = service.list_tokens(OPERATOR, all_users=True)
    token_id = next(t["id"] for t in tokens if t["user"] == member.email)
    service.revoke_token(OPERATOR, token_id)
    after = client.post("/api/v1/decisions", json=_body(), headers=member.headers)
    assert after.status_code == 401
    assert _fastpath(app).answered == 1
