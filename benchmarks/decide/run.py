"""Decide benchmark: Accord's compiled engine against cedarpy on random transfers, side by side.

Generates seeded random transfers (U.S. exporters mostly, importers in and out of the countries of
concern, DSP categories with counts around every bulk threshold, restricted and brokerage
transactions, CISA safeguards, exemptions, dates either side of 8 Apr 2025) and decides each:

- with Accord, ``accord.policy.compile_packs(accord.packs.shipped())`` (every shipped pack), and
  also with the us-dsp pack alone, for a like-for-like row;
- with cedarpy, evaluating ``dsp.cedar`` (the DSP permit/deny rules in Cedar; schema in
  ``dsp.cedarschema``), one request per call and through ``is_authorized_batch``.

Both sides get pre-built inputs (a parsed ``Transfer``; a Cedar request dict with its context) and
pre-parsed policies (Accord's compiled engine; a cedarpy ``PolicySet`` handle). A separate Accord
row includes parsing the transfer document. Then it checks that Accord's us-dsp verdict and
Cedar's agree on permit vs deny for every transfer, printing any disagreement and exiting 1.

    python benchmarks/decide/run.py            # 100,000 transfers
    python benchmarks/decide/run.py --quick    # 5,000 transfers
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib.metadata
import os
import platform
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cedarpy

from accord.packs import shipped
from accord.policy import Pack, Transfer, compile_packs
from accord.policy.decision import Decision, Outcome

HERE = Path(__file__).resolve().parent

# 28 CFR 202.205: bulk when more than N (persons; devices for precise geolocation).
THRESHOLDS = {
    "human-genomic": 100,
    "other-omic": 1_000,
    "biometric": 1_000,
    "precise-geolocation": 1_000,
    "personal-health": 10_000,
    "personal-financial": 10_000,
    "covered-personal-identifiers": 100_000,
}
CONCERN = ["CN", "HK", "MO", "CU", "IR", "KP", "RU", "VE"]
PADFA_ADVERSARIES = {"CN", "IR", "KP", "RU"}
OTHERS = ["DE", "SG", "GB", "IN", "CA", "JP", "BR", "AE", "MX", "US"]
TRANSACTIONS = [
    "data-brokerage",
    "data-brokerage",
    "vendor",
    "vendor",
    "employment",
    "investment",
    "passive-investment",
    "intra-group",
    "service-provision",
    "research-collaboration",
]
SAFEGUARDS = [
    "encryption-at-rest",
    "encryption-in-transit",
    "access-control",
    "minimisation",
    "onward-transfer-clause",
    "cisa-organizational-requirements",
    "cisa-system-requirements",
    "cisa-data-requirements",
]
CISA_PARTS = [
    "cisa-organizational-requirements",
    "cisa-system-requirements",
    "cisa-data-requirements",
]
EXEMPTIONS = [
    "dsp-personal-communications",
    "dsp-informational-materials",
    "dsp-travel",
    "dsp-official-government-business",
    "dsp-financial-services",
    "dsp-intra-group",
    "dsp-required-by-law",
    "dsp-cfius",
    "dsp-telecommunications",
    "dsp-fda-regulatory",
    "dsp-clinical-investigations",
]
PURPOSES = ["analytics", "hosting", "payroll", "human-resources", "research", "advertising"]


def _count(rng: random.Random, threshold: int) -> int:
    """A count near the threshold most of the time (both sides of the exact boundary)."""
    pick = rng.random()
    if pick < 0.35:
        return threshold + rng.choice([-1, 0, 0, 1, 1, 2])
    if pick < 0.6:
        return rng.randint(0, threshold)
    if pick < 0.85:
        return rng.randint(threshold, threshold * 3)
    return rng.randint(1, 200)


def generate(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` transfer documents, fully specified (so the DSP never has a fact missing)."""
    rng = random.Random(seed)
    start = dt.date(2025, 1, 1)
    docs: list[dict[str, Any]] = []
    for i in range(n):
        cats = rng.sample(sorted(THRESHOLDS), k=rng.choice([1, 1, 1, 2, 2, 3]))
        subjects = {c: _count(rng, THRESHOLDS[c]) for c in cats}
        if rng.random() < 0.04:
            cats.append("government-related")
            subjects["government-related"] = rng.randint(1, 50)
        if rng.random() < 0.2:
            cats.append("contact-details")
            subjects["contact-details"] = rng.randint(1, 500_000)
        safeguards = rng.sample(SAFEGUARDS, k=rng.randint(0, 3))
        roll = rng.random()
        if roll < 0.3:
            safeguards.append("cisa-security-requirements")
        elif roll < 0.4:
            safeguards.extend(p for p in CISA_PARTS if p not in safeguards)
        purposes = rng.sample(PURPOSES, k=rng.randint(1, 2))
        if rng.random() < 0.02:
            purposes.append("evasion")
        if rng.random() < 0.03:
            purposes.append("intelligence-demand")
        same_group = rng.random() < 0.25
        importer_country = rng.choice(CONCERN) if rng.random() < 0.45 else rng.choice(OTHERS)
        doc: dict[str, Any] = {
            "id": f"bench-{i:06d}",
            "date": (start + dt.timedelta(days=rng.randint(0, 729))).isoformat(),
            "exporter": {
                "country": "US" if rng.random() < 0.92 else rng.choice(["DE", "GB", "JP"]),
                "kind": rng.choice(["company", "company", "data-broker", "research"]),
                "group": "g-exporter",
            },
            "importer": {
                "country": importer_country,
                "kind": "company",
                "group": "g-exporter" if same_group else "g-importer",
                "covered_person": rng.random() < 0.3,
            },
            "data": {
                "categories": cats,
                "subjects": subjects,
                "subject_countries": ["US"],
                "government_related": rng.random() < 0.03,
                "de_identified": rng.random() < 0.2,
            },
            "purposes": purposes,
            "transaction": rng.choice(TRANSACTIONS),
            "safeguards": safeguards,
            "exemptions_claimed": [rng.choice(EXEMPTIONS)] if rng.random() < 0.12 else [],
        }
        # PADFA (15 U.S.C. 9901(c)(2)): based in an adversary country, or owned or directed from
        # one (drawn last, so the facts above stay those of earlier versions of this generator).
        doc["importer"]["adversary_controlled"] = (
            importer_country in PADFA_ADVERSARIES or rng.random() < 0.05
        )
        docs.append(doc)
    return docs


