"""Run every benchmark: ``python -m bench [name …]``."""

from __future__ import annotations

import sys

from bench import batch, drift, registry, serving

BENCHMARKS = {
    "registry": registry.main,
    "batch": batch.main,
    "serving": serving.main,
    "drift": drift.main,
}


def main() -> None:
    names = sys.argv[1:] or list(BENCHMARKS)
    for name in names:
        if name not in BENCHMARKS:
            sys.exit(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
        BENCHMARKS[name]()


if __name__ == "__main__":
    main()
