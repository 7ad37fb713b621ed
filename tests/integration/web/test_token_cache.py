"""The in-process token cache: changes made through this process apply at once; changes made by
another process apply once the cache entry expires (``TOKEN_CACHE_SECONDS``)."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import TRANSFER, Client, World


def _decide(client: Client, headers: dict[str, str]) -> int:
    return client.post(
        "/api/v1/decisions", json={"transfer": TRANSFER}, headers=headers
    ).status_code


def test_revoke_through_the_api_refuses_the_token_at_once(
    client: Client, world: World, service: Any
) -> None:
    member = world["member_a"]
    assert _decide(client, member.headers) == 201
    assert (
        service.cached_principal(member.token) is not None
    )  # the next request is served from memory
    token_id = client.get("/api/v1/tokens", headers=member.headers).json()[0]["id"]
    revoked = client.post(f"/api/v1/tokens/{token_id}/revoke", headers=world["admin"].headers)
    assert revoked.status_code == 200
    assert service.cached_principal(member.token) is None
    assert _decide(client, member.headers) == 401
    assert client.get("/api/v1/me", headers=member.headers).status_code == 401


def test_role_change_through_the_api_applies_at_once(client: Client, world: World) -> None:
    auditor = world["auditor"]
    assert client.get("/api/v1/me", headers=auditor.headers).json()["role"] == "auditor"
    changed = client.post(
        f"/api/v1/users/{auditor.user_id}/role",
        json={"role": "regulator"},
        headers=world["admin"].headers,
    )
    assert changed.status_code == 200, changed.text
    assert client.get("/api/v1/me", headers=auditor.headers).json()["role"] == "regulator"


def test_disabling_a_user_refuses_its_token_at_once(
    client: Client, world: World, service: Any
) -> None:
    from accord.service import OPERATOR

    member = world["member_b"]
    assert _decide(client, member.headers) == 201
    service.set_active(OPERATOR, member.user_id, False)
    assert _decide(client, member.headers) == 401


def _revoke_elsewhere(client: Client, member: Any, settings: Any) -> None:
    """Use ``member``'s token once (so it is cached here), then revoke it through another
    service on the same database, as another process would."""
    from accord.service import OPERATOR, Service

    assert client.get("/api/v1/me", headers=member.headers).status_code == 200
    token_id = client.get("/api/v1/tokens", headers=member.headers).json()[0]["id"]
    other = Service(settings, migrate=False)
    try:
        other.revoke_token(OPERATOR, token_id)
    finally:
        other.close()


def test_revocation_by_another_process_applies_when_the_entry_expires(
    client: Client, world: World, service: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process (another worker, ``accord tokens revoke``) cannot empty this cache: the
    revocation holds once the cached entry is older than TOKEN_CACHE_SECONDS."""
    import accord.service as service_module

    member = world["member_a"]
    _revoke_elsewhere(client, member, settings)
    # Still within the TTL: this process has not heard of it (this is the documented window).
    assert service.cached_principal(member.token) is not None
    # Once expired, the token is checked against the database again and refused.
    for key, (principal, tid, _expires, _refresh) in list(service._tokens.items()):
        service._tokens[key] = (principal, tid, 0.0, 0.0)
    assert service.cached_principal(member.token) is None
    assert client.get("/api/v1/me", headers=member.headers).status_code == 401
    assert service_module.TOKEN_CACHE_SECONDS <= 2.0


def _expire_soon(service: Any, seconds: float) -> None:
    """Make every cached entry expire ``seconds`` from now."""
    import time

    import accord.service as service_module

    ahead = service_module.TOKEN_REFRESH_AHEAD_SECONDS
    for key, (principal, tid, _expires, _refresh) in list(service._tokens.items()):
        expires = time.monotonic() + seconds
        service._tokens[key] = (principal, tid, expires, expires - ahead)


def _wait_for_refreshes(service: Any) -> None:
    import time

    deadline = time.monotonic() + 10
    while service._refreshing and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not service._refreshing


def test_an_entry_near_its_expiry_is_renewed_in_the_background(
    client: Client, world: World, service: Any
) -> None:
    """A token in steady use never misses the cache: shortly before its entry expires, the entry
    still answers and one background check renews it."""
    import time

    import accord.service as service_module

    member = world["member_a"]
    assert _decide(client, member.headers) == 201
    _expire_soon(service, service_module.TOKEN_REFRESH_AHEAD_SECONDS / 2)
    assert service.cached_principal(member.token) is not None  # still answers…
    _wait_for_refreshes(service)
    (_principal, _tid, expires, _refresh) = next(iter(service._tokens.values()))
    # …and was renewed for a whole TTL from the check.
    assert expires - time.monotonic() > service_module.TOKEN_CACHE_SECONDS / 2


def test_a_background_check_drops_a_token_revoked_elsewhere(
    client: Client, world: World, service: Any, settings: Any
) -> None:
    member = world["member_b"]
    _revoke_elsewhere(client, member, settings)
    _expire_soon(service, 0.05)
    service.cached_principal(member.token)  # within its TTL: answers, and starts the check
    _wait_for_refreshes(service)
    assert service.cached_principal(member.token) is None
    assert client.get("/api/v1/me", headers=member.headers).status_code == 401


def test_one_background_check_per_token_at_a_time(
    client: Client, world: World, service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    member = world["member_a"]
    assert _decide(client, member.headers) == 201
    release = threading.Event()
    checks: list[str] = []
    original = service._check_token

    def slow_check(raw: str) -> Any:
        checks.append(raw)
        release.wait(10)
        return original(raw)

    monkeypatch.setattr(service, "_check_token", slow_check)
    _expire_soon(service, 0.2)
    for _ in range(50):
        assert service.cached_principal(member.token) is not None
    release.set()
    _wait_for_refreshes(service)
    assert checks == [member.token]


def test_a_cached_token_due_a_last_use_write_gets_it_in_the_background(
    client: Client, world: World, service: Any
) -> None:
    """``last_used_at`` is written once a minute for a token in use, by the background check,
    while the cache keeps answering."""
    from datetime import timedelta

    from accord.storage.models import ApiToken, utcnow

    member = world["member_a"]
    assert _decide(client, member.headers) == 201
    key, (principal, token_id, expires, _refresh) = next(iter(service._tokens.items()))
    long_ago = utcnow() - timedelta(minutes=5)
    service._token_touch[token_id] = long_ago
    service._tokens[key] = (principal, token_id, expires, 0.0)  # due now
    assert service.cached_principal(member.token) is not None
    _wait_for_refreshes(service)
    with service.db.read() as session:
        stored = session.get(ApiToken, token_id)
        assert stored is not None
        assert stored.last_used_at is not None
        last = stored.last_used_at
    assert last.replace(tzinfo=None) > long_ago.replace(tzinfo=None) + timedelta(minutes=4)
