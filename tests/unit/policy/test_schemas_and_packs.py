"""The published JSON Schemas are current, and the shipped packs load through ``accord.packs``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from accord import packs
from accord.errors import NotFoundError
from accord.policy.printer import pack_to_data
from accord.policy.schemas import pack_schema, render

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_published_pack_schema_is_current() -> None:
    published = (DOCS / "pack.schema.json").read_text(encoding="utf-8")
    assert published == render(pack_schema()), "regenerate docs/pack.schema.json"
    jsonschema.Draft202012Validator.check_schema(pack_schema())


@pytest.mark.parametrize("path", packs.shipped_paths(), ids=lambda p: p.name)
def test_shipped_pack_files_match_the_schema(path: Path) -> None:
    data = json.loads(
        json.dumps(yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader), default=str)
    )
    errors = list(jsonschema.Draft202012Validator(pack_schema()).iter_errors(data))
    assert not errors, [e.message for e in errors]


def test_printed_packs_match_the_schema() -> None:
    validator = jsonschema.Draft202012Validator(pack_schema())
    for pack in packs.shipped():
        assert not list(validator.iter_errors(pack_to_data(pack, json_ready=True))), pack.id


def test_the_schema_rejects_an_unknown_rule_key() -> None:
    pack = pack_to_data(packs.shipped()[0], json_ready=True)
    pack["rules"][0]["whn"] = {}
    assert list(jsonschema.Draft202012Validator(pack_schema()).iter_errors(pack))


def test_loader_ids_get_and_not_found() -> None:
    ids = packs.ids()
    assert list(ids) == sorted(ids)
    assert len(set(ids)) == len(ids) == len(packs.shipped_paths())
    assert packs.get(ids[0]).meta.id == ids[0]
    assert packs.shipped() is packs.shipped()  # parsed once
    with pytest.raises(NotFoundError) as info:
        packs.get(ids[0] + "x")
    assert info.value.diagnostics[0].hint is not None


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans, as the pack parser reads them (``NO`` stays Norway)."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