def cedar_request(doc: dict[str, Any]) -> dict[str, Any]:
    """The Cedar request for a transfer document (context as in dsp.cedarschema)."""
    data = doc["data"]
    subjects = data["subjects"]
    exporter, importer = doc["exporter"], doc["importer"]
    return {
        "principal": 'Party::"exporter"',
        "action": 'Action::"transfer"',
        "resource": f'Transfer::"{doc["id"]}"',
        "context": {
            "exporter_country": exporter["country"],
            "importer_country": importer["country"],
            "covered_person": importer["covered_person"],
            "transaction": doc["transaction"],
            "day": int(doc["date"].replace("-", "")),
            "categories": list(data["categories"]),
            "subjects": {c.replace("-", "_"): subjects.get(c, 0) for c in THRESHOLDS},
            "government_related": data["government_related"],
            "safeguards": list(doc["safeguards"]),
            "exemptions": list(doc["exemptions_claimed"]),
            "purposes": list(doc["purposes"]),
            "intra_group": exporter["group"] == importer["group"],
            "de_identified": data["de_identified"],
        },
    }


def dsp_verdict(decision: Decision) -> str:
    """Accord's us-dsp verdict: deny, permit (with or without duties, or not applied), or other."""
    status = next(p for p in decision.packs if p.id == "us-dsp")
    if status.outcome is Outcome.DENY:
        return "deny"
    if status.outcome in (None, Outcome.PERMIT, Outcome.PERMIT_WITH_OBLIGATIONS):
        return "permit"
    return str(status.outcome)


def _pct(sorted_ns: Sequence[int], q: float) -> float:
    """The q-quantile (nearest rank) of sorted nanosecond timings, in microseconds."""
    k = min(len(sorted_ns) - 1, max(0, round(q * (len(sorted_ns) - 1))))
    return sorted_ns[k] / 1000


