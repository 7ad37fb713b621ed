"""The HTML pages of Accord: Jinja2 templates, progressively enhanced with (vendored) htmx.

Every page works without JavaScript; with it, the check form swaps only its own area
(``#check-area``) instead of reloading the page. Pages talk to the same service as the API and obey
the same roles (``docs/roles.md``, ``docs/web.md``):

====================  =========================================================================
``GET /``             public landing page with aggregate figures
``GET|POST /sign-in`` sign in with email and password (CSRF-protected form)
``POST /sign-out``    sign out (CSRF-protected)
``GET|POST /check``   check a transfer (form or pasted YAML/JSON); the decision is recorded
``GET /packs``        rule packs and agreements; ``/packs/{id}`` one pack, rule by rule
``GET /decisions``    the decisions the user may read (paginated, filter by outcome)
``GET /decisions/ID`` one decision (404 when it belongs to another organisation)
``GET /log``          the latest signed checkpoint, the verifier key, how to verify offline
``GET /static/...``   the stylesheet and the vendored htmx
====================  =========================================================================

Bad input never produces a stack trace: diagnostics are shown next to the field they name.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from fastapi.templating import Jinja2Templates

from accord import __version__
from accord.errors import (
    AccordError,
    Diagnostic,
    InputError,
    NotFoundError,
    PermissionDeniedError,
)
from accord.policy.ast import Atomic, Constraint, Logical, LogicalOp, Pack, ThresholdRef
from accord.policy.decision import Outcome
from accord.policy.transfer import Transfer, fact_spec
from accord.service import ANONYMOUS, Capability, DecisionFilter, Principal, Service
from accord.vocab import VOCAB
from accord.web.auth import (
    CSRF_FIELD,
    check_csrf,
    csrf_token,
    get_service,
    session_principal,
    sign_in,
    sign_out,
)
from accord.web.recording import record_document

_HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = _HERE / "templates"
STATIC_DIR = _HERE / "static"

#: Outcomes in the order pages list them (strictest last).
OUTCOMES = (
    Outcome.PERMIT,
    Outcome.PERMIT_WITH_OBLIGATIONS,
    Outcome.INDETERMINATE,
    Outcome.DENY,
)
_OUTCOME_LABELS = {
    Outcome.PERMIT: "Permitted",
    Outcome.PERMIT_WITH_OBLIGATIONS: "Permitted with obligations",
    Outcome.DENY: "Denied",
    Outcome.INDETERMINATE: "Cannot decide yet",
}
_OUTCOME_SENTENCES = {
    Outcome.PERMIT: "The transfer is permitted by every pack that applies.",
    Outcome.PERMIT_WITH_OBLIGATIONS: (
        "The transfer is permitted, provided the obligations below are met by their deadlines."
    ),
    Outcome.DENY: "The transfer is prohibited: at least one rule that applies forbids it.",
    Outcome.INDETERMINATE: (
        "The rules cannot decide yet: some facts they need are unknown. "
        "This is neither a permission nor a prohibition."
    ),
}
_OP_WORDS = {
    "eq": "is",
    "neq": "is not",
    "lt": "<",
    "lteq": "≤",
    "gt": ">",
    "gteq": "≥",
    "isA": "is a",
    "isAnyOf": "includes any of",
    "isAllOf": "includes all of",
    "isNoneOf": "includes none of",
}
_DURATION = re.compile(
    r"^P(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?)?$"
)
_DURATION_UNITS = (
    ("y", "year"),
    ("mo", "month"),
    ("w", "week"),
    ("d", "day"),
    ("h", "hour"),
    ("mi", "minute"),
)


# --------------------------------------------------------------------------------------------
# Presentation helpers (pure; also used by the templates)


def _outcome(value: object) -> Outcome | None:
    try:
        return Outcome(str(value))
    except ValueError:
        return None


def outcome_label(outcome: object) -> str:
    """A short human label for an outcome (``"deny"`` → ``"Denied"``)."""
    known = _outcome(outcome)
    return _OUTCOME_LABELS[known] if known is not None else str(outcome)


def outcome_sentence(outcome: object) -> str:
    """One sentence saying what the outcome means."""
    known = _outcome(outcome)
    return _OUTCOME_SENTENCES[known] if known is not None else ""


def duration_label(text: str | None) -> str:
    """An ISO 8601 duration in words: ``P14D`` → ``14 days``; unknown shapes are returned as is."""
    if not text:
        return ""
    match = _DURATION.match(text)
    if match is None or not any(match.groupdict().values()):
        return text
    parts: list[str] = []
    for key, unit in _DURATION_UNITS:
        raw = match.group(key)
        if raw is None:
            continue
        n = int(raw)
        parts.append(f"{n} {unit}{'' if n == 1 else 's'}")
    return ", ".join(parts)


def _value_text(value: object) -> str:
    if isinstance(value, tuple | list | frozenset | set):
        return ", ".join(_value_text(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str) and value.startswith("group:"):
        return f"group {value[6:]}"
    return str(value)


def describe(constraint: Constraint | None, *, _nested: bool = False) -> str:
    """A constraint tree as one readable line, e.g. ``transaction is vendor and (… or …)``."""
    if constraint is None:
        return "always"
    if isinstance(constraint, Atomic):
        word = _OP_WORDS.get(str(constraint.op), str(constraint.op))
        return f"{constraint.fact} {word} {_value_text(constraint.value)}"
    if isinstance(constraint, ThresholdRef):
        return f"threshold {constraint.name}"
    if isinstance(constraint, Logical):
        parts = [describe(arg, _nested=True) for arg in constraint.args]
        if constraint.op is LogicalOp.NOT:
            return f"not ({parts[0]})" if parts else "not ()"
        if constraint.op is LogicalOp.XONE:
            return f"exactly one of ({'; '.join(parts)})"
        text = f" {constraint.op.value} ".join(parts)
        return f"({text})" if _nested and len(parts) > 1 else text
    return str(constraint)  # pragma: no cover - the union is exhaustive


_LOGIC_WORDS = {
    LogicalOp.AND: "all of",
    LogicalOp.OR: "any of",
    LogicalOp.XONE: "exactly one of",
    LogicalOp.NOT: "not",
}


def constraint_tree(constraint: Constraint | None) -> dict[str, Any]:
    """A constraint as nested plain data the templates render as nested lists.

    Nodes: ``{"kind": "logic", "word": "all of", "items": [...]}``,
    ``{"kind": "fact", "fact": ..., "op": ..., "value": ...}``,
    ``{"kind": "threshold", "name": ...}`` and ``{"kind": "always"}``. An ``and`` directly inside
    an ``and`` (an ``or`` inside an ``or``) is flattened.
    """
    if constraint is None:
        return {"kind": "always"}
    if isinstance(constraint, Atomic):
        return {
            "kind": "fact",
            "fact": constraint.fact,
            "op": _OP_WORDS.get(str(constraint.op), str(constraint.op)),
            "value": _value_text(constraint.value),
        }
    if isinstance(constraint, ThresholdRef):
        return {"kind": "threshold", "name": constraint.name}
    items: list[dict[str, Any]] = []
    for arg in constraint.args:
        if (
            isinstance(arg, Logical)
            and arg.op is constraint.op
            and constraint.op in (LogicalOp.AND, LogicalOp.OR)
        ):
            items.extend(constraint_tree(arg)["items"])
        else:
            items.append(constraint_tree(arg))
    return {"kind": "logic", "word": _LOGIC_WORDS[constraint.op], "items": items}


def constraint_size(constraint: Constraint | None) -> int:
    """How many facts and thresholds a constraint tests."""
    if constraint is None:
        return 0
    if isinstance(constraint, Logical):
        return sum(constraint_size(arg) for arg in constraint.args)
    return 1


def field_id(name: str) -> str:
    """The HTML id of a field named by its fact path (``a.b`` → ``f-a-b``)."""
    return "f-" + re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")


def recognition_label(recognition: object) -> str:
    """A recognition (from ``Decision.to_dict()``) as one sentence."""
    if not isinstance(recognition, Mapping):
        return str(recognition)
    held = recognition.get("held") or "?"
    satisfied = recognition.get("satisfied") or "?"
    text = f"{held} is recognised as {satisfied}"
    if recognition.get("regime"):
        text += f" under {recognition['regime']}"
    if recognition.get("citation"):
        text += f" ({recognition['citation']})"
    return text


# --------------------------------------------------------------------------------------------
# The check form: form fields ↔ transfer document, diagnostics ↔ fields

#: Fields whose value is one choice, named by their fact path in the transfer document.
SINGLE_FIELDS = (
    "exporter.country",
    "exporter.kind",
    "exporter.role",
    "exporter.group",
    "exporter.ciio",
    "exporter.public_powers",
    "importer.country",
    "importer.kind",
    "importer.role",
    "importer.group",
    "importer.covered_person",
    "importer.adversary_controlled",
    "data.government_related",
    "data.de_identified",
    "data.important_data",
    "transaction",
    "occasional",
    "initial_collection",
    "date",
)
#: Fields with several values.
MULTI_FIELDS = (
    "purposes",
    "mechanisms",
    "safeguards",
    "data.subject_countries",
    "exemptions_claimed",
)
_BOOL_FIELDS = frozenset(
    {
        "exporter.ciio",
        "exporter.public_powers",
        "importer.covered_person",
        "importer.adversary_controlled",
        "data.government_related",
        "data.de_identified",
        "data.important_data",
        "occasional",
        "initial_collection",
    }
)
#: Fields of the folded "more facts" part of the form (it opens when one of them is filled).
MORE_FIELDS = (
    "exporter.group",
    "exporter.ciio",
    "exporter.public_powers",
    "importer.group",
    "data.government_related",
    "data.de_identified",
    "data.important_data",
    "data.subject_countries",
    "initial_collection",
    "exemptions_claimed",
)
#: Empty category rows the form offers below the filled ones.
SPARE_ROWS = 2
MIN_ROWS = 3
MAX_ROWS = 40


@dataclass(slots=True)
class CategoryRow:
    """One line of the categories table."""

    category: str = ""
    count: str = ""


@dataclass(slots=True)
class FormState:
    """What the user typed, and the problems found with it, keyed by field name."""

    mode: str = "form"
    values: dict[str, Any] = field(default_factory=dict)
    rows: list[CategoryRow] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    summary: list[dict[str, str]] = field(default_factory=list)

    def add_error(self, name: str | None, text: str) -> None:
        """Record a problem; ``name`` is the field it belongs to (``None``: the whole form)."""
        if name is not None and name not in self.errors:
            self.errors[name] = text
        self.summary.append({"field": name or "", "text": text})

    def padded_rows(self) -> list[CategoryRow]:
        """The filled rows plus a few empty ones (the form works without JavaScript)."""
        rows = list(self.rows)
        rows.extend(CategoryRow() for _ in range(max(SPARE_ROWS, MIN_ROWS - len(rows))))
        return rows[:MAX_ROWS]


def _get_all(form: Any, name: str) -> list[str]:
    getlist = getattr(form, "getlist", None)
    if callable(getlist):
        return [str(v) for v in getlist(name)]
    value = form.get(name) if isinstance(form, Mapping) else None
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)]


def _get_one(form: Any, name: str) -> str:
    values = _get_all(form, name)
    return values[0].strip() if values else ""


def read_form(form: Any) -> FormState:
    """Read the submitted form (a Starlette ``FormData`` or a plain mapping) into a state."""
    state = FormState(mode="document" if _get_one(form, "mode") == "document" else "form")
    if state.mode == "document":
        state.values["document"] = (
            _get_all(form, "document")[0] if _get_all(form, "document") else ""
        )
        return state
    for name in SINGLE_FIELDS:
        state.values[name] = _get_one(form, name)
    for name in MULTI_FIELDS:
        state.values[name] = [v for v in _get_all(form, name) if v.strip()]
    categories = _get_all(form, "category")
    counts = _get_all(form, "count")
    width = min(max(len(categories), len(counts)), MAX_ROWS)
    for i in range(width):
        cat = categories[i].strip() if i < len(categories) else ""
        count = counts[i].strip() if i < len(counts) else ""
        if cat or count:
            state.rows.append(CategoryRow(cat, count))
    return state


_COUNT = re.compile(r"[0-9]{1,15}")


def _put(doc: dict[str, Any], path: str, value: object) -> None:
    head, _, rest = path.partition(".")
    if rest:
        _put(doc.setdefault(head, {}), rest, value)
    else:
        doc[head] = value


def form_to_document(state: FormState) -> dict[str, Any]:
    """The transfer document the form describes; problems the form itself can see go to ``state``.

    Only what was given is written: an empty field is an *unknown* fact, never ``false``.
    """
    v = state.values
    doc: dict[str, Any] = {"id": f"web-{secrets.token_hex(6)}", "exporter": {}, "importer": {}}
    for name in SINGLE_FIELDS:
        raw = str(v.get(name) or "")
        if not raw:
            continue
        if name in _BOOL_FIELDS:
            if raw not in ("true", "false"):
                state.add_error(name, "Choose yes, no or unknown.")
                continue
            _put(doc, name, raw == "true")
        elif name == "date":
            try:
                date.fromisoformat(raw)
            except ValueError:
                state.add_error("date", "Enter a date as YYYY-MM-DD.")
                continue
            _put(doc, name, raw)
        else:
            _put(doc, name, raw)
    for name in MULTI_FIELDS:
        if v.get(name):
            _put(doc, name, list(v[name]))
    if not v.get("exporter.country"):
        state.add_error("exporter.country", "Choose the exporter's country.")
    if not v.get("importer.country"):
        state.add_error("importer.country", "Choose the importer's country.")
    categories: list[str] = []
    subjects: dict[str, int] = {}
    for i, row in enumerate(state.rows):
        if not row.category:
            state.add_error(f"category-{i}", f"Row {i + 1}: choose a category for this count.")
            continue
        if row.category in categories:
            state.add_error(f"category-{i}", f"Row {i + 1}: {row.category} is listed twice.")
            continue
        categories.append(row.category)
        if row.count:
            if not _COUNT.fullmatch(row.count):
                state.add_error(
                    f"count-{i}", f"Row {i + 1}: the number of persons must be a whole number ≥ 0."
                )
                continue
            subjects[row.category] = int(row.count)
    if not state.rows:
        state.add_error("category-0", "Add at least one category of data.")
    data = doc.setdefault("data", {})
    data["categories"] = categories
    if subjects:
        data["subjects"] = subjects
    return doc


_INDEXED = re.compile(r"^(?P<base>[A-Za-z_.]+?)(?:\[(?P<i>\d+)\]|\.(?P<j>\d+))(?:\..*)?$")


def field_for_path(path: str | None, state: FormState) -> str | None:
    """The form field a diagnostic's field path points at, or ``None`` for the whole form."""
    if state.mode == "document":
        return "document"
    if not path:
        return None
    path = path.strip()
    if path in SINGLE_FIELDS or path in MULTI_FIELDS:
        return path
    if path.startswith("data.subjects."):
        category = path[len("data.subjects.") :]
        for i, row in enumerate(state.rows):
            if row.category == category:
                return f"count-{i}"
        return None
    match = _INDEXED.match(path)
    if match:
        base = match.group("base")
        index = int(match.group("i") or match.group("j"))
        if base == "data.categories":
            return f"category-{index}"
        if base in MULTI_FIELDS:
            return base
    for name in (*SINGLE_FIELDS, *MULTI_FIELDS):
        if path.startswith(name + ".") or path.startswith(name + "["):
            return name
    if path in {"data", "data.categories"}:
        return "category-0"
    return None


