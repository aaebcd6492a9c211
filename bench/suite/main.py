"""bench/run's driver: every workload of issue 14 in one run.

    bench/run [--quick] [--only bridge,bulk,partial,objstores,metadata,startup]

--quick: small sizes and only the workloads that need no peer server of
their own (bridge, bulk, partial, startup): about a minute."""
from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from pathlib import Path

from common import ROOT, make_context
from report import chart, table, write_json

WORKLOADS = ["bridge", "bulk", "partial", "objstores", "metadata", "startup"]
QUICK = ["bridge", "bulk", "partial", "startup"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 repetitions: about a minute")
    parser.add_argument("--only", help=f"comma-separated workloads (default: all; with --quick {','.join(QUICK)})")
    parser.add_argument("--out", type=Path, default=ROOT / "bench", help="where results.json and results.png go")
    args = parser.parse_args()
    ctx = make_context(args.quick)
    begin, figures, failed = time.monotonic(), [], []
    try:
        for name in (args.only.split(",") if args.only else QUICK if args.quick else WORKLOADS):
            print(f"[bench] {name} ...", file=sys.stderr, flush=True)
            started = time.monotonic()
            try:
                figures += importlib.import_module(name).run(ctx)
            except Exception:  # one broken contender must not hide the others' figures
                failed.append(name)
                print(f"[bench] {name} FAILED:\n{traceback.format_exc()}", file=sys.stderr)
            print(f"[bench] {name} took {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    finally:
        ctx.close()
    seconds = time.monotonic() - begin
    print(table(figures))
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(figures, args.out / "results.json", args.quick, seconds)
    chart(figures, args.out / "results.png")
    print(f"\n{len(figures)} figures in {seconds:.0f} s; {args.out / 'results.json'}, {args.out / 'results.png'}")
    if failed:
        print(f"FAILED workloads: {', '.join(failed)} (see above)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
