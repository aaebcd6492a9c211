"""The run's figures as a table on stdout, bench/results.json and a chart
bench/results.png (one panel per workload, ratio to its peer)."""
from __future__ import annotations

import json
import platform
import time
from pathlib import Path

from common import Figure


def ratio(figure: Figure, figures: list[Figure]) -> float | None:
    """How many times better than its peer (>1: better), whichever way the unit points."""
    if figure.peer is None:
        return 1.0
    peer = next((f for f in figures if f.workload == figure.workload and f.case == figure.case
                 and f.contender == figure.peer), None)
    if peer is None or not peer.value or not figure.value:
        return None
    return figure.value / peer.value if figure.higher_is_better else peer.value / figure.value


def table(figures: list[Figure]) -> str:
    lines, last = [], None
    for f in figures:
        if (f.workload, f.case) != last:
            last = (f.workload, f.case)
            lines.append(f"\n{f.workload}: {f.case}  ({'higher' if f.higher_is_better else 'lower'} is better;"
                         f" ratio > 1: better than the peer)")
        r = ratio(f, figures)
        rss = f"{f.rss_mib:7.0f} MiB" if f.rss_mib else ""
        peer = "(peer)" if f.peer is None else (f"{r:6.2f}x vs {f.peer}" if r is not None else f"   n/a vs {f.peer}")
        lines.append(f"  {f.contender:<38} {f.value:12.3f} {f.unit:<8} {peer:<40} {rss}")
    return "\n".join(lines)


def write_json(figures: list[Figure], path: Path, quick: bool, seconds: float) -> None:
    path.write_text(json.dumps({
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "quick": quick, "seconds": round(seconds, 1),
        "machine": {"cpus": __import__("os").cpu_count(), "platform": platform.platform()},
        "figures": [dict(f.to_json(), ratio=ratio(f, figures)) for f in figures]}, indent=1) + "\n")


def chart(figures: list[Figure], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    workloads = list(dict.fromkeys(f.workload for f in figures))
    if not workloads:
        return
    fig, axes = plt.subplots(len(workloads), 1, figsize=(11, 3.2 * len(workloads)), squeeze=False)
    for ax, workload in zip(axes[:, 0], workloads):
        rows = [f for f in figures if f.workload == workload and f.peer is not None and ratio(f, figures)]
        labels = [f"{f.case} | {f.contender}" for f in rows]
        values = [ratio(f, figures) for f in rows]
        ax.barh(range(len(rows)), values, color=["tab:green" if v >= 1 else "tab:red" for v in values])
        ax.set_yticks(range(len(rows)), labels, fontsize=6)
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.set_xscale("log")
        ax.invert_yaxis()
        ax.set_title(f"{workload}: times better than the peer (log; >1 better)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