def _time_each(fn: Callable[[Any], Any], items: Sequence[Any]) -> tuple[list[Any], list[int]]:
    out: list[Any] = []
    times: list[int] = []
    clock = time.perf_counter_ns
    gc.disable()
    try:
        for item in items:
            t0 = clock()
            result = fn(item)
            times.append(clock() - t0)
            out.append(result)
    finally:
        gc.enable()
    return out, times


def _row(
    name: str, per_decision_ns: list[int], total_ns: int, cpu_ns: int | None, n: int
) -> dict[str, Any]:
    ordered = sorted(per_decision_ns)
    return {
        "name": name,
        "median_us": _pct(ordered, 0.5),
        "p99_us": _pct(ordered, 0.99),
        "per_s": n / (total_ns / 1e9),
        "per_cpu_s": None if cpu_ns is None else n / (cpu_ns / 1e9),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 transfers instead of 100,000")
    parser.add_argument("-n", type=int, default=None, help="number of transfers")
    parser.add_argument("--seed", type=int, default=20260308)
    parser.add_argument("--batch-size", type=int, default=1_000)
    args = parser.parse_args(argv)
    n = args.n or (5_000 if args.quick else 100_000)

    print(f"decide benchmark: {n:,} transfers, seed {args.seed}", flush=True)
    cedar_version = importlib.metadata.version("cedarpy")
    print(
        f"python {platform.python_version()}, cedarpy {cedar_version}, {platform.machine()}, "
        f"{os.cpu_count()} cores",
        flush=True,
    )
    docs = generate(n, args.seed)
    requests = [cedar_request(d) for d in docs]

    # --- set-up ---------------------------------------------------------------------------------
    packs = shipped()
    dsp: Pack = next(p for p in packs if p.id == "us-dsp")
    engine = compile_packs(packs)
    dsp_engine = compile_packs([dsp])
    transfers, parse_ns = _time_each(Transfer.from_mapping, docs)
    policy_text = (HERE / "dsp.cedar").read_text(encoding="utf-8")
    schema_text = (HERE / "dsp.cedarschema").read_text(encoding="utf-8")
    validation = cedarpy.validate_policies(policy_text, schema_text)
    if not validation.validation_passed:
        print("dsp.cedar does not validate against dsp.cedarschema:", file=sys.stderr)
        for error in validation.errors:
            print(f"  {error}", file=sys.stderr)
        return 2
    policies = cedarpy.PolicySet.from_str(policy_text)
    entities = cedarpy.Entities.from_json_str("[]")
    for t, r in zip(transfers[:500], requests[:500], strict=True):  # warm-up
        engine.decide(t)
        dsp_engine.decide(t)
        cedarpy.is_authorized(r, policies, entities)
    cedarpy.is_authorized_batch(requests[:500], policies, entities)

    # --- timed, interleaved ----------------------------------------------------------------------
    # The engines take turns on each chunk of transfers (in a rotating order), so load from other
    # processes on a shared machine falls on all of them alike. Each engine's decisions/s is the
    # number of transfers over the wall time of its own turns.
    decisions: list[Decision] = []
    results: list[Any] = []
    batch_results: list[Any] = []
    timings: dict[str, list[int]] = {"accord": [], "dsp": [], "cedar": [], "batch": []}
    totals = dict.fromkeys(timings, 0)
    cpu_totals = dict.fromkeys(timings, 0)
    clock = time.perf_counter_ns
    cpu_clock = time.process_time_ns

    def run_accord(lo: int, hi: int) -> None:
        out, ns = _time_each(engine.decide, transfers[lo:hi])
        decisions.extend(out)
        timings["accord"].extend(ns)

    def run_dsp(lo: int, hi: int) -> None:
        _out, ns = _time_each(dsp_engine.decide, transfers[lo:hi])
        timings["dsp"].extend(ns)

    def run_cedar(lo: int, hi: int) -> None:
        out, ns = _time_each(
            lambda r: cedarpy.is_authorized(r, policies, entities), requests[lo:hi]
        )
        results.extend(out)
        timings["cedar"].extend(ns)

    def run_batch(lo: int, hi: int) -> None:
        b0 = clock()
        batch_results.extend(cedarpy.is_authorized_batch(requests[lo:hi], policies, entities))
        timings["batch"].extend([(clock() - b0) // (hi - lo)] * (hi - lo))

    runners: list[tuple[str, Callable[[int, int], None]]] = [
        ("accord", run_accord),
        ("dsp", run_dsp),
        ("cedar", run_cedar),
        ("batch", run_batch),
    ]
    for k, lo in enumerate(range(0, n, args.batch_size)):
        hi = min(n, lo + args.batch_size)
        turn = k % len(runners)
        for name, runner in runners[turn:] + runners[:turn]:
            t0, c0 = clock(), cpu_clock()
            runner(lo, hi)
            totals[name] += clock() - t0
            cpu_totals[name] += cpu_clock() - c0
    accord_ns = timings["accord"]
    parse_plus = [a + b for a, b in zip(parse_ns, accord_ns, strict=True)]

    # --- agreement ------------------------------------------------------------------------------
    disagreements: list[str] = []
    verdicts: Counter[str] = Counter()
    for doc, decision, single, batched in zip(docs, decisions, results, batch_results, strict=True):
        ours = dsp_verdict(decision)
        theirs = "permit" if single.allowed else "deny"
        theirs_batch = "permit" if batched.allowed else "deny"
        verdicts[ours] += 1
        if not (ours == theirs == theirs_batch):
            reasons = [r.rule for r in decision.reasons if r.pack == "us-dsp"]
            disagreements.append(
                f"{doc['id']}: accord {ours} ({reasons}) cedar {theirs}/{theirs_batch} "
                f"({sorted(single.diagnostics.reasons)}) {doc}"
            )
    overall = Counter(str(d.outcome) for d in decisions)

    rows = [
        _row("Accord, all shipped packs", accord_ns, totals["accord"], cpu_totals["accord"], n),
        _row("Accord, us-dsp pack only", timings["dsp"], totals["dsp"], cpu_totals["dsp"], n),
        _row("Accord, all packs, parse + decide", parse_plus, sum(parse_plus), None, n),
        _row(
            "cedarpy is_authorized (one call each)",
            timings["cedar"],
            totals["cedar"],
            cpu_totals["cedar"],
            n,
        ),
        _row(
            f"cedarpy is_authorized_batch ({args.batch_size}/call)",
            timings["batch"],
            totals["batch"],
            cpu_totals["batch"],
            n,
        ),
    ]
    print()
    print(
        "| engine | median µs/decision | p99 µs/decision | decisions/s (wall) "
        "| decisions per CPU-second |"
    )
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        cpu = "—" if row["per_cpu_s"] is None else f"{row['per_cpu_s']:,.0f}"
        print(
            f"| {row['name']} | {row['median_us']:.1f} | {row['p99_us']:.1f} | "
            f"{row['per_s']:,.0f} | {cpu} |"
        )
    print()
    for label, key in (("decisions/s (wall)", "per_s"), ("decisions per CPU-second", "per_cpu_s")):
        single, batch = rows[3][key], rows[4][key]
        print(
            f"{label}: Accord all packs = {rows[0][key] / single:.1f}x cedarpy single, "
            f"{rows[0][key] / batch:.1f}x batch; us-dsp alone = "
            f"{rows[1][key] / max(single, batch):.1f}x the better cedarpy"
        )
    print(
        f"median: Accord all packs {rows[3]['median_us'] / rows[0]['median_us']:.1f}x faster than "
        f"cedarpy single; us-dsp alone {rows[3]['median_us'] / rows[1]['median_us']:.1f}x"
    )
    print(f"us-dsp verdicts: {dict(verdicts)}; overall outcomes (all packs): {dict(overall)}")
    if disagreements:
        print(f"\n{len(disagreements)} disagreements between Accord's us-dsp and Cedar:")
        for line in disagreements[:50]:
            print("  " + line)
        return 1
    print(f"Accord's us-dsp verdict and Cedar agree on permit vs deny for all {n:,} transfers.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
