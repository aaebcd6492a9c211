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
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import TESTS, Result, assert_no_crash, run, vol_env
from h5pyvol.paths import hdf5_prefix

CONNECTOR = "H5PyVOL"  # the default connector: the directory store
EXCEPTIONS_FILE = TESTS / "corpus_exceptions.txt"
TIMEOUT = 120

C_DIRS = ("H5D", "H5G", "H5T", "TUTR", "H5VDS")
# Examples in those directories (and PYTHON/) that are not run, with the reason.
# (C/H5FLT needs the third-party filter plugins, C/H5PAR MPI, C/Perf is a
# benchmark: those directories are not part of the corpus at all.)
EXCLUDED = {
    "H5D/h5ex_d_szip": "needs the szip filter; this HDF5 is built without szip (scripts/hdf5.sh)",
    "PYTHON/h5_visit": "opens GATMO-SATMS-npp.h5, a NASA data file not shipped with the examples",
    "PYTHON/h5_visita": "opens GATMO-SATMS-npp.h5, a NASA data file not shipped with the examples",
    "PYTHON/h5_compound": "fails natively: h5py has no HDF5 type for numpy's '<U6' strings",
    "PYTHON/h5_selecelem": "fails natively: Python 2 syntax (print statement)",
    "PYTHON/h5_links": "fails natively: opens an external file the examples do not ship",
    "TUTR/h5_elink_unix2win": "fails natively: needs a directory u2w/ made by HDF5's own test script",
    "TUTR/h5_interm_group": "does not compile against HDF5 1.14: uses the TRUE/FALSE macros HDF5 no longer defines",
    "TUTR/h5_ref2reg_deprec": "HDF5's deprecated reference API (H5Rcreate, H5Rget_name on hdset_reg_ref_t) is "
                              "refused by HDF5 for every non-native connector, and H5Rget_name then crashes "
                              "inside HDF5 1.14 (H5R__decode_heap on a NULL native file) before reaching the VOL",
    "TUTR/h5_ref_compat": "HDF5's deprecated H5Rcreate is refused for every non-native connector; the "
                          "program then aborts on its own assert",
}
# h5dump options other than the full dump, per program.
DUMP_ARGS = {
    # 40 never-written datasets of 10! elements of [10][9] arrays of [10][9]
    # ints per file: a full dump prints 29 billion fill values (natively for
    # over 40 minutes); headers only (natively 0.01 s)
    "TUTR/h5_shared_mesg": ["-H"],
}
# Programs that read a file an earlier one wrote: those run first, in the same
# directories (the order of TUTR/run-c-ex.sh and PYTHON/CMakeLists.txt).
NEEDS = {
    "TUTR/h5_rdwt": ["TUTR/h5_crtdat"],
    "TUTR/h5_crtatt": ["TUTR/h5_crtdat"],
    "TUTR/h5_crtgrpd": ["TUTR/h5_crtgrpar"],
    "TUTR/h5_read": ["TUTR/h5_write"],
    "TUTR/h5_chunk_read": ["TUTR/h5_extend_write"],
    "PYTHON/h5_hypeb": ["PYTHON/h5_hype"],
    "PYTHON/h5_readtofloat": ["PYTHON/h5_crtdat"],
}
# Native HDF5 files shipped with the examples that a program opens.
SHIPPED = {
    "H5G/h5ex_g_iterate": ["H5G/h5ex_g_iterate.h5"],
    "H5G/h5ex_g_traverse": ["H5G/h5ex_g_traverse.h5"],
    "H5G/h5ex_g_visit": ["H5G/h5ex_g_visit.h5"],
}
# The corpus, listed rather than globbed so that collection needs no download;
# test_corpus_covers_every_example checks it against the examples directory.
PROGRAMS = {
    "H5D": """alloc checksum chunk compact extern fillval gzip hyper nbit rdwr shuffle sofloat soint
              szip transform unlimadd unlimgzip unlimmod""",
    "H5G": "compact corder create intermediate iterate phase traverse visit",
    "H5T": """array arrayatt bit bitatt cmpd cmpdatt commit convert cpxcmpd cpxcmpdatt enum enumatt float
              floatatt int intatt objref objrefatt opaque opaqueatt regref regrefatt string stringatt
              vlen vlenatt vlstring vlstringatt""",
    "TUTR": """attribute chunk_read cmprss compound crtatt crtdat crtgrp crtgrpar crtgrpd debug_trace
               drivers dtransform elink_unix2win extend extend_write extlink group interm_group mount
               rdwt read ref2reg_deprec ref_compat ref_extern reference_deprec select shared_mesg subset
               write""",
    "H5VDS": """vds vds-eiger vds-exc vds-exclim vds-percival vds-percival-unlim
                vds-percival-unlim-maxmin vds-simpleIO""",
    "PYTHON": """compound crtdat gzip hype hypeb links objref readtofloat regref selecelem string unlim
                 visit visita vlstring""",
}
PREFIX = {"H5D": "h5ex_d_", "H5G": "h5ex_g_", "H5T": "h5ex_t_", "H5VDS": "h5ex_", "TUTR": "h5_", "PYTHON": "h5_"}
CORPUS = [f"{d}/{PREFIX[d]}{name}" for d, names in PROGRAMS.items() for name in names.split()]


