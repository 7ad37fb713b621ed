"""ODRL 2.2 JSON-LD export/import: the mapping, the errors and the CLI."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from accord.cli import main
from accord.errors import PackError
from accord.packs import shipped
from accord.policy.ast import (
    Atomic,
    Logical,
    LogicalOp,
    Operator,
    Pack,
    RuleKind,
    ThresholdRef,
)
from accord.policy.odrl import (
    ACCORD_CONTEXT,
    ACCORD_NS,
    ACCORD_PROFILE,
    EXTENSION_TERMS,
    ODRL_CONTEXT,
    ODRL_CORE_TERMS,
    from_odrl,
    to_odrl,
)

ROOT = Path(__file__).resolve().parents[3]

PACK = """
pack:
  id: demo-agreement
  title: Demo bilateral agreement
  kind: agreement
  jurisdiction: EU
  instrument: Demo Agreement 2026
  version: "1.2"
  effective_from: 2026-01-01
  sunset: 2030-12-31
  review_interval: P1Y
  parties: [DE, JP]
  confidence: secondary
  default: deny
  default_citation: Art. 1
  sources: [https://example.org/agreement]
  scope: {fact: exporter.country, op: isAnyOf, value: [DE, JP]}
  notes: A test pack.
groups:
  partners: [DE, JP]
thresholds:
  bulk-health:
    fact: data.subjects.personal-health
    op: gteq
    value: 10000
    citation: Art. 2(1)
    source: https://example.org/agreement#art2
rules:
  - id: no-bulk-health
    kind: prohibition
    text: No bulk health data.
    citation: Art. 2
    source: https://example.org/agreement#art2
    when:
      and:
        - {threshold: bulk-health}
        - {not: {fact: importer.country, op: isA, value: group:partners}}
    unless: {fact: mechanisms, op: isAllOf, value: [scc-2021-module-1]}
  - id: research-exemption
    kind: exemption
    text: Research is exempt.
    citation: Art. 3
    source: https://example.org/agreement#art3
    when: {fact: purposes, op: isAnyOf, value: [research]}
    exempts: [no-bulk-health]
  - id: partner-flows
    kind: permission
    text: Transfers between the partners are permitted.
    citation: Art. 4
    source: https://example.org/agreement#art4
    effective_from: 2026-02-01
    sunset: 2029-01-01
    confidence: uncertain
    protects: [data-protection]
    when:
      xone:
        - {fact: importer.country, op: eq, value: DE}
        - {fact: importer.country, op: eq, value: JP}
    duties:
      - id: notify
        text: Notify the other party.
        citation: Art. 5
        source: https://example.org/agreement#art5
        deadline: P30D
        protects: [transparency]
  - id: log-transfers
    kind: obligation
    text: Keep a record of transfers.
    citation: Art. 6
    source: https://example.org/agreement#art6
    when:
      or:
        - {fact: date, op: gteq, value: 2026-06-01}
        - {fact: occasional, op: neq, value: true}
    duties:
      - {id: keep-record, text: Keep the record for five years.}
  - id: everything-emergency
    kind: exemption
    text: Emergencies suspend every rule.
    citation: Art. 7
    source: https://example.org/agreement#art7
    when: {fact: transaction, op: eq, value: emergency}
    exempts: ["*"]
    notes: Checked yearly.
"""


def _pack(text: str = PACK) -> Pack:
    return Pack.from_text(text, source="demo.yaml")


def _roundtrip(pack: Pack) -> Pack:
    return from_odrl(json.loads(json.dumps(to_odrl(pack))))


def _keys(node: object) -> set[str]:
    if isinstance(node, dict):
        return set(node).union(*(_keys(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_keys(v) for v in node))
    return set()


def _rule(doc: dict[str, Any], key: str, index: int = 0) -> dict[str, Any]:
    rule: dict[str, Any] = doc[key][index]
    return rule


# -- export shape ---------------------------------------------------------------------------------


def test_policy_header() -> None:
    doc = to_odrl(_pack())
    assert doc["@context"] == [ODRL_CONTEXT, ACCORD_CONTEXT]
    assert doc["@type"] == "Agreement"
    assert doc["uid"] == "urn:accord:pack:demo-agreement:1.2"
    assert doc["profile"] == ACCORD_PROFILE
    assert doc["conflict"] == "prohibit"
    assert doc["assigner"] == "urn:accord:jurisdiction:DE"
    assert doc["assignee"] == ["urn:accord:jurisdiction:JP"]
    assert doc["dct:coverage"] == "EU"
    assert doc["accord:effectiveFrom"] == "2026-01-01"
    assert doc["accord:sunset"] == "2030-12-31"
    assert doc["accord:default"] == "deny"


def test_regulation_is_a_set_without_parties() -> None:
    text = PACK.replace("kind: agreement", "kind: regulation").replace("parties: [DE, JP]", "")
    doc = to_odrl(_pack(text))
    assert doc["@type"] == "Set"
    assert "assigner" not in doc
    assert "accord:parties" not in doc


def test_rules_go_to_their_odrl_containers() -> None:
    doc = to_odrl(_pack())
    assert [r["uid"].rsplit(":", 1)[1] for r in doc["prohibition"]] == ["no-bulk-health"]
    assert [r["uid"].rsplit(":", 1)[1] for r in doc["permission"]] == ["partner-flows"]
    assert [r["uid"].rsplit(":", 1)[1] for r in doc["obligation"]] == ["log-transfers"]
    assert len(doc["accord:exemption"]) == 2
    assert _rule(doc, "permission")["action"] == "accord:transfer"
    assert _rule(doc, "obligation")["action"] == "accord:fulfil"
    # The pack interleaves kinds, so the export records the original order.
    assert [i.rsplit(":", 1)[1] for i in doc["accord:order"]] == [r.id for r in _pack().rules]


def test_no_order_property_when_rules_are_already_grouped() -> None:
    pack = _pack()
    grouped = tuple(sorted(pack.rules, key=lambda r: list(RuleKind).index(r.kind)))
    doc = to_odrl(Pack(pack.meta, grouped, pack.groups, pack.thresholds))
    assert "accord:order" not in doc


@pytest.mark.parametrize("op", list(Operator))
def test_every_operator_maps_to_odrl_and_back(op: Operator) -> None:
    fact, value = "data.subjects.personal-health", "3"
    if op is Operator.IS_A:
        fact, value = "purposes", "research"
    elif op.value.startswith("is"):
        fact, value = "purposes", "[research, payroll]"
    text = PACK.replace(
        "when: {fact: purposes, op: isAnyOf, value: [research]}",
        f"when: {{fact: {fact}, op: {op.value}, value: {value}}}",
    )
    pack = _pack(text)
    doc = to_odrl(pack)
    constraint = doc["accord:exemption"][0]["constraint"][0]
    assert constraint["operator"] == f"odrl:{op.value}"
    assert constraint["leftOperand"] == f"accord:{fact}"
    assert _roundtrip(pack) == pack


def test_logical_constraints() -> None:
    doc = to_odrl(_pack())
    prohibition = _rule(doc, "prohibition")
    top = prohibition["constraint"]
    assert len(top) == 1
    assert set(top[0]) == {"and"}
    threshold, negation = top[0]["and"]["@list"]
    assert threshold["accord:threshold"] == "bulk-health"
    # The threshold's body is inlined so plain ODRL processors can evaluate it.
    assert threshold["leftOperand"] == "accord:data.subjects.personal-health"
    assert threshold["operator"] == "odrl:gteq"
    assert threshold["rightOperand"] == 10000
    assert negation["accord:not"]["operator"] == "odrl:isA"
    assert set(_rule(doc, "permission")["constraint"][0]) == {"xone"}
    assert set(_rule(doc, "obligation")["constraint"][0]) == {"or"}
    assert prohibition["accord:unless"]["rightOperand"] == ["scc-2021-module-1"]


def test_values_are_typed() -> None:
    doc = to_odrl(_pack())
    negation = _rule(doc, "prohibition")["constraint"][0]["and"]["@list"][1]["accord:not"]
    assert negation["rightOperand"] == {"@id": "urn:accord:pack:demo-agreement:1.2:group:partners"}
    date_c, bool_c = _rule(doc, "obligation")["constraint"][0]["or"]["@list"]
    assert date_c["rightOperand"] == {"@value": "2026-06-01", "@type": "xsd:date"}
    assert bool_c["rightOperand"] is True


def test_vocabulary_groups_get_a_vocabulary_iri() -> None:
    text = PACK.replace("value: group:partners", "value: group:eea")
    doc = to_odrl(_pack(text))
    negation = _rule(doc, "prohibition")["constraint"][0]["and"]["@list"][1]["accord:not"]
    assert negation["rightOperand"] == {"@id": "urn:accord:group:eea"}
    assert _roundtrip(_pack(text)) == _pack(text)


def test_duties_remedies_and_deadlines() -> None:
    doc = to_odrl(_pack())
    duty = _rule(doc, "permission")["duty"][0]
    assert duty["uid"].endswith(":rule:partner-flows:duty:notify")
    assert duty["action"] == "accord:fulfil"
    assert duty["constraint"] == [
        {
            "leftOperand": "odrl:elapsedTime",
            "operator": "odrl:lteq",
            "rightOperand": {"@value": "P30D", "@type": "xsd:duration"},
        }
    ]
    assert _rule(doc, "obligation")["accord:duty"][0]["dct:description"].startswith("Keep")


def test_exemptions() -> None:
    doc = to_odrl(_pack())
    first, everything = doc["accord:exemption"]
    assert first["accord:exempts"] == ["urn:accord:pack:demo-agreement:1.2:rule:no-bulk-health"]
    assert everything["accord:exempts"] == ["accord:allRules"]


def test_thresholds_and_groups_are_declared() -> None:
    doc = to_odrl(_pack())
    (threshold,) = doc["accord:thresholds"]
    assert threshold["accord:name"] == "bulk-health"
    assert threshold["accord:citation"] == "Art. 2(1)"
    assert threshold["accord:constraint"]["rightOperand"] == 10000
    (group,) = doc["accord:groups"]
    assert group == {
        "uid": "urn:accord:pack:demo-agreement:1.2:group:partners",
        "accord:name": "partners",
        "accord:members": {"@list": ["DE", "JP"]},
    }


def test_every_key_is_odrl_or_a_documented_extension() -> None:
    doc = to_odrl(_pack())
    keys = _keys({k: v for k, v in doc.items() if k != "@context"})
    keywords = {k for k in keys if k.startswith("@")}
    assert keywords <= {"@type", "@list", "@id", "@value"}
    unknown = keys - keywords - ODRL_CORE_TERMS - EXTENSION_TERMS
    assert not unknown
    documented = set(re.findall(r"`((?:accord|dct):[A-Za-z]+)`", _odrl_doc()))
    assert documented >= EXTENSION_TERMS, EXTENSION_TERMS - documented


def _odrl_doc() -> str:
    return (ROOT / "docs" / "odrl.md").read_text(encoding="utf-8")


# -- round trip -----------------------------------------------------------------------------------


def test_roundtrip_is_exact() -> None:
    pack = _pack()
    back = _roundtrip(pack)
    assert back == pack
    assert back.rules[0].when == pack.rules[0].when
    assert isinstance(back.rules[0].when, Logical)
    assert back.rules[0].when.args[0] == ThresholdRef("bulk-health")


def test_roundtrip_of_odd_values() -> None:
    values = [
        "[]",
        "[[1, 2], [a]]",
        "1.5",
        "-7",
        "false",
        "2026-03-04",
        '"group:"',
        '"urn:accord:ns:x"',
        "null",
    ]
    for value in values:
        text = PACK.replace(
            "{fact: importer.country, op: eq, value: DE}",
            f"{{fact: importer.country, op: eq, value: {value}}}",
        )
        pack = Pack.from_text(text, validate=False)
        doc = json.loads(json.dumps(to_odrl(pack)))
        assert from_odrl(doc, validate=False) == pack, value
        _quads(doc)  # still valid JSON-LD


def test_rule_ids_with_reserved_characters_survive() -> None:
    text = PACK.replace("id: notify", "id: 'notify:now/x'").replace(
        'version: "1.2"', 'version: "1.2:b/c"'
    )
    pack = Pack.from_text(text, validate=False)
    assert from_odrl(json.loads(json.dumps(to_odrl(pack))), validate=False) == pack


# -- plain ODRL ------------------------------------------------------------------------------------


def _plain(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": "http://www.w3.org/ns/odrl.jsonld",
        "@type": "Set",
        "uid": "http://example.com/policy:1010",
        "dct:coverage": "EU",
        "dct:issued": "2026-01-01",
        "permission": [
            {
                "target": "http://example.com/asset:9898.movie",
                "action": "use",
                "constraint": [
                    {"leftOperand": "purpose", "operator": "eq", "rightOperand": "research"},
                    {
                        "leftOperand": "dateTime",
                        "operator": "lt",
                        "rightOperand": {"@value": "2027-01-01", "@type": "xsd:date"},
                    },
                ],
            }
        ],
        "prohibition": [
            {
                "uid": "http://example.com/policy:1010/no-cn",
                "action": {
                    "rdf:value": {"@id": "odrl:distribute"},
                    "refinement": [
                        {"leftOperand": "accord:importer.country", "operator": "eq",
                         "rightOperand": "CN"}
                    ],
                },
            }
        ],
    }  # fmt: skip
    doc.update(extra)
    return doc


def test_plain_odrl_policy_is_mapped() -> None:
    pack = from_odrl(_plain(), validate=False)
    assert pack.id == "policy-1010"
    assert pack.meta.jurisdiction == "EU"
    assert pack.meta.effective_from == date(2026, 1, 1)
    assert "conflict strategy not stated" in (pack.meta.notes or "")
    permission, prohibition = pack.rules
    assert permission.kind is RuleKind.PERMISSION
    assert permission.id == "permission-1"
    assert permission.when == Logical(
        LogicalOp.AND,
        (
            Atomic("purposes", Operator.IS_ANY_OF, ("research",)),
            Atomic("date", Operator.LT, date(2027, 1, 1)),
        ),
    )
    assert "http://example.com/asset:9898.movie" in (permission.notes or "")
    assert prohibition.id == "no-cn"
    assert prohibition.when == Atomic("importer.country", Operator.EQ, "CN")


def test_other_vocabularies_are_ignored_and_noted() -> None:
    doc = _plain(**{"dct:creator": "Someone", "http://example.com/ns#tag": 1})
    doc["permission"][0]["ex:weight"] = 3
    pack = from_odrl(doc, validate=False)
    notes = pack.meta.notes or ""
    assert "$['dct:creator']" in notes
    assert "$['http://example.com/ns#tag']" in notes
    assert "$.permission[0]['ex:weight']" in notes


def test_plain_obligation_with_any_action() -> None:
    doc = _plain(obligation=[{"action": "inform", "dct:description": "Inform the DPA."}])
    obligation = from_odrl(doc, validate=False).rules[-1]
    assert obligation.kind is RuleKind.OBLIGATION
    assert obligation.text == "Inform the DPA."


def test_plain_logical_constraint_with_and_sequence() -> None:
    doc = _plain()
    doc["permission"][0]["constraint"] = [
        {"andSequence": [
            {"leftOperand": "accord:occasional", "operator": "odrl:eq", "rightOperand": True},
            {"leftOperand": "http://www.w3.org/ns/odrl/2/purpose",
             "operator": "http://www.w3.org/ns/odrl/2/neq", "rightOperand": "marketing"},
        ]}
    ]  # fmt: skip
    when = from_odrl(doc, validate=False).rules[0].when
    assert when == Logical(
        LogicalOp.AND,
        (
            Atomic("occasional", Operator.EQ, True),
            Atomic("purposes", Operator.IS_NONE_OF, ("marketing",)),
        ),
    )


def test_the_published_contexts_neq_typo_is_read_as_neq() -> None:
    doc = _plain()
    doc["permission"][0]["constraint"][1]["operator"] = "odrl:neg"
    when = from_odrl(doc, validate=False).rules[0].when
    assert when.args[1].op is Operator.NEQ  # type: ignore[union-attr]


def test_plain_policy_is_validated_like_any_pack() -> None:
    err = _error(_plain())
    paths = {d.path for d in err.diagnostics}
    assert {"pack.sources", "rules[permission-1].citation", "rules[no-cn].source"} <= paths
    cited = _plain(**{"dct:source": ["https://example.com/law"]})
    for key in ("permission", "prohibition"):
        cited[key][0].update(
            {"accord:citation": "Art 1", "dct:source": "https://example.com/law#1"}
        )
    assert from_odrl(cited).rules[1].citation == "Art 1"


def _error(doc: object, *, validate: bool = True) -> PackError:
    with pytest.raises(PackError) as info:
        from_odrl(doc, validate=validate)  # type: ignore[arg-type]
    return info.value


@pytest.mark.parametrize(
    ("mutate", "path", "words"),
    [
        (
            lambda d: d["permission"][0]["constraint"][0].update(operator="hasPart"),
            "$.permission[0].constraint[0].operator",
            "hasPart",
        ),
        (
            lambda d: d["permission"][0]["constraint"][0].update(leftOperand="media"),
            "$.permission[0].constraint[0].leftOperand",
            "no Accord fact",
        ),
        (
            lambda d: d["permission"][0].update(action="print"),
            "$.permission[0].action",
            "does not govern a data transfer",
        ),
        (lambda d: d.update(conflict="perm"), "$.conflict", "cannot be honoured"),
        (lambda d: d.pop("dct:coverage"), "$", "no jurisdiction"),
        (lambda d: d.pop("dct:issued"), "$", "no start date"),
        (lambda d: d.update({"@type": "Ticket"}), "$['@type']", "not a policy"),
        (lambda d: d.update(inheritFrom="http://x"), "$.inheritFrom", "inheritance"),
        (
            lambda d: d["permission"][0]["constraint"][1]["rightOperand"].update(
                {"@type": "xsd:dateTime"}
            ),
            "$.permission[0].constraint[1].rightOperand['@type']",
            "unsupported datatype",
        ),
        (
            lambda d: d["permission"][0]["constraint"][1]["rightOperand"].update(
                {"@value": "2027-13-01"}
            ),
            "$.permission[0].constraint[1].rightOperand['@value']",
            "xsd:date",
        ),
        (
            lambda d: d["permission"][0].update({"accord:unles": {}}),
            "$.permission[0]['accord:unles']",
            "not supported",
        ),
        (
            lambda d: d["permission"][0].update(consequence=[]),
            "$.permission[0].consequence",
            "not supported",
        ),
        (
            lambda d: d["permission"][0]["constraint"][0].update(unit="m"),
            "$.permission[0].constraint[0].unit",
            "not supported",
        ),
        (
            lambda d: d["permission"][0].update(constraint=[{"or": []}]),
            "$.permission[0].constraint[0].or",
            "needs operands",
        ),
        (
            lambda d: d["permission"][0].update(remedy=[]),
            "$.permission[0].remedy",
            "cannot carry",
        ),
    ],
)
def test_what_cannot_be_mapped_is_located(mutate: Any, path: str, words: str) -> None:
    doc = _plain()
    mutate(doc)
    err = _error(doc, validate=False)
    (diag,) = err.diagnostics
    assert diag.path == path
    assert words in err.render()


def test_not_an_object() -> None:
    assert _error([1, 2]).diagnostics[0].path == "$"


# -- CLI ------------------------------------------------------------------------------------------


def test_cli_export_and_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "demo.yaml").write_text(PACK, encoding="utf-8")
    out = tmp_path / "demo.jsonld"
    assert main(["odrl", "export", str(tmp_path / "demo.yaml"), "-o", str(out)]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["uid"] == "urn:accord:pack:demo-agreement:1.2"
    capsys.readouterr()
    assert main(["odrl", "import", str(out)]) == 0
    printed = capsys.readouterr().out
    assert Pack.from_text(printed) == _pack()
    back = tmp_path / "back.yaml"
    assert main(["odrl", "import", str(out), "--output", str(back)]) == 0
    assert Pack.from_file(back) == _pack()


def test_cli_export_to_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "demo.yaml").write_text(PACK, encoding="utf-8")
    assert main(["odrl", "export", str(tmp_path / "demo.yaml")]) == 0
    assert json.loads(capsys.readouterr().out)["@type"] == "Agreement"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"@type": ', "bad.json:1:11"),
        ('{"@type": "Set", "uid": "x", "permission": [{"action": "print"}]}', "$.permission[0]"),
    ],
)
def test_cli_import_bad_input_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    assert main(["odrl", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_cli_missing_inputs_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["odrl", "import", str(tmp_path / "nope.json")]) == 2
    assert main(["odrl", "export", str(tmp_path / "nope.yaml")]) == 2
    assert main(["odrl", "export", "no-such-pack-id"]) == 2
    err = capsys.readouterr().err
    assert "no such file" in err
    assert "no-such-pack-id" in err


def test_the_accord_namespace_is_a_urn() -> None:
    # Compact IRIs written as "accord:x" expand under this namespace (see docs/odrl.md).
    assert ACCORD_NS == "urn:accord:ns:"
    assert ACCORD_CONTEXT["accord"] == ACCORD_NS


# -- JSON-LD processing ---------------------------------------------------------------------------

# A minimal ODRL 2.2 context for offline processing: every core term in the ODRL namespace, with the
# coercions the ODRL JSON-LD serialisation defines (IRIs for links, vocabulary terms for actions,
# operators, left operands and the conflict strategy).
_ODRL_NS = "http://www.w3.org/ns/odrl/2/"
_AS_ID = {
    "profile", "inheritFrom", "target", "assigner", "assignee", "assigneeOf", "assignerOf",
    "permission", "prohibition", "obligation", "duty", "remedy", "consequence", "constraint",
    "refinement", "and", "or", "xone", "andSequence", "partOf", "source", "relation", "hasPolicy",
    "includedIn", "implies", "operand", "failure",
}  # fmt: skip
_AS_VOCAB = {"action", "operator", "leftOperand", "conflict", "function"}


def _offline_odrl_context() -> dict[str, Any]:
    ctx: dict[str, Any] = {"odrl": _ODRL_NS, "uid": "@id", "type": "@type"}
    for term in sorted(ODRL_CORE_TERMS - {"uid"}):
        if term in _AS_ID:
            ctx[term] = {"@id": f"odrl:{term}", "@type": "@id"}
        elif term in _AS_VOCAB:
            ctx[term] = {"@id": f"odrl:{term}", "@type": "@vocab"}
        else:
            ctx[term] = f"odrl:{term}"
    return {"@context": ctx}


def _loader(url: str, options: object = None) -> dict[str, Any]:
    assert url == ODRL_CONTEXT, f"unexpected remote document {url}"
    return {"contextUrl": None, "documentUrl": url, "document": _offline_odrl_context()}


def _full(key: str) -> str:
    prefixes = {"accord": ACCORD_NS, "dct": "http://purl.org/dc/terms/"}
    prefix, sep, rest = key.partition(":")
    return prefixes[prefix] + rest if sep else _ODRL_NS + key


def _quads(doc: dict[str, Any]) -> str:
    from pyld import jsonld

    quads: str = jsonld.to_rdf(doc, {"format": "application/n-quads", "documentLoader": _loader})
    predicates = set(re.findall(r"^\S+ <([^>]+)>", quads, re.M))
    keys = _keys({k: v for k, v in doc.items() if k != "@context"})
    expected = {_full(k) for k in keys if not k.startswith("@") and k != "uid"}
    assert expected <= predicates, f"dropped by JSON-LD processing: {expected - predicates}"
    return quads


@pytest.mark.parametrize("pack", shipped(), ids=lambda p: p.id)
def test_shipped_packs_export_as_json_ld(pack: Pack) -> None:
    quads = _quads(to_odrl(pack))
    assert f"<{_ODRL_NS}conflict> <{_ODRL_NS}prohibit>" in quads


def test_export_is_valid_json_ld_that_loses_nothing() -> None:
    doc = to_odrl(_pack())
    quads = _quads(doc)
    policy = "<urn:accord:pack:demo-agreement:1.2>"
    rule = "<urn:accord:pack:demo-agreement:1.2:rule:partner-flows>"
    for triple in [
        f"{policy} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{_ODRL_NS}Agreement>",
        f"{policy} <{_ODRL_NS}conflict> <{_ODRL_NS}prohibit>",
        f"{policy} <{_ODRL_NS}profile> <{ACCORD_PROFILE}>",
        f"{policy} <{ACCORD_NS}effectiveFrom> "
        '"2026-01-01"^^<http://www.w3.org/2001/XMLSchema#date>',
        f"{policy} <{_ODRL_NS}permission> {rule}",
        f"{rule} <{_ODRL_NS}action> <{ACCORD_NS}transfer>",
    ]:
        assert triple in quads, triple
    assert f"<{_ODRL_NS}leftOperand> <{ACCORD_NS}exporter.country>" in quads
    assert f"<{_ODRL_NS}operator> <{_ODRL_NS}isAnyOf>" in quads
    assert f"<{_ODRL_NS}leftOperand> <{_ODRL_NS}elapsedTime>" in quads
    assert '"2026-06-01"^^<http://www.w3.org/2001/XMLSchema#date>' in quads


def test_a_remedy_is_refused_by_the_validator() -> None:
    doc = _plain(**{"dct:source": ["https://example.com/law"]})
    for key in ("permission", "prohibition"):
        doc[key][0].update({"accord:citation": "Art 1", "dct:source": "https://example.com/l#1"})
    doc["prohibition"][0]["remedy"] = [{"action": "delete", "dct:description": "Delete it."}]
    err = _error(doc)
    assert [d.path for d in err.diagnostics] == ["rules[no-cn].duties"]
    assert from_odrl(doc, validate=False).rules[1].duties[0].text == "Delete it."
