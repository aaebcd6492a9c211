"""Stores damaged behind the connector's back: truncated or garbage
metadata, chunks of the wrong size or undecodable, nodes and chunks
replaced by directories, keys nobody may read.  Opening or reading gives
an error naming the key, or the very values written (where the damage is
harmless); never a crash, never other values.  ``h5pyvol check`` names
every damaged key.

One Python process reads every damaged copy in turn (a failure in one
must not disturb the next); ``h5pyvol check`` runs once per copy.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import assert_no_crash, run, vol_env

WRITE = r"""
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    f.attrs["title"] = "hello"
    g = f.create_group("grp")
    g.attrs["n"] = 5
    g.create_dataset("chunked", data=np.arange(2000, dtype="<i2").reshape(50, 40), chunks=(10, 10),
                     compression="gzip")
    f.create_dataset("plain", data=np.linspace(0, 1, 1000), chunks=(250,))
    f["vstr"] = np.array(["a", "bcd", "éé"], dtype=h5py.string_dtype())
    f["scalar"] = 42
"""

# reads every copy named on the command line; one JSON line each:
# "same" (every value as in the first, undamaged, copy), "different", or the error
READ = r"""
import json, sys, h5py, numpy as np

def plain(value):
    if isinstance(value, np.ndarray):
        return [str(value.dtype), list(value.shape), [plain(v) for v in value.reshape(-1).tolist()]]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.generic):
        return value.item()
    return value

def everything(name):
    out = {}
    with h5py.File(name, "r") as f:
        def visit(path, obj):
            for key in obj.attrs:
                out[f"{path}@{key}"] = plain(obj.attrs[key])
            if isinstance(obj, h5py.Dataset):
                out[path] = plain(obj[()])
        visit("/", f)
        f.visititems(visit)
    return out

reference = everything(sys.argv[1])
for name in sys.argv[2:]:
    try:
        got = everything(name)
        outcome = "same" if got == reference else "different: " + ", ".join(
            k for k in sorted(set(got) | set(reference)) if got.get(k) != reference.get(k))
    except Exception as exc:
        outcome = f"error: {type(exc).__name__}: {exc}"
    print(json.dumps([name, outcome]), flush=True)