def diagnostic_text(diag: Diagnostic, *, with_location: bool) -> str:
    """A diagnostic as one friendly sentence, with what was expected and found and the hint."""
    text = diag.message[:1].upper() + diag.message[1:] if diag.message else "Invalid value"
    if with_location:
        where = ":".join(str(x) for x in (diag.line, diag.column) if x is not None)
        if where:
            text = f"Line {where}: {text}"
        if diag.path:
            text = f"{text} ({diag.path})"
    extras = []
    if diag.expected is not None:
        extras.append(f"expected {diag.expected}")
    if diag.found is not None:
        extras.append(f"found {diag.found}")
    if extras:
        text = f"{text}: {'; '.join(extras)}"
    if diag.hint:
        text = f"{text}. {diag.hint[:1].upper() + diag.hint[1:]}"
    return text if text.endswith((".", "?", "!")) else text + "."


def apply_diagnostics(state: FormState, diagnostics: Iterable[Diagnostic], fallback: str) -> None:
    """Put each diagnostic next to its field (or in the summary when it names none)."""
    any_added = False
    for diag in diagnostics:
        name = field_for_path(diag.path, state)
        state.add_error(name, diagnostic_text(diag, with_location=state.mode == "document"))
        any_added = True
    if not any_added:
        state.add_error("document" if state.mode == "document" else None, fallback)


