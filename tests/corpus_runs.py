"""Running the corpus of programs nobody here wrote (see test_corpus.py):
each program natively and through the default connector, once per session.

The ``corpus`` fixture lives here so that several test modules share one
run of each program (conftest.py makes it a session fixture of the suite).
"""
from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import Result, assert_no_crash, run, vol_env
from h5pyvol.files import has_hdf5_signature
from h5pyvol.paths import hdf5_prefix

CONNECTOR = "H5PyVOL"  # the default connector: the directory store
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
    return has_hdf5_signature(str(path))


def h5(name: str, args: list, cwd: Path, side: str) -> Result:
    result = run([tool(name), *args], envs()[side], cwd, timeout=TIMEOUT)
    assert_no_crash(result)
    return result


def shown(result: Result) -> str:
    """What a tool showed: its return code, stdout, and stderr (HDF5 tools
    print their own errors there; the HDF5 error stack is not compared,
    as the connector's stack names other functions)."""
    return f"exit {result.returncode}\n{result.stdout}"
