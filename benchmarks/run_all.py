"""Run every benchmark under benchmarks/ in turn (``make bench``).

Each benchmark is a directory with a ``run.py``; extra arguments (e.g. ``--quick``) are passed on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    failed: list[str] = []
    for script in sorted(HERE.glob("*/run.py")):
        name = script.parent.name
        print(f"\n=== benchmarks/{name} ===", flush=True)
        result = subprocess.run([sys.executable, str(script), *argv], check=False)
        if result.returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