def options_from(terms: Iterable[str], label: Callable[[str], str]) -> list[tuple[str, str]]:
    """``(value, text)`` pairs for a select, sorted by text; ``label(term)`` gives the text.

    The text is the term's label; when two terms share a label the id is added in brackets so the
    choices stay distinguishable.
    """
    pairs = [(term, label(term) or term) for term in terms]
    seen: dict[str, int] = {}
    for _, text in pairs:
        seen[text] = seen.get(text, 0) + 1
    out = [
        (term, f"{text} ({term})" if seen[text] > 1 and text != term else text)
        for term, text in pairs
    ]
    return sorted(out, key=lambda p: p[1].lower())


# --------------------------------------------------------------------------------------------
# Routes

router = APIRouter(include_in_schema=False)
_templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
PAGE_SIZE = 25
_FACT_LABELS = {
    "importer.covered_person": "whether the importer is a covered person (28 CFR 202.211)",
    "transaction": "the kind of transaction",
    "occasional": "whether the transfer is occasional or systematic",
    "mechanisms": "the transfer mechanisms relied on",
    "safeguards": "the safeguards in place",
    "purposes": "the purposes of the transfer",
    "exporter.kind": "what kind of party the exporter is",
    "importer.kind": "what kind of party the importer is",
    "exporter.role": "the exporter's role (controller or processor)",
    "importer.role": "the importer's role (controller or processor)",
    "importer.certifications": "the importer's certifications",
    "data.government_related": "whether the data is government-related",
    "data.important_data": "whether the data is 'important data' (China)",
    "exporter.ciio": "whether the exporter is a critical information infrastructure operator",
    "exporter.public_powers": "whether the exporter is a public authority using public powers",
    "data.de_identified": "whether the data is de-identified",
    "data.subject_countries": "where the persons the data is about live",
    "data.categories": "the categories of data",
    "exemptions_claimed": "the exemptions the exporter relies on",
    "importer.adversary_controlled": "whether a foreign adversary controls the importer (PADFA)",
    "initial_collection": "whether the data is collected directly into the importer's database",
    "intra_group": "whether exporter and importer belong to the same group (exporter.group, "
    "importer.group)",
    "importer.subject_to": "the laws the importer is subject to",
    "date": "the day of the transfer",
}


