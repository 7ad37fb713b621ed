"""``python -m accord.sequencer --socket PATH``: see :mod:`accord.sequencer.server`."""

from accord.sequencer.server import main

raise SystemExit(main())
