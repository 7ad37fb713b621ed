"""Role × endpoint matrix: who may do what, and no leaks between organisations or to the public."""

from __future__ import annotations

import copy
from typing import Any

from conftest import TRANSFER, Client, World, make_account

PACK = """\
pack:
  id: access-test-{n}
  title: Access test pack
  kind: regulation
  jurisdiction: DE
  instrument: Test
  version: "1"
  effective_from: 2020-01-01
  confidence: confirmed
  default: permit
  sources: [https://example.org/test]
  scope: {{fact: exporter.country, op: eq, value: AQ}}
rules: []
"""


def _transfer(tid: str) -> dict[str, Any]:
    doc = copy.deepcopy(TRANSFER)
    doc["id"] = tid
    return doc


def _headers(world: World, who: str, extra: dict[str, str]) -> dict[str, str]:
    if who == "public":
        return {}
    if who in extra:
        return {"Authorization": f"Bearer {extra[who]}"}
    return world[who].headers


def test_role_endpoint_matrix(client: Client, world: World, service: Any) -> None:
    # Decisions by member A and member B, and a pack to act upon.
    made_a = client.post(
        "/api/v1/decisions", json={"transfer": _transfer("a-1")}, headers=world["member_a"].headers
    ).json()
    made_b = client.post(
        "/api/v1/decisions", json={"transfer": _transfer("b-1")}, headers=world["member_b"].headers
    ).json()
    # A read-only token, a revoked token and a disabled user's token.
    reader = make_account(
        service,
        email="reader@test.example.org",
        role="member",
        org_id=world.org_a,
        scopes=("read",),
    )
    revoked = make_account(
        service, email="revoked@test.example.org", role="member", org_id=world.org_a
    )
    from accord.service import OPERATOR

    token_id = service.list_tokens(OPERATOR, all_users=True)[-1]["id"]
    service.revoke_token(OPERATOR, token_id)
    extra = {"reader": reader.token, "revoked": revoked.token}

    n = 0

    def pack_body() -> dict[str, Any]:
        nonlocal n
        n += 1
        return {"text": PACK.format(n=n)}

    a_id, b_id = made_a["id"], made_b["id"]
    pack_id = "eu-gdpr-ch5"
    everyone = ("public", "admin", "regulator", "auditor", "member_a", "member_b", "reader")
    # (method, path, body factory or None, {principal: expected status})
    matrix: list[tuple[str, str, Any, dict[str, int]]] = [
        (
            "POST",
            "/api/v1/decisions",
            lambda: {"transfer": _transfer("m")},
            {
                "public": 401,
                "admin": 201,
                "regulator": 403,
                "auditor": 403,
                "member_a": 201,
                "reader": 403,
                "revoked": 401,
            },
        ),
        (
            "GET",
            "/api/v1/decisions",
            None,
            {
                "public": 401,
                "admin": 200,
                "regulator": 200,
                "auditor": 200,
                "member_a": 200,
                "reader": 200,
                "revoked": 401,
            },
        ),
        (
            "GET",
            f"/api/v1/decisions/{a_id}",
            None,
            {
                "public": 401,
                "admin": 200,
                "regulator": 200,
                "auditor": 200,
                "member_a": 200,
                "member_b": 404,
                "reader": 200,
                "revoked": 401,
            },
        ),
        (
            "GET",
            f"/api/v1/decisions/{b_id}",
            None,
            {"member_a": 404, "member_b": 200, "reader": 404},
        ),
        (
            "GET",
            f"/api/v1/decisions?org={world.org_b}",
            None,
            {"public": 401, "auditor": 200, "member_a": 403, "member_b": 200},
        ),
        (
            "POST",
            "/api/v1/packs",
            pack_body,
            {
                "public": 401,
                "admin": 201,
                "regulator": 201,
                "auditor": 403,
                "member_a": 403,
                "reader": 403,
                "revoked": 401,
            },
        ),
        (
            "POST",
            f"/api/v1/packs/{pack_id}/suspend",
            None,
            {"public": 401, "auditor": 403, "member_a": 403},
        ),
        (
            "GET",
            f"/api/v1/packs/{pack_id}/history",
            None,
            {"public": 401, "admin": 200, "regulator": 200, "auditor": 200, "member_a": 403},
        ),
        ("GET", "/api/v1/packs", None, dict.fromkeys(everyone, 200)),
        ("GET", f"/api/v1/packs/{pack_id}", None, dict.fromkeys(everyone, 200)),
        ("GET", "/api/v1/stats", None, dict.fromkeys(everyone, 200)),
        ("GET", "/api/v1/log/checkpoint", None, dict.fromkeys(everyone, 200)),
        ("GET", "/api/v1/log/proof/inclusion?index=0", None, dict.fromkeys(everyone, 200)),
        (
            "GET",
            "/api/v1/users",
            None,
            {"public": 401, "admin": 200, "regulator": 403, "auditor": 200, "member_a": 403},
        ),
        (
            "POST",
            "/api/v1/users",
            lambda: {"email": f"new{id(object())}@x.org", "role": "auditor"},
            {"public": 401, "admin": 201, "regulator": 403, "auditor": 403, "member_a": 403},
        ),
        (
            "POST",
            f"/api/v1/users/{world['member_b'].user_id}/role",
            lambda: {"role": "admin"},
            {"public": 401, "regulator": 403, "auditor": 403, "member_a": 403},
        ),
        (
            "POST",
            "/api/v1/orgs",
            lambda: {"name": f"Org {id(object())}", "country": "FR"},
            {"public": 401, "admin": 201, "regulator": 403, "auditor": 403, "member_a": 403},
        ),
        (
            "GET",
            "/api/v1/orgs",
            None,
            {"public": 401, "admin": 200, "auditor": 200, "member_a": 200},
        ),
        (
            "POST",
            "/api/v1/tokens",
            lambda: {"name": "x", "scopes": ["read"]},
            {"public": 401, "auditor": 201, "member_a": 201, "reader": 403, "revoked": 401},
        ),
        ("GET", "/api/v1/me", None, {"public": 200, "auditor": 200, "revoked": 401}),
    ]
    problems: list[str] = []
    for method, path, body, expected in matrix:
        for who, status in expected.items():
            kwargs: dict[str, Any] = {"headers": _headers(world, who, extra)}
            if body is not None:
                kwargs["json"] = body()
            response = client.request(method, path, **kwargs)
            if response.status_code != status:
                problems.append(f"{who} {method} {path}: {response.status_code} != {status}")
            elif status >= 400:
                assert response.headers["content-type"].startswith("application/problem+json")
    assert not problems, "\n".join(problems)


