"""Bad configuration and bad file names, as a C program meets them: every
case is a clear HDF5 error naming the problem (or, where the input is
odd but valid, a file where the name says), the process survives all of
them in a row, and a file written before them reads back intact.

One C process runs the whole corpus (tests/c/corpus_app.c selects the
connector per file with H5Pset_vol, as HDF5_VOL_CONNECTOR does); a few
cases also go through HDF5_VOL_CONNECTOR itself and through h5py.
"""
from __future__ import annotations

import os

import pytest

import corpus

OK = "ok"
STORE_KEYS = ("compression", "workers", "chunk_cache", "fsync", "root", "lock")


def _typos(key: str) -> list:
    return [key[:-1], key + "s", key[0] + key[2:], key.upper(), key.replace("_", "")]


def info_cases() -> list:
    """(info string as bytes, expected: OK or a substring of the error)."""
    cases = []
    for key in STORE_KEYS:
        for typo in dict.fromkeys(_typos(key)):
            if typo != key:
                cases.append((f"{typo}=1".encode(), f"unknown H5PyVOL connector setting '{typo}'"))
    cases += [(b"compresion=zstd", "(did you mean 'compression'?)"),
              # the store's keys and its backends' (S3, RADOS: both installed by scripts/setup.sh)
              (b"compresion=zstd", "valid keys: access_key, aio, call_timeout, ceph_conf, chunk_cache, class, "
                                   "client, compression, connector, endpoint, fsync, lock, module, omap, op_timeout, "
                                   "region, root, secret_key, session_token, workers"),
              (b"foo=1", "unknown H5PyVOL connector setting 'foo'"),
              (b"bucket=data", "unknown H5PyVOL connector setting 'bucket'"),
              (b"endpoint_url=http://x", "(did you mean 'endpoint'?)"),
              (b"compression=zstd bogus=2", "'bogus'"),
              (" ".join(f"k{i}=v" for i in range(1000)).encode(), "'k0'")]
    # bad values: the connector would otherwise compress differently or not at all
    for value, why in [("zstd:999", "from -131072 to 22"), ("zstd:abc", "whole number"), ("zstd:1.5", "whole number"),
                       ("gzip:10", "from 0 to 9"), ("gzip:-1", "from 0 to 9"), ("gzip:4:5", "whole number"),
                       ("gzip:", OK), ("zstd:", OK), ("zstd:-5", OK), ("gzip:9", OK), ("none", OK), ("", OK),
                       ("blosc", OK), ("blosc:zstd:9:bitshuffle", OK),
                       ("blosc:nope", "blosc compressors are"), ("blosc:lz4:11", "from 0 to 9"),
                       ("blosc:lz4:5:wiggle", "blosc shuffles are"), ("blosc:lz4:5:shuffle:x", "blosc shuffles are"),
                       ("lz4", "unknown compression 'lz4'"), ("brotli:3", "unknown compression"),
                       ("ZSTD", "unknown compression"), ("gzip 9", "unknown compression 'gzip 9'")]:
        info = f"compression='{value}'" if " " in value else f"compression={value}"
        cases.append((info.encode(), why))
    for key, value, why in [("workers", "0", "workers='0': give a whole number"), ("workers", "-1", "1 to 256"),
                            ("workers", "1.5", "1 to 256"), ("workers", "abc", "1 to 256"),
                            ("workers", "100000", "1 to 256"), ("workers", "", "workers=''"),
                            ("workers", "1", OK), ("workers", "256", OK),
                            ("chunk_cache", "-1", "chunk_cache='-1': give a size in MiB"),
                            ("chunk_cache", "lots", "give a size in MiB"), ("chunk_cache", "nan", "give a size in MiB"),
                            ("chunk_cache", "inf", "give a size in MiB"), ("chunk_cache", "1e20", "give a size in MiB"),
                            ("chunk_cache", "", "give a size in MiB"), ("chunk_cache", "0", OK),
                            ("chunk_cache", "0.5", OK),
                            ("fsync", "maybe", "fsync='maybe': give 1 or 0"), ("fsync", "2", "give 1 or 0"),
                            ("fsync", "yes", OK), ("fsync", "0", OK),
                            ("lock", "exclusive", "lock='exclusive': use lock=rw"), ("lock", "RW", "use lock=rw"),
                            ("lock", "", "use lock=rw"), ("lock", "rw", OK),
                            ("call_timeout", "0", "call_timeout='0': expected a number of seconds above 0"),
                            ("call_timeout", "-1", "seconds above 0"), ("call_timeout", "soon", "seconds above 0"),
                            ("call_timeout", "nan", "seconds above 0"), ("call_timeout", "inf", "seconds above 0"),
                            ("call_timeout", "", "call_timeout=''"), ("call_timeout", "30", OK),
                            ("call_timeout", "0.5", OK)]:
        cases.append((f"{key}={value}".encode() if value else f"{key}=".encode(), why))
    # quoting and shape
    for info, why in [(b"root='abc", "cannot be split"), (b'root="abc', "cannot be split"),
                      (b"compression='zstd", "cannot be split"), (b'a=b"', "cannot be split"),
                      (b"oops", "bad H5PyVOL connector setting 'oops': expected key=value"),
                      (b"=value", "bad H5PyVOL connector setting '=value'"), (b"==", "bad H5PyVOL connector setting"),
                      (b"compression", "expected key=value"), (b"my-key=1", "a key is letters, digits and _"),
                      (b"1abc=2", "a key is letters, digits and _"),
                      ("ключ=1".encode(), "a key is letters, digits and _"),
                      (b"compr\xffession=zstd", "a key is letters, digits and _"),
                      (b"compression=zst\xff", "unknown compression"),
                      (b"compression=gzip compression=zstd", "setting 'compression' given twice"),
                      (b"a=" + b"x" * 70000, "at most 65536"),
                      (b"   ", OK), (b"\t", OK), (b"compression=zstd\tworkers=2", OK),
                      (b"connector=store", OK), (b"connector=memory", OK),
                      (b"connector=memory compression=zstd", "unknown H5PyVOL connector setting 'compression'"),
                      (b"connector=nope", "unknown H5PyVOL connector 'nope'"),
                      (b"connector=", "unknown H5PyVOL connector ''"),
                      (b"connector=python:os", "unknown H5PyVOL connector"),
                      (b"connector=python:no_such_module:X", "cannot import H5PyVOL connector module 'no_such_module'"),
                      (b"module=no_such_module class=X", "cannot import H5PyVOL connector module 'no_such_module'"),
                      (b"module=os class=path", "os.path is not a subclass of h5pyvol.H5VOL"),
                      (b"module=os class=nothing_here", "has no class 'nothing_here'"),
                      (b"module=os", "needs both a module and a class"),
                      (b"class=X", "needs both a module and a class"),
                      (b"module=h5pyvol.store.connector class=StoreVOL workers=0", "workers='0'")]:
        cases.append((info, why))
    # root: a place files go that is no place at all must not become a local path
    for root, why in [("s3://", "root='s3://' names no bucket"), ("rados://", "root='rados://' names no pool"),
                      ("s3:///", "names no bucket"), ("mem://", "names no location"),
                      ("s3:/bucket/run", "looks like a s3:// URL but is not one"),
                      ("s3:bucket", "looks like a s3:// URL"), ("rados:pool/x", "looks like a rados:// URL"),
                      ("S3:/bucket", "looks like a S3:// URL"), ("http:/host/x", "looks like a http:// URL"),
                      ("ftp://host/x", "no H5PyVOL store backend for ftp:// URLs"),
                      ("file://otherhost/data", "file:// URLs name this machine's files only")]:
        cases.append((f"root={root}".encode(), why))
    return cases


