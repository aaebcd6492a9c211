"""Link and attribute names chosen to climb out of a store or collide with
its own keys: every key stays under the file's directory, every name
reads back as written, and zarr.json files stay the store's own."""
from __future__ import annotations

import json
import os

# names HDF5 accepts in a link (no "/" inside, not "." alone)
HOSTILE = ["..", "...", ".hidden", ".tmp-1234", ".h5pyvol-locks", ".h5pyvol-rwlock", "zarr.json", "ZARR.JSON",
           "c", "c.0", "0", "%2e%2e", "%2F", "%", "%00", "..%2f..%2fetc", "~", "~root", "-rf", " ", "  ..  ",
           "\t", "new\nline", "back\\slash", "..\\..\\x", "ä", "日本", "\u202egnp.exe", "a" * 80,
           "nul\x01byte", "%anon", "c%2F0", "__pycache__", "*", "?", "[abc]", "$HOME", "`id`", "'", '"']

WRITE = r"""
import json, sys, h5py, numpy as np
names = json.loads(sys.argv[2])
with h5py.File(sys.argv[1], "w") as f:
    for i, name in enumerate(names):
        g = f.create_group(name)
        g.attrs[name] = i
        g.create_dataset(name, data=np.arange(3) + i, chunks=(2,))
        f[name + "-soft"] = h5py.SoftLink("/" + name)
"""

READ = r"""
import json, sys, h5py
names = json.loads(sys.argv[2])
with h5py.File(sys.argv[1], "r") as f:
    listed = set(f)
    for i, name in enumerate(names):
        g = f[name]
        assert g.attrs[name] == i, name
        assert list(g[name][()]) == [i, i + 1, i + 2], name
        assert f[name + "-soft"].attrs[name] == i, name  # the same group, through the soft link
print("NAMES OK", len(listed))
"""


def test_hostile_names_stay_inside_the_store_and_read_back(run_py, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "outside").mkdir()  # what a name climbing out would land beside
    names = json.dumps(HOSTILE)
    written = run_py(WRITE, "hostile.h5", names, cwd=work)
    assert written.returncode == 0, written.output
    read = run_py(READ, "hostile.h5", names, cwd=work)
    assert read.returncode == 0 and f"NAMES OK {2 * len(HOSTILE)}" in read.stdout, read.output
    assert sorted(p.name for p in work.iterdir()) == ["hostile.h5"]
    assert not any((tmp_path / "outside").iterdir()) and not any(tmp_path.glob("*.json"))
    store = work / "hostile.h5"
    for path in store.rglob("*"):
        assert os.path.realpath(path).startswith(os.path.realpath(store) + os.sep), path
        # every zarr.json is a node document, never a link's or attribute's value
        if path.name == "zarr.json":
            assert json.loads(path.read_text())["zarr_format"] == 3, path
    import zarr
    root = zarr.open_group(str(store), mode="r")  # and a Zarr reader still sees a well-formed hierarchy
    assert len(list(root.group_keys())) == len(HOSTILE)


def test_a_name_longer_than_the_file_system_takes_is_a_clear_error(run_py):
    """A directory store keeps a link's name in a path segment: 255 bytes
    at most once percent-encoded (README).  A longer one fails the call
    and leaves the file as it was."""
    code = ("import h5py\n"
            "with h5py.File('long.h5', 'w') as f:\n"
            "    f['kept'] = [1, 2, 3]\n"
            "try:\n"
            "    with h5py.File('long.h5', 'a') as f:\n"
            "        f.create_group('x' * 300)\n"
            "except Exception as exc:\n"
            "    print('refused:', exc)\n"
            "with h5py.File('long.h5', 'r') as f:\n"
            "    print('kept', f['kept'][()].tolist(), len(f))\n")
    result = run_py(code)
    assert result.returncode == 0, result.output
    assert "refused:" in result.stdout and "File name too long" in result.stdout, result.output
    assert "kept [1, 2, 3] 1" in result.stdout, result.output
