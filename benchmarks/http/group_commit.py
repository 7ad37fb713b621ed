"""A PROTOTYPE of group commit for recorded decisions — benchmark code, not product code.

It measures what the fix proposed in ``README.md`` would buy, so the service's owner can decide
with numbers. ``GroupCommitService.decide`` does what ``accord.service.Service.decide`` does, with
two changes: the evaluation runs in the request's thread, and the durable write is handed to a
single writer thread that writes every decision waiting at that moment in **one** transaction
(one ledger ``append_in`` for the batch, one fsync) and signs **one** checkpoint for the batch;
and the compiled engine is looked up at most once a second instead of on every request.
Each request still returns only after its decision is committed, so an acknowledged decision is
as durable as before.

It reaches into the service's private helpers on purpose; if the real fix lands in
``accord/service.py`` this file should be deleted.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import rfc8785

from accord.ledger.entries import Entry
from accord.policy import Transfer
from accord.service import (
    ENTRY_SCHEMA,
    Capability,
    Principal,
    Service,
    _decision_view,
    _packs_applied,
)
from accord.settings import Settings
from accord.storage.models import DecisionPack, DecisionRecord, Org, TransferRecord, new_id

MAX_BATCH = 256


@dataclass
class _Pending:
    principal: Principal
    transfer_json: dict[str, Any]
    decision_id: str
    decision: dict[str, Any]
    digest: str
    outcome: str
    as_of: date
    packs: list[str]
    entry: dict[str, Any]
    done: Future[tuple[int, dict[str, Any]]] = field(default_factory=Future)


class GroupCommitService(Service):
    """``Service`` whose decisions are written by one writer thread, in batches."""

    def __init__(self, settings: Settings, *, migrate: bool = True) -> None:
        super().__init__(settings, migrate=migrate)
        self._pending: queue.Queue[_Pending] = queue.Queue()
        self._writer = threading.Thread(target=self._write_loop, name="group-commit", daemon=True)
        self._writer.start()
        self.batches = 0
        self.written = 0
        self._engine_checked: tuple[float, Any] | None = None

    def _engine_for_active_packs(self) -> Any:
        """The compiled engine, looked up at most once a second (the product asks every time).

        A real fix would key the cache on a pack generation number bumped in the transaction that
        changes a pack, so a change is seen at once; a second's delay is fine for a benchmark.
        """
        now = time.monotonic()
        if self._engine_checked is None or now - self._engine_checked[0] > 1.0:
            self._engine_checked = (now, super()._engine_for_active_packs())
        return self._engine_checked[1]

    def decide(
        self,
        principal: Principal,
        document: Mapping[str, Any],
        *,
        as_of: date | None = None,
        source: str | None = None,
    ) -> dict[str, Any]:
        principal.require(Capability.SUBMIT)
        transfer = Transfer.from_mapping(dict(document), source=source)
        decision = self._engine_for_active_packs().decide(transfer, as_of=as_of)
        decision_dict: dict[str, Any] = decision.to_dict()
        transfer_json: dict[str, Any] = transfer.model_dump(mode="json", exclude_none=True)
        decision_id = new_id()
        digest = hashlib.sha256(
            rfc8785.dumps({"id": decision_id, "transfer": transfer_json, "decision": decision_dict})
        ).hexdigest()
        outcome = str(decision_dict["outcome"])
        as_of_value = date.fromisoformat(str(decision_dict["as_of"]))
        packs = _packs_applied(decision_dict)
        entry = {
            "schema": ENTRY_SCHEMA,
            "type": "decision",
            "body": {
                "decision": decision_id,
                "digest": digest,
                "outcome": outcome,
                "as_of": as_of_value.isoformat(),
                "packs": packs,
            },
        }
        pending = _Pending(
            principal, transfer_json, decision_id, decision_dict, digest, outcome, as_of_value,
            packs, entry,
        )  # fmt: skip
        self._pending.put(pending)
        leaf_index, view = pending.done.result()
        view["receipt"] = self.ledger.receipt(leaf_index)
        return view

    def _write_loop(self) -> None:
        while True:
            batch = [self._pending.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._pending.get_nowait())
                except queue.Empty:
                    break
            try:
                results = self._write(batch)
            except BaseException as exc:  # every waiting request gets the failure
                for item in batch:
                    item.done.set_exception(exc)
            else:
                for item, result in zip(batch, results, strict=True):
                    item.done.set_result(result)

    def _write(self, batch: list[_Pending]) -> list[tuple[int, dict[str, Any]]]:
        with self.db.write_lock:
            with self.db.write() as session:
                transfers = [
                    TransferRecord(
                        id=new_id(),
                        external_id=item.transfer_json.get("id"),
                        org_id=item.principal.org_id,
                        submitted_by=item.principal.user_id,
                        document=item.transfer_json,
                    )
                    for item in batch
                ]
                session.add_all(transfers)
                session.flush()
                indices = self.ledger.writer.append_in(
                    session.connection(), [Entry.from_mapping(item.entry) for item in batch]
                )
                records = [
                    DecisionRecord(
                        id=item.decision_id,
                        transfer_id=row.id,
                        org_id=item.principal.org_id,
                        outcome=item.outcome,
                        as_of=item.as_of,
                        decision=item.decision,
                        digest=item.digest,
                        leaf_index=leaf,
                    )
                    for item, row, leaf in zip(batch, transfers, indices, strict=True)
                ]
                session.add_all(records)
                session.flush()
                session.add_all(
                    DecisionPack(decision_id=item.decision_id, pack_id=p)
                    for item in batch
                    for p in item.packs
                )
                names = {
                    org.id: org.name
                    for org in session.query(Org).filter(
                        Org.id.in_({i.principal.org_id for i in batch} - {None})
                    )
                }
                views = [
                    _decision_view(record, row, org_name=names.get(record.org_id), full=True)
                    for record, row in zip(records, transfers, strict=True)
                ]
            self.ledger.sign()
        self.batches += 1
        self.written += len(batch)
        return list(zip(indices, views, strict=True))