def name_cases(tmp) -> list:
    """(info, file name as bytes, op, expected)."""
    long_segment = b"a" * 300 + b".h5"
    deep = b"d/" * 2100 + b"x.h5"
    cases = [(b"", name, "create", why) for name, why in [
        (b"s3:/bucket/x.h5", "looks like a s3:// URL but is not one"),
        (b"s3:bucket/x.h5", "looks like a s3:// URL"), (b"rados:/pool/x.h5", "looks like a rados:// URL"),
        (b"file:relative.h5", "looks like a file:// URL"), (b"mem:x", "looks like a mem:// URL"),
        (b"file://remote/x.h5", "file:// URLs name this machine's files only"),
        (b"file://", "'file://' names no file"), (b"mem://", "'mem://' names no file"),
        (b"s3://", "'s3://' names no file"), (b"rados://", "'rados://' names no file"),
        (b"zip://", "'zip://' names no file"),
        (b"http://host/x.h5", "no H5PyVOL store backend for http:// URLs"),
        (b"gs://bucket/x.h5", "no H5PyVOL store backend for gs:// URLs"),
        (b"S3://bucket/x.h5", "no H5PyVOL store backend for S3:// URLs"),
        (b"s3://key:secret@bucket/x.h5", "an s3:// URL carries no credentials"),
        (b"s3://bucket/../x.h5", "'.' and '..' are not path segments"),
        (b"s3://bucket/a/./x.h5", "'.' and '..' are not path segments"),
        (b"rados://pool", "expected rados://pool/path/file.h5"),
        (b"rados:///x.h5", "expected rados://pool/path/file.h5"),
        (b"rados://pool/../x.h5", "'.' and '..' are not path segments"),
        (b"rados://admin:key@pool/x.h5", "a rados:// URL carries no credentials"),
        (long_segment, "File name too long"), (deep, "File name too long"),
        (b"plain dir/with space.h5", OK), (b"no such dir/x.h5", "directory"), (b"./s3:bucket.h5", OK), (b"caf\xc3\xa9.h5", OK),
        (b"not-utf8-\xff.h5", OK), (b"tab\there.h5", OK), (b"mem://ok.h5", OK),
        (b"file://" + str(tmp).encode() + b"/via-url.h5", OK),
        (b"file://localhost" + str(tmp).encode() + b"/via-localhost.h5", OK)]]
    cases += [(b"", name, "open", why) for name, why in [
        (b"never-written.h5", "'never-written.h5' does not exist"), (b"mem://never.h5", "does not exist"),
        (b"s3:/bucket/x.h5", "looks like a s3:// URL")]]
    root = str(tmp / "rooted").encode()
    cases += [(b"root=" + root, name, "create", why) for name, why in [
        (b"../escape.h5", "climbs out of root="), (b"a/../../escape.h5", "climbs out of root="),
        (b"inside.h5", OK), (b"sub/inside.h5", OK)]]
    cases += [(b"compression=zstd:999", b"mem://x.h5", "create", "compression='zstd:999'")]
    return cases


