"""The sequencer: one process that decides and records every API decision.

``accord serve`` starts it next to the web workers. A web worker authenticates the caller, checks
that they may submit, and forwards the raw request body with the caller's identity over a Unix
socket (:mod:`accord.sequencer.wire`); the sequencer validates, decides, appends to the log in
group-committed transactions, signs checkpoints and renders the answer
(:func:`accord.web.recording.answer`), which the worker returns as it is. The log keeps one
sequencer whatever the number of web workers, and the recording work runs on its own core, off the
event loop that serves HTTP.

:mod:`accord.sequencer.server` is the process, :mod:`accord.sequencer.client` the workers' side
(:class:`~accord.sequencer.client.RemoteRecorder`), :mod:`accord.sequencer.process` starts and
supervises it for ``accord serve``.
"""
