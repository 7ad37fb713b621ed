"""A stand-in for the sequencer that answers every ``record`` request at once, for the HTTP
benchmark only (``run.py --stub-sequencer``).

It speaks the real wire format (:mod:`accord.sequencer.wire`) and answers each request with a
``201`` whose body is as large as a real answer with its receipt, without writing anything. With
it, the benchmark measures what the web worker alone costs per decision (authentication,
validation, deciding, canonical JSON, the round trip to the sequencer, the HTTP answer), apart
from what the real sequencer's writing costs and how it competes for the machine's cores.

    python stub_sequencer.py SOCKET_PATH
"""

from __future__ import annotations

import asyncio
import sys

from accord.sequencer.wire import FrameProtocol, frame

#: About the size of a real answer (decision, transfer, receipt).
BODY = b'{"stub":"' + b"x" * 5000 + b'"}'
HEADER = b'{"status":201,"outcome":"permit"}'


class _Stub(FrameProtocol):
    def data_received(self, data: bytes) -> None:
        answers = [frame(ident, HEADER, BODY) for ident, _h, _b in self.reader.feed(data)]
        if answers and self.transport is not None:
            self.transport.write(b"".join(answers))


async def _serve(path: str) -> None:
    server = await asyncio.get_running_loop().create_unix_server(_Stub, path=path)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1]))