def corpus_params():
    return [pytest.param(p, id=p, marks=[pytest.mark.skip(reason=EXCLUDED[p])] if p in EXCLUDED else [])
            for p in CORPUS]


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


# ---------------------------------------------------------------- running


def tool(name: str) -> str:
    return os.path.join(hdf5_prefix(), "bin", name)


def envs():
    return {"native": vol_env(None), "vol": vol_env(CONNECTOR)}


@dataclass
class Run:
    dirs: dict            # "native"/"vol" -> Path
    results: dict         # "native"/"vol" -> Result of the program itself
    written: list         # relative paths of the files in the native directory after the run
    hdf5: list            # those of them that are HDF5 files
    conversions: dict     # shipped file -> (native h5dump, h5dump of the converted copy)


def files_under(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()}


@pytest.fixture(scope="session")
def corpus(build_c, examples, tmp_path_factory):
    """corpus(program) -> Run: runs a program (and what it NEEDS) once per session."""
    base = tmp_path_factory.mktemp("corpus")
    done: dict[str, Run] = {}

    def command(program: str) -> list:
        if program.startswith("PYTHON/"):
            return [sys.executable, examples / f"{program}.py"]
        return [build_c(str(examples / "C" / f"{program}.c"))]

    def execute(program: str, dirs: dict) -> dict:
        cmd = command(program)
        results = {}
        for side, env in envs().items():
            results[side] = run(cmd, env, dirs[side], timeout=TIMEOUT)
            assert_no_crash(results[side])
        return results

    def get(program: str) -> Run:
        if program in done:
            return done[program]
        dirs = {side: base / program.replace("/", "-") / side for side in ("native", "vol")}
        for d in dirs.values():
            d.mkdir(parents=True)
        for earlier in NEEDS.get(program, []):
            results = execute(earlier, dirs)
            assert results["native"].returncode == 0, f"{earlier} (needed first) failed natively:\n" \
                                                      f"{results['native'].output}"
        conversions = {}
        for shipped in SHIPPED.get(program, []):
            source = examples / "C" / shipped
            name = source.name
            shutil.copy(source, dirs["native"] / name)
            # the connector reads no native file: convert it into the store
            # (--src-vol-value=0: the input file through the native connector)
            converted = run([tool("h5repack"), "--src-vol-value=0", source, name], envs()["vol"], dirs["vol"])
            assert converted.returncode == 0, f"converting {shipped} into the store failed:\n{converted.output}"
            conversions[name] = (run([tool("h5dump"), name], envs()["native"], dirs["native"]).stdout,
                                 run([tool("h5dump"), name], envs()["vol"], dirs["vol"]).stdout)
        results = execute(program, dirs)
        # every file there after the run: those it wrote and those it changed
        # (h5_crtatt adds an attribute to h5_crtdat's dset.h5)
        written = sorted(files_under(dirs["native"]))
        hdf5 = [f for f in written if is_hdf5(dirs["native"] / f)]
        done[program] = Run(dirs, results, written, hdf5, conversions)
        return done[program]

    return get


def is_hdf5(path: Path) -> bool:
    # the native superblock signature, at 0 or after a user block of 512 * 2^n bytes
    with open(path, "rb") as f:
        offset = 0
        while True:
            f.seek(offset)
            head = f.read(8)
            if head == b"\x89HDF\r\n\x1a\n":
                return True
            if len(head) < 8:
                return False
            offset = 512 if offset == 0 else offset * 2


def h5(name: str, args: list, cwd: Path, side: str) -> Result:
    result = run([tool(name), *args], envs()[side], cwd, timeout=TIMEOUT)
    assert_no_crash(result)
    return result


def shown(result: Result) -> str:
    """What a tool showed: its return code, stdout, and stderr (HDF5 tools
    print their own errors there; the HDF5 error stack is not compared,
    as the connector's stack names other functions)."""
    return f"exit {result.returncode}\n{result.stdout}"


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
