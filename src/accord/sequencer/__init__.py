"""The sequencer: one process that records every API decision, in one sequence.

``accord serve`` starts it next to the web workers. A web worker authenticates the caller, checks
that they may submit, validates the body and decides the transfer (so refusals cost no round trip,
and that work scales with the number of workers), then sends the decision — its ids, digest and
the canonical bytes of the transfer, the decision and the log entry — over a Unix socket
(:mod:`accord.sequencer.wire`). The sequencer writes what it receives in group commits
(transfer, log entry and decision rows, a signed checkpoint, one transaction), and once a batch
committed answers each request with the rendered HTTP answer and its receipt, which the worker
returns as it is. The log keeps one sequencer whatever the number of web workers, and writing
runs on its own core, off the event loops that serve HTTP.

:mod:`accord.sequencer.server` is the process, :mod:`accord.sequencer.client` the workers' side
(:class:`~accord.sequencer.client.RemoteRecorder`), :mod:`accord.sequencer.process` starts and
supervises it for ``accord serve``.
"""