def fact_label(fact: str) -> str:
    """A few words saying what a fact path means (``""`` when there is nothing to add)."""
    if fact in _FACT_LABELS:
        return _FACT_LABELS[fact]
    if fact.startswith("data.subjects."):
        return f"how many persons' {fact[len('data.subjects.') :]} data"
    spec = fact_spec(fact)
    return spec.description if spec is not None else ""


@lru_cache(maxsize=64)
def _static_version(name: str) -> str:
    target = STATIC_DIR / name
    try:
        return hashlib.sha256(target.read_bytes()).hexdigest()[:10]
    except OSError:
        return "0"


def static_url(name: str) -> str:
    """The URL of a static file, with a content hash so browsers may cache it for long."""
    return f"/static/{name}?v={_static_version(name)}"


_env = _templates.env
_env.globals.update(
    constraint_size=constraint_size,
    constraint_tree=constraint_tree,
    describe=describe,
    duration_label=duration_label,
    fact_label=fact_label,
    outcome_label=outcome_label,
    outcome_sentence=outcome_sentence,
    recognition_label=recognition_label,
    static_url=static_url,
    version=__version__,
)
_env.filters["field_id"] = field_id


@dataclass(frozen=True, slots=True)
class _Viewer:
    """What the header shows about the signed-in user."""

    email: str
    role: str
    org_name: str | None