def test_members_see_only_their_organisation(client: Client, world: World) -> None:
    for i in range(3):
        for who in ("member_a", "member_b"):
            response = client.post(
                "/api/v1/decisions",
                json={"transfer": _transfer(f"{who}-{i}")},
                headers=world[who].headers,
            )
            assert response.status_code == 201
    for who, org in (("member_a", world.org_a), ("member_b", world.org_b)):
        items = client.get(
            "/api/v1/decisions", params={"limit": 200}, headers=world[who].headers
        ).json()["items"]
        assert len(items) == 3
        assert {i["org_id"] for i in items} == {org}
        assert all(i["transfer_id"].startswith(who) for i in items)
        orgs = client.get("/api/v1/orgs", headers=world[who].headers).json()
        assert [o["id"] for o in orgs] == [org]
    everything = client.get(
        "/api/v1/decisions", params={"limit": 200}, headers=world["auditor"].headers
    ).json()["items"]
    assert len(everything) == 6
    only_b = client.get(
        "/api/v1/decisions", params={"org": world.org_b}, headers=world["regulator"].headers
    ).json()["items"]
    assert {i["org_id"] for i in only_b} == {world.org_b}


def test_public_sees_no_individual_transfer(client: Client, world: World) -> None:
    made = client.post(
        "/api/v1/decisions",
        json={"transfer": _transfer("secret-transfer")},
        headers=world["member_a"].headers,
    ).json()
    public_paths = [
        "/api/v1/stats",
        "/api/v1/log/checkpoint",
        "/api/v1/log/bundle/0",
        "/log/checkpoint",
        "/log/tile/entries/000.p/1",
        "/api/v1/packs",
    ]
    for path in public_paths:
        response = client.get(path)
        assert response.status_code == 200, path
        text = response.content.decode("utf-8", "replace")
        for secret in ("secret-transfer", "Exporter", "Importer", "Org A"):
            assert secret not in text, (path, secret)
    assert client.get(f"/api/v1/decisions/{made['id']}").status_code == 401