"""


def _truncate(path):
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


def _garbage(path):
    path.write_bytes(b"\xff\x00 not json, not a chunk \x9c")


def _to_directory(path):
    path.unlink()
    path.mkdir()
    (path / "inside").write_bytes(b"x")


def _edit_json(change):
    def damage(path):
        doc = json.loads(path.read_text())
        change(doc)
        path.write_text(json.dumps(doc))
    return damage


def _set(keys, value):
    def change(doc):
        node = doc
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return change


def _unreadable(path):
    path.chmod(0)


# (store key, damage, what the read error must name; None: the values must stay the same)
DAMAGES = [
    ("zarr.json", _truncate, "zarr.json"),
    ("zarr.json", _garbage, "zarr.json"),
    ("zarr.json", lambda p: p.write_text("[]"), "zarr.json"),
    ("zarr.json", lambda p: p.write_text("{}"), "zarr.json"),
    ("zarr.json", lambda p: p.write_text(""), "zarr.json"),
    ("zarr.json", os.remove, "holds keys but no zarr.json"),
    ("zarr.json", _to_directory, "zarr.json"),
    ("grp/zarr.json", _truncate, "grp/zarr.json"),
    ("grp/zarr.json", _garbage, "grp/zarr.json"),
    ("grp/zarr.json", os.remove, "grp"),
    ("grp/zarr.json", _to_directory, "grp/zarr.json"),
    ("grp/chunked/zarr.json", _garbage, "grp/chunked/zarr.json"),
    ("grp/chunked/zarr.json", _edit_json(_set(["shape"], "fifty")), "grp/chunked/zarr.json"),
    ("grp/chunked/zarr.json", _edit_json(_set(["data_type"], "complex1024")), "grp/chunked/zarr.json"),
    ("grp/chunked/zarr.json", _edit_json(_set(["chunk_grid", "configuration", "chunk_shape"], [0, 10])),
     "grp/chunked/zarr.json"),
    ("grp/chunked/zarr.json", _edit_json(_set(["codecs"], [{"name": "no-such-codec"}])), "grp/chunked/zarr.json"),
    ("grp/chunked/c/0/1", _garbage, "grp/chunked/c/0/1"),
    ("grp/chunked/c/0/1", _truncate, "grp/chunked/c/0/1"),
    ("grp/chunked/c/0/1", lambda p: p.write_bytes(b""), "grp/chunked/c/0/1"),
    ("grp/chunked/c/0/1", _to_directory, "grp/chunked/c/0/1"),
    ("plain/c/1", _truncate, "plain/c/1"),
    ("plain/c/1", lambda p: p.write_bytes(p.read_bytes() + b"extra"), "plain/c/1"),
    ("plain/c/1", _to_directory, "plain/c/1"),
    ("vstr/c/0", _garbage, "vstr/c/0"),
    ("vstr/c/0", _truncate, "vstr/c/0"),
    ("scalar/c", _garbage, "scalar/c"),
    ("scalar/c", lambda p: p.write_bytes(b"\x01\x02"), "scalar/c"),
    # harmless: a stray file and a stray directory the store does not know
    ("grp/notes.txt", lambda p: p.write_text("a user's note"), None),
    ("junk/deeper", lambda p: (p.parent.mkdir(), p.write_text("x")), None),
]


def damaged_copies(work, damages) -> list:
    """orig.h5, a directory store written under ``work``, and one damaged
    copy of it per entry of ``damages``."""
    written = run([sys.executable, "-c", WRITE, "orig.h5"], vol_env(), work)
    assert written.returncode == 0, written.output
    copies = []
    for n, (key, damage, _) in enumerate(damages):
        copy = work / f"copy{n}.h5"
        shutil.copytree(work / "orig.h5", copy)
        target = copy / key
        if not target.exists() and damage is not os.remove and "notes" not in key and "junk" not in key:
            raise AssertionError(f"the store has no key {key}: {sorted(p.name for p in target.parent.iterdir())}")
        damage(target)
        copies.append(copy)
    return copies


@pytest.fixture(scope="module")
def damaged(tmp_path_factory):
    """The original store and one damaged copy per DAMAGES entry."""
    work = tmp_path_factory.mktemp("damaged")
    os.chmod(work, 0o755)  # the permission case reads as another user
    return work, vol_env(), damaged_copies(work, DAMAGES)


def read_damaged(original: str, copies: list, damages: list, env: dict, cwd) -> None:
    """Reads ``original`` and every damaged copy (names or URLs) in one
    process; each copy must give an error naming its damaged key, or the
    original's values where its damage is harmless.  The object-store
    tests run this on copies uploaded to their servers."""
    result = run([sys.executable, "-c", READ, original, *copies], env, cwd, timeout=300)
    assert_no_crash(result)
    assert result.returncode == 0, result.output[-3000:]
    outcomes = dict(json.loads(line) for line in result.stdout.splitlines())
    wrong = []
    for copy, (key, damage, named) in zip(copies, damages):
        got = outcomes.get(copy, "(no outcome)")
        good = got == "same" if named is None else got.startswith("error:") and named in got
        if not good:
            wrong.append(f"{key} {getattr(damage, '__name__', 'edited')}: expected {named or 'same'}, got {got[:500]}")
    assert not wrong, f"{len(wrong)} of {len(damages)}:\n" + "\n".join(wrong)


def test_damaged_stores_give_errors_naming_the_key_never_other_values(damaged):
    work, env, copies = damaged
    read_damaged("orig.h5", [c.name for c in copies], DAMAGES, env, work)


def test_h5pyvol_check_names_every_damaged_key(damaged):
    work, env, copies = damaged
    wrong = []
    for copy, (key, damage, named) in zip(copies, DAMAGES):
        checked = run([sys.executable, "-m", "h5pyvol", "check", copy.name], env, work, timeout=120)
        assert_no_crash(checked)
        expected = 0 if named is None else 1
        shown = key.rsplit("/zarr.json", 1)[0] if key != "zarr.json" else "zarr.json"
        if checked.returncode != expected or (named is not None and shown.split("/c/")[0] not in checked.output):
            wrong.append(f"{key} {getattr(damage, '__name__', 'edited')}: exit {checked.returncode}, "
                         f"{checked.output[-400:]}")
    assert not wrong, f"{len(wrong)} of {len(DAMAGES)}:\n" + "\n".join(wrong)


def test_a_key_nobody_may_read_is_named(damaged):
    """A chunk, then a group's metadata, without read permission.  The
    reader runs without the capabilities that let root read any file
    (setpriv, util-linux); as any other user it would be refused the same."""
    work, env, _ = damaged
    if os.geteuid() != 0:
        without_override = []  # an ordinary user is refused by the mode bits themselves
    else:
        if shutil.which("setpriv") is None:
            pytest.fail("setpriv (util-linux) is needed to read without root's override of file modes")
        without_override = ["setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search", "--"]
    copy = work / "denied.h5"
    shutil.copytree(work / "orig.h5", copy)
    (copy / "plain" / "c" / "1").chmod(0)
    read = run(without_override + [sys.executable, "-c", READ, "orig.h5", copy.name], env, work)
    assert_no_crash(read)
    assert read.returncode == 0, read.output
    assert "plain/c/1" in read.stdout and "Permission denied" in read.stdout, read.output
    (copy / "grp" / "zarr.json").chmod(0)
    read = run(without_override + [sys.executable, "-c", READ, "orig.h5", copy.name], env, work)
    assert "grp/zarr.json" in read.stdout and "Permission denied" in read.stdout, read.output
    checked = run(without_override + [sys.executable, "-m", "h5pyvol", "check", copy.name], env, work)
    assert checked.returncode == 1 and "grp/zarr.json" in checked.stdout, checked.output
