"""Runs a corpus of cases through tests/c/corpus_app.c in one process."""
from __future__ import annotations

import re


def outcomes(run_c, tmp_path, cases) -> list:
    """Each case's outcome ("ok" or "failed...: <error stack>") for cases of
    (info bytes, file name bytes, op); asserts the process got through
    them all and the file it wrote first reads back intact."""
    listing = tmp_path / "cases.txt"
    listing.write_text("".join(f"{info.hex() or '-'} {name.hex() or '-'} {op}\n" for info, name, op in cases))
    result = run_c("corpus_app.c", str(listing))
    assert result.returncode == 0, result.output[-5000:]
    found = dict(re.findall(r"^case (\d+) (.*)$", result.stdout, re.M))
    assert result.stdout.rstrip().endswith("keep intact"), result.output[-5000:]
    return [found.get(str(n), "(no outcome: the process stopped)") for n in range(len(cases))]
