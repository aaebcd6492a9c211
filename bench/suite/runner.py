"""Runs contenders (contenders.py jobs) repeatedly and keeps the median."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from common import Figure, median, run_json

CONTENDERS = Path(__file__).with_name("contenders.py")


def job(spec: dict, env: dict, cwd: Path | None = None) -> dict:
    return run_json([sys.executable, CONTENDERS, json.dumps(spec)], env, cwd)


def repeated(spec: dict, env: dict, reps: int, before=None, cwd: Path | None = None) -> dict:
    """Median of each number over ``reps`` runs; ``before()`` clears the target first."""
    runs = []
    for _ in range(reps):
        if before is not None:
            before()
        runs.append(job(spec, env, cwd))
    return {key: median([r[key] for r in runs if r.get(key) is not None])
            for key in runs[0] if any(r.get(key) is not None for r in runs)}


def figures(workload: str, case: str, results: dict, key: str, unit: str, higher_is_better: bool,
            peer: str) -> list[Figure]:
    """One figure per contender of ``results`` ({contender: medians}) for ``key``."""
    return [Figure(workload, case, name, r[key], unit, higher_is_better,
                   peer=None if name == peer else peer, rss_mib=r.get("rss_mib"))
            for name, r in results.items() if key in r]