def _viewer(service: Service, principal: Principal) -> _Viewer | None:
    if principal.is_anonymous or principal.role is None:
        return None
    org_name = None
    if principal.org_id is not None:
        try:
            orgs = service.list_orgs(principal)
        except AccordError:
            orgs = []
        org_name = next((o["name"] for o in orgs if o.get("id") == principal.org_id), None)
    return _Viewer(email=principal.email or "", role=principal.role.value, org_name=org_name)


def _principal(request: Request) -> Principal:
    """The signed-in user (pages authenticate by the session cookie only), or the public."""
    return session_principal(request) or ANONYMOUS


def _can_read_decisions(principal: Principal) -> bool:
    return principal.can(Capability.READ_ALL) or principal.can(Capability.READ_OWN)


def _render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    principal: Principal,
    active: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    service = get_service(request)
    nav = [
        ("home", "Overview", "/", True),
        ("check", "Check a transfer", "/check", principal.can(Capability.SUBMIT)),
        ("decisions", "Decisions", "/decisions", _can_read_decisions(principal)),
        ("packs", "Packs & agreements", "/packs", True),
        ("log", "Log", "/log", True),
    ]
    full = {
        "user": _viewer(service, principal),
        "csrf_token": csrf_token(request),
        "nav": nav,
        "active": active,
        "flash": None,
        **context,
    }
    response = _templates.TemplateResponse(request, template, full, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def _error_page(
    request: Request,
    principal: Principal,
    exc: AccordError | None,
    *,
    status_code: int,
    message: str | None = None,
) -> HTMLResponse:
    headings = {
        400: ("Something in the request is not right", "Check the address and try again."),
        403: ("Not allowed", "Your role does not allow this page or action."),
        404: ("Not found", "There is nothing here, or it belongs to another organisation."),
    }
    heading, default = headings.get(status_code, ("Something went wrong", "Try again later."))
    message = message or default
    if (
        exc is not None
        and status_code == 403
        and any(d.path == "csrf_token" for d in exc.diagnostics)
    ):
        heading = "This form has expired"
        message = (
            "For your safety the form could not be accepted. Reload the page and submit it again."
        )
    return _render(
        request,
        "pages/error.html",
        {"heading": heading, "message": message},
        principal=principal,
        status_code=status_code,
    )


def _status_for(exc: AccordError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, PermissionDeniedError):
        return 403
    if isinstance(exc, InputError):
        return 400
    return 500


def _safe_next(raw: str | None, default: str = "/") -> str:
    """Only same-site paths are followed after signing in (no open redirect)."""
    if raw and raw.startswith("/") and not raw.startswith("//") and "\\" not in raw:
        return raw
    return default


def _sign_in_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/sign-in?{urlencode({'next': target})}", status_code=303)


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


# ---- static files


@router.get("/static/{name:path}")
def static_file(name: str) -> Response:
    """The stylesheet and vendored scripts (cacheable: their URLs carry a content hash)."""
    target = (STATIC_DIR / name).resolve()
    if not target.is_relative_to(STATIC_DIR) or not target.is_file():
        return PlainTextResponse("not found", status_code=404)
    return FileResponse(target, headers={"Cache-Control": "public, max-age=604800"})


# ---- landing, sign in, sign out


@router.get("/", response_class=HTMLResponse)
def landing(request: Request) -> HTMLResponse:
    """The public start page with aggregate figures only."""
    principal = _principal(request)
    service = get_service(request)
    stats = service.stats()
    packs = stats.get("packs")
    pack_count = sum(packs.values()) if isinstance(packs, Mapping) else int(packs or 0)
    checkpoint = _checkpoint(service)
    figures = {
        "decisions": stats.get("decisions", 0),
        "by_outcome": stats.get("by_outcome", {}),
        "packs": pack_count,
        "log_size": stats.get("log_size", 0),
        "latest_checkpoint": checkpoint["text"] if checkpoint else None,
    }
    return _render(
        request,
        "pages/landing.html",
        {"stats": figures, "outcomes": OUTCOMES},
        principal=principal,
        active="home",
    )


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, next: str = "/") -> Response:
    """The sign-in form."""
    principal = _principal(request)
    if not principal.is_anonymous:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _render(
        request,
        "pages/sign_in.html",
        {"error": None, "email": "", "next_url": _safe_next(next)},
        principal=principal,
    )


