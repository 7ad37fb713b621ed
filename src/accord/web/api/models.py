"""Request and response models of the ``/api/v1`` API (they make the OpenAPI document)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- decisions


class DecisionRequest(_Strict):
    """A transfer to decide."""

    transfer: dict[str, Any] = Field(
        description="The transfer document (see docs/transfer.md and docs/transfer.schema.json)."
    )
    as_of: date | None = Field(
        default=None, description="Decide as on this day (default: the transfer's date)."
    )


class Receipt(BaseModel):
    """Proof that a decision is in the log: entry, inclusion proof and a signed checkpoint.

    The receipt is an ``accord.bundle/1`` proof bundle: save it to a file and check it offline with
    ``accord log verify-bundle FILE --key VERIFIER``."""

    format: str = Field(description='always "accord.bundle/1"')
    leaf_index: int
    leaf_hash: str = Field(description="base64 of SHA-256(0x00 ‖ entry)")
    log_size: int
    hashes: list[str] = Field(description="the inclusion proof, base64 hashes")
    checkpoint: str = Field(description="a C2SP signed note whose tree includes the leaf")
    entry: str = Field(description="base64 of the entry's canonical (RFC 8785) JSON bytes")
    entry_json: dict[str, Any] = Field(description="the same entry, as a JSON object")


class DecisionSummary(BaseModel):
    """A decision in a listing."""

    id: str
    transfer_id: str | None
    org_id: int | None
    org: str | None
    outcome: str
    as_of: str
    leaf_index: int
    digest: str = Field(description="SHA-256 of {id, transfer, decision} as RFC 8785 JSON")
    created_at: str | None
    packs: list[str]


class DecisionDetail(DecisionSummary):
    """A decision with its transfer and its ledger receipt."""

    decision: dict[str, Any]
    transfer: dict[str, Any]
    receipt: Receipt


class DecisionPage(BaseModel):
    """One page of decisions, newest first."""

    items: list[DecisionSummary]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")


# ---------------------------------------------------------------- packs


class PackUpload(_Strict):
    """A pack (or agreement) text in the rule-pack language (YAML or JSON)."""

    text: str = Field(min_length=1, description="the pack source")
    filename: str | None = Field(
        default=None, max_length=200, description="name used in error locations"
    )


class StatusChange(_Strict):
    """Optional details of a lifecycle change."""

    version: int | None = Field(default=None, ge=1, le=1_000_000, description="version to activate")
    note: str | None = Field(default=None, max_length=2000)


class VersionInfo(BaseModel):
    """One stored version of a pack."""

    number: int
    declared_version: str
    sha256: str
    uploaded_at: str | None


class PackSummary(BaseModel):
    """A pack or agreement and its lifecycle status."""

    id: str
    kind: str
    title: str
    jurisdiction: str
    status: str
    current_version: int
    latest_version: int
    updated_at: str | None


class PackDetail(PackSummary):
    """A pack with the text of one version."""

    version: VersionInfo
    text: str


class PackUploaded(PackSummary):
    """The pack after an upload, and the version the upload created."""

    uploaded_version: VersionInfo


class PackEventOut(BaseModel):
    """One entry of a pack's audit trail."""

    action: str
    from_status: str | None
    to_status: str
    version: int
    actor: str | None
    note: str | None
    at: str | None


# ---------------------------------------------------------------- log


class CheckpointOut(BaseModel):
    """The latest signed checkpoint."""

    origin: str
    size: int
    root_hash: str = Field(description="base64")
    text: str = Field(description="the C2SP signed note")
    verifier_key: str = Field(description="verifier key: name+keyid+base64 key")


class InclusionProofOut(BaseModel):
    """An RFC 6962 inclusion proof."""

    log_size: int
    leaf_index: int
    leaf_hash: str
    hashes: list[str]


class ConsistencyProofOut(BaseModel):
    """An RFC 6962 consistency proof."""

    old_size: int
    new_size: int
    hashes: list[str]


# ---------------------------------------------------------------- stats & accounts


class Stats(BaseModel):
    """Aggregate figures: nothing about any single transfer."""

    decisions: int
    by_outcome: dict[str, int]
    by_pack: dict[str, int]
    organisations: int
    packs: dict[str, int]
    log_size: int
    generated_at: str


class Me(BaseModel):
    """The caller."""

    authenticated: bool
    user_id: int | None
    email: str | None
    role: str | None
    org_id: int | None
    via: str
    scopes: list[str]
    capabilities: list[str]


class OrgIn(_Strict):
    """A new organisation."""

    name: str = Field(min_length=1, max_length=200)
    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2")


class OrgOut(BaseModel):
    """An organisation."""

    id: int
    name: str
    country: str
    created_at: str | None


class UserIn(_Strict):
    """A new user."""

    email: str = Field(min_length=3, max_length=320)
    role: str = Field(description="admin | regulator | auditor | member")
    org_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    password: str | None = Field(default=None, min_length=8, max_length=200)


class RoleChange(_Strict):
    """A new role."""

    role: str = Field(description="admin | regulator | auditor | member")


class UserOut(BaseModel):
    """A user (never the password hash)."""

    id: int
    email: str
    role: str
    org_id: int | None
    active: bool
    has_password: bool
    created_at: str | None


class TokenIn(_Strict):
    """A new API token."""

    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(default_factory=lambda: ["read", "write"], min_length=1)
    user_id: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="admins: create for another user"
    )


class TokenOut(BaseModel):
    """An API token (its secret is never shown again)."""

    id: int
    user: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: str | None
    last_used_at: str | None
    revoked_at: str | None


class TokenCreated(TokenOut):
    """A new token with its secret, shown this once."""

    token: str


class SignIn(_Strict):
    """Email and password."""

    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=200)


class SessionOut(BaseModel):
    """A browser session: send `csrf_token` as the `X-CSRF-Token` header on every write."""

    csrf_token: str
    me: Me