def run_corpus(run_c, tmp_path, cases) -> list:
    """The cases that did not turn out as expected, described."""
    outcomes = corpus.outcomes(run_c, tmp_path, [case[:3] for case in cases])
    wrong = []
    for n, ((info, name, op, expected), got) in enumerate(zip(cases, outcomes)):
        good = got == "ok" if expected == OK else got.startswith("failed") and expected in got
        if not good:
            wrong.append(f"case {n}: info={info[:80]!r} name={name[:80]!r} {op}: expected {expected!r}, got {got[:600]}")
    return wrong


def test_every_bad_setting_is_a_clear_error_and_the_process_goes_on(run_c, tmp_path):
    cases = [(info, b"f.h5", "create", expected) for info, expected in info_cases()]
    assert len(cases) >= 120
    wrong = run_corpus(run_c, tmp_path, cases)
    assert not wrong, f"{len(wrong)} of {len(cases)} cases:\n" + "\n".join(wrong)


def test_every_bad_file_name_is_a_clear_error_never_a_stray_local_path(run_c, tmp_path):
    (tmp_path / "vol" / "plain dir").mkdir(parents=True)  # as natively, a file's directory must exist
    (tmp_path / "vol" / "rooted" / "sub").mkdir(parents=True)
    cases = name_cases(tmp_path / "vol")
    wrong = run_corpus(run_c, tmp_path, cases)
    assert not wrong, f"{len(wrong)} of {len(cases)} cases:\n" + "\n".join(wrong)
    made = {p.name for p in (tmp_path / "vol").iterdir()}
    stray = {name for name in made if name.startswith(("s3:", "rados:", "mem:", "file:", "http", "gs:", "S3:"))}
    assert stray == {"s3:bucket.h5"}, made  # the one asked for as ./s3:bucket.h5
    assert {"plain dir", "s3:bucket.h5", "café.h5", "keep.h5"} <= made
    assert (tmp_path / "vol" / os.fsdecode(b"not-utf8-\xff.h5") / "zarr.json").exists()
    assert (tmp_path / "vol" / "rooted" / "sub" / "inside.h5" / "zarr.json").exists()
    assert not (tmp_path / "escape.h5").exists() and not (tmp_path / "vol" / "escape.h5").exists()


@pytest.mark.parametrize("connector, expected", [
    ("H5PyVOL root=s3://", "root='s3://' names no bucket"),
    ("H5PyVOL root=rados://", "root='rados://' names no pool"),
    ("H5PyVOL compresion=zstd", "unknown H5PyVOL connector setting 'compresion' (did you mean 'compression'?)"),
    ("H5PyVOL compression=zstd:999", "compression='zstd:999': the level is a whole number from -131072 to 22"),
])
def test_the_environment_variable_path_says_the_same(run_c, run_py, tmp_path, connector, expected):
    """What a user types: HDF5_VOL_CONNECTOR, in a C program and in h5py."""
    result = run_c("errors_app.c", "create", connector=connector)
    assert result.returncode == 3, result.output
    assert expected in result.stderr
    assert not any(p.name.startswith(("s3:", "rados:")) for p in (tmp_path / "vol").iterdir())
    result = run_py("import h5py\nh5py.File('f.h5', 'w')", connector=connector)
    assert result.returncode == 1 and expected in result.stderr, result.output


def test_a_stray_store_environment_variable_is_named(run_py):
    result = run_py("import h5py\nh5py.File('f.h5', 'w')", H5PYVOL_STORE_COMPRESION="zstd")
    assert result.returncode == 1
    assert "unknown environment variable H5PYVOL_STORE_COMPRESION" in result.stderr, result.output