# Form posts read the body asynchronously, then do their (blocking) work in the thread pool, as the
# plain ``def`` pages do: a password hash or a database write never stalls the event loop.


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in_submit(request: Request) -> Response:
    """Check the CSRF token and the password; start a session; go where the user was heading."""
    form = await request.form()
    return await run_in_threadpool(_sign_in, request, form)


def _sign_in(request: Request, form: Any) -> Response:
    email = str(form.get("email") or "").strip()
    password = str(form.get("password") or "")
    next_url = _safe_next(str(form.get("next") or "/"))
    try:
        check_csrf(request, _form_str(form, CSRF_FIELD))
    except PermissionDeniedError as exc:
        return _error_page(request, ANONYMOUS, exc, status_code=403)
    error = None
    if not email or not password:
        error = "Enter your email and your password."
    else:
        try:
            sign_in(request, email, password)
        except PermissionDeniedError:
            error = "That email and password do not match an active account."
    if error is not None:
        return _render(
            request,
            "pages/sign_in.html",
            {"error": error, "email": email, "next_url": next_url},
            principal=ANONYMOUS,
            status_code=401 if email and password else 422,
        )
    return RedirectResponse(next_url, status_code=303)


@router.post("/sign-out")
async def sign_out_submit(request: Request) -> Response:
    """End the session (CSRF-protected, so no other site can sign you out)."""
    form = await request.form()
    return await run_in_threadpool(_sign_out, request, form)


def _sign_out(request: Request, form: Any) -> Response:
    try:
        check_csrf(request, _form_str(form, CSRF_FIELD))
    except PermissionDeniedError as exc:
        return _error_page(request, _principal(request), exc, status_code=403)
    sign_out(request)
    return RedirectResponse("/", status_code=303)


