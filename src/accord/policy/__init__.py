"""The policy engine: rule-pack language, transfer documents, validation and decisions.

Parse packs (:class:`Pack`), read transfer documents (:class:`Transfer`), check packs
(:func:`validate_pack`), and decide (:func:`decide`, or :func:`compile_packs` then
``engine.decide``).
"""

from accord.policy.ast import (
    Atomic,
    Confidence,
    Constraint,
    Duty,
    Group,
    Location,
    Logical,
    LogicalOp,
    Operator,
    Pack,
    PackDefault,
    PackKind,
    PackMeta,
    Rule,
    RuleKind,
    Threshold,
    ThresholdRef,
)
from accord.policy.compile import Engine, compile_packs
from accord.policy.decide import decide
from accord.policy.decision import (
    Decision,
    Effect,
    Obligation,
    Outcome,
    PackStatus,
    Reason,
    Recognition,
    RuleError,
)
from accord.policy.transfer import (
    Certification,
    DataDescription,
    Importer,
    Party,
    Transfer,
    load_transfers,
)
from accord.policy.validate import Report, validate_pack

__all__ = [
    "Atomic",
    "Certification",
    "Confidence",
    "Constraint",
    "DataDescription",
    "Decision",
    "Duty",
    "Effect",
    "Engine",
    "Group",
    "Importer",
    "Location",
    "Logical",
    "LogicalOp",
    "Obligation",
    "Operator",
    "Outcome",
    "Pack",
    "PackDefault",
    "PackKind",
    "PackMeta",
    "PackStatus",
    "Party",
    "Reason",
    "Recognition",
    "Report",
    "Rule",
    "RuleError",
    "RuleKind",
    "Threshold",
    "ThresholdRef",
    "Transfer",
    "compile_packs",
    "decide",
    "load_transfers",
    "validate_pack",
]