def test_auditor_cannot_write(client: Client, world: World, service: Any) -> None:
    before = service.count_rows()
    headers = world["auditor"].headers
    writes = [
        ("/api/v1/decisions", {"transfer": _transfer("x")}),
        ("/api/v1/packs", {"text": PACK.format(n=99)}),
        ("/api/v1/packs/eu-gdpr-ch5/suspend", None),
        ("/api/v1/packs/eu-gdpr-ch5/activate", None),
        ("/api/v1/orgs", {"name": "Nope", "country": "FR"}),
        ("/api/v1/users", {"email": "nope@x.org", "role": "admin"}),
        (f"/api/v1/users/{world['auditor'].user_id}/role", {"role": "admin"}),
    ]
    for path, body in writes:
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 403, (path, response.text)
    assert service.count_rows() == before
    me = client.get("/api/v1/me", headers=headers).json()
    assert me["role"] == "auditor"
    assert "decisions:submit" not in me["capabilities"]


def test_revoked_and_malformed_tokens_are_refused(client: Client, world: World) -> None:
    member = world["member_a"]
    assert client.get("/api/v1/decisions", headers=member.headers).status_code == 200
    tokens = client.get("/api/v1/tokens", headers=member.headers).json()
    assert len(tokens) == 1
    assert member.token.startswith(tokens[0]["prefix"])
    assert tokens[0]["last_used_at"] is not None
    revoked = client.post(f"/api/v1/tokens/{tokens[0]['id']}/revoke", headers=member.headers)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"]
    refused = client.get("/api/v1/decisions", headers=member.headers)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    for header in ("Bearer", "Basic abc", "Bearer acc_not-a-real-token-at-all-000000"):
        response = client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401, header
    # Another member cannot revoke (or even see) someone else's token.
    other = client.get("/api/v1/tokens", headers=world["member_b"].headers).json()
    response = client.post(
        f"/api/v1/tokens/{other[0]['id']}/revoke", headers=world["regulator"].headers
    )
    assert response.status_code == 404


def test_disabled_user_is_refused(client: Client, world: World, service: Any) -> None:
    from accord.service import OPERATOR

    assert client.get("/api/v1/me", headers=world["member_b"].headers).status_code == 200
    service.set_active(OPERATOR, world["member_b"].email, False)
    assert client.get("/api/v1/me", headers=world["member_b"].headers).status_code == 401


def test_session_sign_in_and_csrf(client: Client, world: World) -> None:
    member = world["member_a"]
    bad = client.post("/api/v1/session", json={"email": member.email, "password": "wrong-password"})
    assert bad.status_code == 403
    signed = client.post(
        "/api/v1/session", json={"email": member.email, "password": member.password}
    )
    assert signed.status_code == 200, signed.text
    csrf = signed.json()["csrf_token"]
    assert signed.json()["me"]["role"] == "member"
    # Reads work with the cookie alone.
    assert client.get("/api/v1/me").json()["email"] == member.email
    # Writes need the CSRF header.
    body = {"transfer": _transfer("cookie-1")}
    assert client.post("/api/v1/decisions", json=body).status_code == 403
    assert (
        client.post("/api/v1/decisions", json=body, headers={"X-CSRF-Token": "nope"}).status_code
        == 403
    )
    ok = client.post("/api/v1/decisions", json=body, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201, ok.text
    out = client.post("/api/v1/session/sign-out", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    assert client.get("/api/v1/me").json()["authenticated"] is False
