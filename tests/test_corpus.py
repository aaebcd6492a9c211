"""A corpus of real programs nobody here wrote (issue 11): HDF5's own
examples (C/H5D, C/H5G, C/H5T, C/TUTR, C/H5VDS and the h5py scripts of
PYTHON/, from Debian's hdf5 source package, fetched into the cache by
scripts/hdf5_examples.sh), each run natively and through the default
connector (the directory store) in the same test, outputs compared.

test_program[<dir>/<program>]
    runs the program in directory ``native`` with HDF5_VOL_CONNECTOR unset
    and in directory ``vol`` with HDF5_VOL_CONNECTOR=H5PyVOL, same relative
    file names; compares return code and stdout, then, for every file the
    native run wrote, ``h5dump`` and ``h5ls -r`` (natively in ``native``,
    through the connector in ``vol``).  A file the native run wrote that is
    not HDF5 (an external raw data file) must be byte-identical in ``vol``.
test_tools[<dir>/<program>]
    ``h5copy -i <file> -o copy.h5 -s /<first object> -d /<first object>``
    and ``h5repack <file> repack.h5`` on the first HDF5 file the program
    wrote, then ``h5dump`` of the results, through the connector against
    natively.

Programs that read what an earlier one wrote (as the examples' own scripts
order them) run after it in the same directories (NEEDS).  H5G's iterate,
traverse and visit read native files shipped with the examples: natively
they get a copy; the connector cannot open a native file from a C program,
so the vol run gets it converted by ``h5repack --src-vol-value=0`` run
through the connector (input read by the native connector, id 0; output
written by the default one), and the conversion itself is checked with
h5dump against the shipped file.

Nothing is normalized.  A check that differs from native HDF5 for a reason
that cannot apply to a non-native connector is listed in
corpus_exceptions.txt with the reason; any other difference fails, and a
listed check that matches again fails too, so the list only shrinks.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import TESTS
from corpus_runs import C_DIRS, CORPUS, DUMP_ARGS, NEEDS, corpus_params, h5, shown

EXCEPTIONS_FILE = TESTS / "corpus_exceptions.txt"

# ---------------------------------------------------------------- exceptions

CHECKS = ("run", "h5dump", "h5ls", "files", "h5copy", "h5repack")


def load_exceptions(path: Path = EXCEPTIONS_FILE) -> dict[tuple[str, str], str]:
    """Lines ``<dir>/<program>  <check>  -- <reason>``; # comments.  <check>
    is one of CHECKS: run (return code and stdout), h5dump, h5ls, files (the
    set of files written and non-HDF5 files' bytes), h5copy, h5repack."""
    entries = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.rstrip()
        if not line or line.lstrip().startswith("#"):
            continue
        match = re.fullmatch(r"(\S+)\s+(\S+)\s+--\s+(.+)", line)
        if not match or match[2] not in CHECKS:
            raise ValueError(f"{path.name}:{number}: expected '<program> <{'|'.join(CHECKS)}> -- <reason>': {line!r}")
        entries[match[1], match[2]] = match[3]
    return entries


@dataclass
class Comparison:
    """Collects every check of one test; judged once at the end."""
    program: str
    mismatches: dict = field(default_factory=dict)  # check -> [diff text]
    matched: set = field(default_factory=set)

    def same(self, check: str, what: str, native: str, ours: str):
        if native == ours:
            self.matched.add(check)
            return
        diff = list(difflib.unified_diff(native.splitlines(), ours.splitlines(),
                                         f"native {what}", f"H5PyVOL {what}", lineterm="", n=1))
        if len(diff) > 40:
            diff = diff[:40] + [f"... ({len(diff) - 40} more diff lines)"]
        self.mismatches.setdefault(check, []).append("\n".join(diff))

    def judge(self, exceptions: dict):
        problems = []
        for check, diffs in self.mismatches.items():
            if (self.program, check) not in exceptions:
                problems.append(f"--- {check} differs from native HDF5:\n" + "\n".join(diffs))
        for (program, check), reason in exceptions.items():
            if program == self.program and check in self.matched and check not in self.mismatches:
                problems.append(f"--- {check} matches native HDF5 now: remove it from "
                                f"{EXCEPTIONS_FILE.name} ({reason})")
        if problems:
            pytest.fail(f"{self.program}:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture(scope="module")
def exceptions():
    return load_exceptions()


# ---------------------------------------------------------------- tests


def test_exceptions_file_is_well_formed(exceptions):
    unknown = sorted({program for program, _ in exceptions} - set(CORPUS))
    assert not unknown, f"{EXCEPTIONS_FILE.name} lists programs not in the corpus: {unknown}"


def test_corpus_covers_every_example(examples):
    """Every example in the corpus directories is run or excluded with a reason."""
    found = {f"{d}/{p.stem}" for d in C_DIRS for p in (examples / "C" / d).glob("*.c")}
    found |= {f"PYTHON/{p.stem}" for p in (examples / "PYTHON").glob("*.py")}
    assert found == set(CORPUS), (f"not in the corpus: {sorted(found - set(CORPUS))}; "
                                  f"no longer in the examples: {sorted(set(CORPUS) - found)}")
    for needed in NEEDS.values():
        assert set(needed) <= set(CORPUS)


@pytest.mark.parametrize("program", corpus_params())
def test_program(corpus, exceptions, program):
    ran = corpus(program)
    native, ours = ran.results["native"], ran.results["vol"]
    assert native.returncode == 0, f"{program} fails natively:\n{native.output}"
    check = Comparison(program)

    for name, (dump_native, dump_converted) in ran.conversions.items():
        # not a check of the program: the conversion must be faithful, or nothing after it means anything
        assert dump_converted == dump_native, f"h5repack --src-vol-value=0 did not convert {name} faithfully"

    check.same("run", "return code and stdout", f"exit {native.returncode}\n{native.stdout}",
               f"exit {ours.returncode}\n{ours.stdout}" + (f"\n[stderr]\n{ours.stderr}" if ours.returncode else ""))

    written_ours = {f for f in ran.written if (ran.dirs["vol"] / f).exists()}
    check.same("files", "files written", "\n".join(ran.written), "\n".join(sorted(written_ours)))
    for f in ran.written:
        if f in ran.hdf5 or f not in written_ours:
            continue
        a, b = ran.dirs["native"] / f, ran.dirs["vol"] / f
        same = b.is_file() and a.read_bytes() == b.read_bytes()
        check.same("files", f"bytes of {f}", "identical", "identical" if same else "different")

    for f in ran.hdf5:
        for name, args in (("h5dump", [*DUMP_ARGS.get(program, []), f]), ("h5ls", ["-r", f])):
            check.same(name, f"{name} {' '.join(args)}",
                       shown(h5(name, args, ran.dirs["native"], "native")),
                       shown(h5(name, args, ran.dirs["vol"], "vol")))
    check.judge(exceptions)


def first_object(ls_output: str) -> str | None:
    """The first name `h5ls` lists in the root group (names sorted)."""
    for line in ls_output.splitlines():
        # h5ls escapes spaces in names with a backslash
        match = re.match(r"((?:\\.|\S)+)\s+(Group|Dataset|Type|External Link|Soft Link)\b", line)
        if match and match[2] in ("Group", "Dataset", "Type"):
            return re.sub(r"\\(.)", r"\1", match[1])
    return None


@pytest.mark.parametrize("program", corpus_params())
def test_tools(corpus, exceptions, program, tmp_path):
    ran = corpus(program)
    if not ran.hdf5:
        pytest.skip(f"{program} leaves no HDF5 file behind")
    source = ran.hdf5[0]
    listing = h5("h5ls", [source], ran.dirs["native"], "native")
    name = first_object(listing.stdout)
    if name is None:
        pytest.skip(f"the root group of {source} holds links only: nothing for h5copy to copy")
    check = Comparison(program)
    for side in ("native", "vol"):
        (tmp_path / side).mkdir()
    outputs = {}
    for side in ("native", "vol"):
        cwd, src = tmp_path / side, ran.dirs[side] / source
        outputs[side] = {
            "h5copy": h5("h5copy", ["-i", src, "-o", "copy.h5", "-s", f"/{name}", "-d", f"/{name}"], cwd, side),
            "h5repack": h5("h5repack", [src, "repack.h5"], cwd, side),
        }
    for check_name, out_file in (("h5copy", "copy.h5"), ("h5repack", "repack.h5")):
        native, ours = outputs["native"][check_name], outputs["vol"][check_name]
        # a tool that fails natively must fail the same way (h5repack refuses object references)
        check.same(check_name, check_name, shown(native), shown(ours) + (ours.stderr if ours.returncode else ""))
        if ours.returncode == 0 and native.returncode == 0:
            check.same(check_name, f"h5dump {out_file}",
                       shown(h5("h5dump", [*DUMP_ARGS.get(program, []), out_file], tmp_path / "native", "native")),
                       shown(h5("h5dump", [*DUMP_ARGS.get(program, []), out_file], tmp_path / "vol", "vol")))
    check.judge(exceptions)