def _form_str(form: Any, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


# ---- check a transfer


@lru_cache(maxsize=1)
def _options() -> dict[str, list[tuple[str, str]]]:
    """The choices of the form's selects, from the vocabulary (computed once)."""
    kinds = (
        "country",
        "party_kind",
        "role",
        "category",
        "transaction",
        "purpose",
        "mechanism",
        "safeguard",
        "exemption",
    )
    return {kind: options_from(VOCAB.terms(kind), VOCAB.label) for kind in kinds}


def _cannot_submit(request: Request, principal: Principal) -> HTMLResponse:
    role = principal.role.value if principal.role is not None else "public"
    return _error_page(
        request,
        principal,
        None,
        status_code=403,
        message=(
            "Checking a transfer records a decision for an organisation, so members of an "
            f"organisation (and admins) do it. As {role} you can read the decisions, the packs "
            "and the log."
        ),
    )


def _as_list(mapping: object, key: str) -> list[Any]:
    value = mapping.get(key) if isinstance(mapping, Mapping) else None
    return list(value) if isinstance(value, list | tuple) else []


def _check_context(
    request: Request,
    state: FormState,
    *,
    view: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    decision = view.get("decision") if view else None
    return {
        "mode": state.mode,
        "values": state.values,
        "errors": state.errors,
        "general_errors": state.summary,
        "category_rows": state.padded_rows(),
        "more_open": any(state.values.get(n) for n in MORE_FIELDS)
        or any(n in state.errors for n in MORE_FIELDS)
        or any(f in MORE_FIELDS for f in _as_list(decision, "missing")),
        "form_fields": frozenset(SINGLE_FIELDS) | frozenset(MULTI_FIELDS),
        "options": _options(),
        "decision": decision,
        "receipt": _receipt_view(view.get("receipt")) if view else None,
        "record_id": view.get("id") if view else None,
    }


@router.get("/check", response_class=HTMLResponse)
def check_page(request: Request, mode: str = "form") -> Response:
    """The check form (``?mode=document`` for the paste-YAML/JSON tab)."""
    principal = _principal(request)
    if principal.is_anonymous:
        return _sign_in_redirect(request)
    if not principal.can(Capability.SUBMIT):
        return _cannot_submit(request, principal)
    state = FormState(mode="document" if mode == "document" else "form")
    if state.mode == "form":
        state.values = {"date": date.today().isoformat()}
    return _render(
        request,
        "pages/check.html",
        _check_context(request, state),
        principal=principal,
        active="check",
    )


@router.post("/check", response_class=HTMLResponse)
async def check_submit(request: Request) -> Response:
    """Decide a transfer and record it; re-show the form with field-level messages on bad input."""
    form = await request.form()
    return await run_in_threadpool(_check, request, form)


def _check(request: Request, form: Any) -> Response:
    principal = _principal(request)
    try:
        check_csrf(request, _form_str(form, CSRF_FIELD))
    except PermissionDeniedError as exc:
        return _error_page(request, principal, exc, status_code=403)
    if principal.is_anonymous:
        return _sign_in_redirect(request)
    if not principal.can(Capability.SUBMIT):
        return _cannot_submit(request, principal)
    state = read_form(form)
    document = _document_from(state)
    view: dict[str, Any] | None = None
    if document is not None and not state.errors and not state.summary:
        try:
            view = record_document(
                request.app.state.recorder,
                get_service(request),
                principal,
                document,
                source=_SOURCE[state.mode],
            )
        except InputError as exc:
            apply_diagnostics(state, exc.diagnostics, exc.message)
        except PermissionDeniedError as exc:
            return _error_page(request, principal, exc, status_code=403)
    context = _check_context(request, state, view=view)
    failed = view is None
    if _is_htmx(request):
        # htmx swaps only 2xx answers: the messages are in the body, the status stays 200.
        return _render(request, "pages/_check_area.html", context, principal=principal)
    return _render(
        request,
        "pages/check.html",
        context,
        principal=principal,
        active="check",
        status_code=422 if failed else 200,
    )


_SOURCE = {"form": "form", "document": "pasted document"}


def _document_from(state: FormState) -> dict[str, Any] | None:
    """The document to decide: built from the form, or parsed (with line numbers) from the paste."""
    if state.mode == "form":
        return form_to_document(state)
    text = str(state.values.get("document", ""))
    if not text.strip():
        state.add_error("document", "Paste a transfer document in YAML or JSON.")
        return None
    try:
        transfers = Transfer.from_text(text, source="document")
    except InputError as exc:
        apply_diagnostics(state, exc.diagnostics, exc.message)
        return None
    if len(transfers) != 1:
        state.add_error(
            "document", f"Paste exactly one transfer document (found {len(transfers)})."
        )
        return None
    dumped: dict[str, Any] = transfers[0].model_dump(mode="json", exclude_none=True)
    return dumped


def _receipt_view(raw: object) -> dict[str, Any] | None:
    """The ledger receipt as the templates show it (tolerant of optional fields)."""
    if not isinstance(raw, Mapping):
        return None
    checkpoint = raw.get("checkpoint")
    if isinstance(checkpoint, Mapping):
        checkpoint = checkpoint.get("text") or checkpoint.get("note")
    return {
        "leaf_index": raw.get("leaf_index"),
        "leaf_hash": raw.get("leaf_hash"),
        "tree_size": raw.get("tree_size") or raw.get("log_size") or raw.get("size"),
        "checkpoint": checkpoint if isinstance(checkpoint, str) else None,
    }


# ---- decisions


@router.get("/decisions", response_class=HTMLResponse)
def decisions_page(
    request: Request, outcome: str = "", cursor: str = "", page: str = "1"
) -> Response:
    """The decisions the user may read, newest first, ``PAGE_SIZE`` a page."""
    principal = _principal(request)
    if principal.is_anonymous:
        return _sign_in_redirect(request)
    if not _can_read_decisions(principal):
        return _error_page(request, principal, None, status_code=403)
    chosen = outcome if outcome in OUTCOMES else ""
    at = int(cursor) if cursor.isdigit() else None
    number = int(page) if page.isdigit() and int(page) > 0 else 1
    service = get_service(request)
    items, next_cursor = service.list_decisions(
        principal, DecisionFilter(outcome=chosen or None), cursor=at, limit=PAGE_SIZE
    )
    rows = [
        {
            "id": item["id"],
            "created": _when(item.get("created_at")),
            "transfer_id": item.get("transfer_id"),
            "as_of": item.get("as_of"),
            "packs": item.get("packs") or [],
            "org": item.get("org"),
            "outcome": item.get("outcome"),
            "leaf_index": item.get("leaf_index"),
        }
        for item in items
    ]
    base = {"outcome": chosen} if chosen else {}
    next_url = (
        f"/decisions?{urlencode({**base, 'cursor': next_cursor, 'page': number + 1})}"
        if next_cursor is not None
        else None
    )
    first_url = f"/decisions?{urlencode(base)}" if base else "/decisions"
    return _render(
        request,
        "pages/decisions.html",
        {
            "rows": rows,
            "outcomes": OUTCOMES,
            "outcome": chosen,
            "page": number,
            "next_url": next_url,
            "first_url": first_url if number > 1 else None,
            "scope_all": principal.can(Capability.READ_ALL),
        },
        principal=principal,
        active="decisions",
    )


def _when(value: object) -> str:
    """An ISO timestamp shortened for tables: ``2026-11-28 17:20 UTC``."""
    text = str(value or "")
    if len(text) >= 16 and text[10] == "T":
        return f"{text[:10]} {text[11:16]} UTC"
    return text


@router.get("/decisions/{decision_id}", response_class=HTMLResponse)
def decision_page(request: Request, decision_id: str) -> Response:
    """One decision; another organisation's decision is simply not found (404)."""
    principal = _principal(request)
    if principal.is_anonymous:
        return _sign_in_redirect(request)
    try:
        view = get_service(request).get_decision(principal, decision_id)
    except AccordError as exc:
        return _error_page(request, principal, exc, status_code=_status_for(exc))
    transfer = view.get("transfer")
    return _render(
        request,
        "pages/decision.html",
        {
            "d": view.get("decision") or {},
            "receipt": _receipt_view(view.get("receipt")),
            "record_id": view.get("id"),
            "created": _when(view.get("created_at")),
            "org": view.get("org"),
            "transfer_text": yaml.safe_dump(transfer, sort_keys=False, allow_unicode=True)
            if isinstance(transfer, Mapping)
            else None,
        },
        principal=principal,
        active="decisions",
    )


# ---- packs and agreements


@dataclass(frozen=True, slots=True)
class _Stored:
    """A stored pack version, parsed."""

    pack: Pack
    status: str | None


_parsed_cache: dict[str, Pack] = {}


def _parse_stored(text: str, source: str) -> Pack:
    key = hashlib.sha256(text.encode("utf-8")).hexdigest()
    cached = _parsed_cache.get(key)
    if cached is None:
        cached = Pack.from_text(text, source=source, validate=False)
        if len(_parsed_cache) > 256:
            _parsed_cache.clear()
        _parsed_cache[key] = cached
    return cached


def _stored_pack(service: Service, pack_id: str, version: int | None = None) -> _Stored:
    view = service.get_pack(pack_id, version=version)
    pack = _parse_stored(str(view["text"]), f"{pack_id}@{view.get('current_version')}")
    return _Stored(pack=pack, status=view.get("status"))


@router.get("/packs", response_class=HTMLResponse)
def packs_page(request: Request) -> HTMLResponse:
    """Every stored pack and agreement, with its window and rule count (public)."""
    principal = _principal(request)
    service = get_service(request)
    summaries: list[dict[str, Any]] = []
    for item in service.list_packs():
        try:
            stored = _stored_pack(service, str(item["id"]))
        except AccordError:
            continue
        meta = stored.pack.meta
        summaries.append(
            {
                "id": meta.id,
                "title": meta.title,
                "kind": meta.kind.value,
                "jurisdiction": meta.jurisdiction,
                "parties": list(meta.parties),
                "version": meta.version,
                "effective_from": meta.effective_from,
                "sunset": meta.sunset,
                "rules": len(stored.pack.rules),
                "status": item.get("status"),
                "confidence": meta.confidence.value,
            }
        )
    sections = [
        ("Regulations", [s for s in summaries if s["kind"] != "agreement"]),
        ("Agreements", [s for s in summaries if s["kind"] == "agreement"]),
    ]
    return _render(
        request, "pages/packs.html", {"sections": sections}, principal=principal, active="packs"
    )


@router.get("/packs/{pack_id}", response_class=HTMLResponse)
def pack_page(request: Request, pack_id: str, version: str = "") -> Response:
    """One pack or agreement, rule by rule, with citations, windows and thresholds (public)."""
    principal = _principal(request)
    try:
        stored = _stored_pack(
            get_service(request), pack_id, int(version) if version.isdigit() else None
        )
    except AccordError as exc:
        return _error_page(request, principal, exc, status_code=_status_for(exc))
    return _render(
        request,
        "pages/pack.html",
        {"pack": stored.pack, "status": stored.status},
        principal=principal,
        active="packs",
    )


# ---- the log


def _checkpoint(service: Service) -> dict[str, Any] | None:
    """The latest signed checkpoint as ``{text, origin, size, root}``, or ``None``."""
    latest = service.ledger.reader.latest_checkpoint()  # a read: pages never sign on GET
    if latest is None:
        return None
    body = latest.checkpoint
    return {
        "text": latest.note,
        "origin": body.origin,
        "size": body.size,
        "root": base64.b64encode(body.root).decode("ascii"),
    }


@router.get("/log", response_class=HTMLResponse)
def log_page(request: Request) -> HTMLResponse:
    """The latest checkpoint, the verifier key and how to verify an entry offline (public)."""
    principal = _principal(request)
    service = get_service(request)
    checkpoint = _checkpoint(service)
    size = checkpoint["size"] if checkpoint else 0
    return _render(
        request,
        "pages/log.html",
        {
            "checkpoint": checkpoint,
            "verifier_key": service.ledger.verifier_key(),
            "example_index": size - 1 if size else None,
        },
        principal=principal,
        active="log",
    )
