"""The demo world: organisations in several countries, a user for each role, the shipped packs and a
few hundred recorded decisions from realistic transfers — all deterministic (fixed seed).

:func:`seed` is idempotent: when the demo organisations exist it changes nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from accord.errors import AccordError
from accord.service import OPERATOR, Principal, Service
from accord.storage.models import Org, Role

SEED = 20261128
DEFAULT_DECISIONS = 300

#: (name, country) of the demo organisations; each has one member.
ORGS: tuple[tuple[str, str], ...] = (
    ("Northwind Health GmbH", "DE"),
    ("Acme Genomics Inc.", "US"),
    ("Maple Cloud Ltd", "CA"),
    ("Sakura Devices KK", "JP"),
    ("Thames Payments Ltd", "GB"),
    ("Lotus Logistics Co.", "CN"),
)

#: (email, role, password) of the staff users (no organisation).
STAFF: tuple[tuple[str, Role, str], ...] = (
    ("admin@demo.example.org", Role.ADMIN, "admin-demo-pass"),
    ("regulator@demo.example.org", Role.REGULATOR, "regulator-demo-pass"),
    ("auditor@demo.example.org", Role.AUDITOR, "auditor-demo-pass"),
)
MEMBER_PASSWORD = "member-demo-pass"  # noqa: S105 - printed demo sign-in

_IMPORTER_COUNTRIES = (
    "US",
    "CN",
    "IN",
    "JP",
    "BR",
    "GB",
    "CH",
    "RU",
    "SG",
    "DE",
    "FR",
    "CA",
    "KR",
    "AE",
    "IR",
    "HK",
)
_CATEGORIES = (
    ("customer-records", 5_000, 2_000_000),
    ("contact-details", 1_000, 500_000),
    ("employee-records", 50, 20_000),
    ("personal-health", 50, 200_000),
    ("human-genomic", 10, 5_000),
    ("biometric", 100, 50_000),
    ("precise-geolocation", 100, 100_000),
    ("personal-financial", 500, 500_000),
    ("usage-data", 10_000, 5_000_000),
    ("health-data", 50, 200_000),
    ("anonymised-data", 1_000, 1_000_000),
)
_TRANSACTIONS = (
    "vendor",
    "service-provision",
    "intra-group",
    "data-brokerage",
    "employment",
    "research-collaboration",
    "hr",
    "contract-with-subject",
    "investment",
)
_PURPOSES = (
    "service-provision",
    "hosting",
    "customer-support",
    "research",
    "analytics",
    "human-resources",
    "payments",
    "marketing",
    "fraud-prevention",
    "product-development",
)
_MECHANISMS = (
    "scc-2021-module-2",
    "scc-2021-module-1",
    "adequacy",
    "eu-us-dpf",
    "bcr",
    "idta",
    "uk-addendum",
    "pipl-standard-contract",
    "apec-cbpr",
    "derogation-consent",
)
_SAFEGUARDS = (
    "encryption-in-transit",
    "encryption-at-rest",
    "pseudonymisation",
    "access-control",
    "audit-logging",
    "transfer-impact-assessment",
    "cisa-security-requirements",
    "minimisation",
)
_KINDS = ("company", "company", "company", "research", "data-broker", "public-authority")


@dataclass(frozen=True, slots=True)
class DemoUser:
    """A demo sign-in."""

    email: str
    role: str
    org: str | None
    password: str


@dataclass(frozen=True, slots=True)
class DemoWorld:
    """What :func:`seed` created (or found)."""

    created: bool
    users: tuple[DemoUser, ...]
    decisions: int


def _member_email(org_name: str) -> str:
    slug = "".join(c for c in org_name.lower().split()[0] if c.isalnum())
    return f"member@{slug}.example.org"


def users() -> tuple[DemoUser, ...]:
    """Every demo sign-in (also printed by ``accord demo``)."""
    staff = tuple(DemoUser(e, r.value, None, p) for e, r, p in STAFF)
    members = tuple(
        DemoUser(_member_email(name), Role.MEMBER.value, name, MEMBER_PASSWORD) for name, _ in ORGS
    )
    return staff + members


def transfer(rng: random.Random, n: int, exporter_country: str, org_name: str) -> dict[str, Any]:
    """One realistic transfer document (deterministic for a given ``rng`` state)."""
    importer_country = rng.choice([c for c in _IMPORTER_COUNTRIES if c != exporter_country])
    picked = rng.sample(_CATEGORIES, k=rng.choice((1, 1, 2, 2, 3)))
    categories = [c for c, _, _ in picked]
    subjects = {c: rng.randint(lo, hi) for c, lo, hi in picked}
    day = date(2025, 6, 1) + timedelta(days=rng.randrange(540))
    doc: dict[str, Any] = {
        "id": f"demo-{n:04d}",
        "date": day.isoformat(),
        "exporter": {
            "name": org_name,
            "country": exporter_country,
            "kind": "company",
            "role": "controller",
        },
        "importer": {
            "name": f"Importer {n % 37:02d}",
            "country": importer_country,
            "kind": rng.choice(_KINDS),
            "role": rng.choice(("processor", "controller")),
        },
        "data": {
            "categories": categories,
            "subjects": subjects,
            "subject_countries": [exporter_country],
        },
        "purposes": sorted(rng.sample(_PURPOSES, k=rng.choice((1, 2)))),
        "transaction": rng.choice(_TRANSACTIONS),
        "mechanisms": sorted(rng.sample(_MECHANISMS, k=rng.choice((0, 1, 1, 2)))),
        "safeguards": sorted(rng.sample(_SAFEGUARDS, k=rng.choice((0, 1, 2, 3)))),
        "occasional": rng.random() < 0.2,
    }
    # Facts left unknown now and then, as in real submissions (they make decisions indeterminate).
    if rng.random() < 0.8:
        doc["importer"]["covered_person"] = rng.random() < 0.15
    if rng.random() < 0.8:
        doc["data"]["government_related"] = rng.random() < 0.05
    if rng.random() < 0.7:
        doc["data"]["important_data"] = rng.random() < 0.1
    if rng.random() < 0.3:
        doc["importer"]["certifications"] = [
            {
                "scheme": rng.choice(("eu-us-dpf", "apec-cbpr")),
                "status": "active",
                "valid_until": (day + timedelta(days=365)).isoformat(),
            }
        ]
    return doc


def seed(service: Service, *, decisions: int = DEFAULT_DECISIONS) -> DemoWorld:
    """Create the demo world unless it exists. Decisions that fail validation are skipped.

    The demo world puts the shipped example agreement in force next to the regulations.
    """
    service.ensure_shipped_packs(activate_agreements=True)
    with service.db.read() as session:
        exists = session.scalar(select(Org).where(Org.name == ORGS[0][0])) is not None
    if exists:
        return DemoWorld(False, users(), service.count_rows()["decisions"])
    members: list[tuple[Principal, str, str]] = []
    org_ids: dict[str, int] = {}
    for name, country in ORGS:
        org_ids[name] = int(service.create_org(OPERATOR, name=name, country=country)["id"])
    for user in users():
        view = service.create_user(
            OPERATOR,
            email=user.email,
            role=Role(user.role),
            org=org_ids[user.org] if user.org else None,
            password=user.password,
        )
        if user.org is not None:
            principal = service.principal_for_user_id(int(view["id"]), via="session")
            assert principal is not None
            country = dict(ORGS)[user.org]
            members.append((principal, country, user.org))
    rng = random.Random(SEED)
    recorded = 0
    for n in range(decisions):
        principal, country, org_name = members[n % len(members)]
        doc = transfer(rng, n, country, org_name)
        try:
            service.decide(principal, doc, source=f"demo transfer {n}")
        except AccordError:
            continue
        recorded += 1
    return DemoWorld(True, users(), recorded)
