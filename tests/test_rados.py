"""The RADOS backend (object-stores/ceph) against a real single-node Ceph
cluster the tests bootstrap on 127.0.0.1 (tests/servers/ceph.py)."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import api_program_path, assert_c_round_trip_like_native, assert_no_crash, run, vol_env
from servers.ceph import POOL, CephCluster
from test_s3 import H5PY_READ, H5PY_WRITE, RACER, SLOW_WRITER, WRITER_DURING_OUTAGE


@pytest.fixture(scope="session")
def ceph(tmp_path_factory):
    cluster = CephCluster(tmp_path_factory.mktemp("ceph"))
    try:
        cluster.start()
    except FileNotFoundError as exc:  # no Ceph daemons installed: the one reason to skip
        pytest.skip(f"Ceph cannot start here: {exc}")
    print(f"\n[rados] Ceph cluster ready for RADOS writes after {cluster.started_in:.1f} s")
    yield cluster
    cluster.stop()


def ceph_env(cluster, connector="H5PyVOL", **extra):
    return vol_env(connector, **cluster.env(), **extra)


def run_script(code, cluster, tmp_path, *args):
    script = tmp_path / "script.py"
    script.write_text(code)
    result = run([sys.executable, script, *args], ceph_env(cluster), tmp_path)
    assert_no_crash(result)
    return result


def test_h5py_script_writes_and_another_process_reads(ceph, tmp_path):
    url = f"rados://{POOL}/experiments/run1.h5"
    written = run_script(H5PY_WRITE, ceph, tmp_path, url)
    assert written.returncode == 0, written.output
    ours = run_script(H5PY_READ, ceph, tmp_path, url)
    assert ours.returncode == 0, ours.output
    native = run([sys.executable, "-c", H5PY_WRITE + "\n" + H5PY_READ.replace("import sys, h5py", ""),
                  tmp_path / "native.h5"], vol_env(None), tmp_path)
    assert ours.stdout == native.stdout.replace("written\n", "")
    listed = subprocess.run(["rados", "-c", ceph.conf, "-p", POOL, "-N", "experiments/run1.h5", "ls"],
                            capture_output=True, text=True).stdout.split()
    assert "zarr.json" in listed and "big/c/7" in listed


def test_unmodified_c_program_writes_to_rados(ceph, tmp_path, build_c):
    exe = build_c("examples/c_app.c")
    result = run([exe, "from_c.h5"], ceph_env(ceph, f"H5PyVOL root=rados://{POOL}/c"), tmp_path)
    assert_no_crash(result)
    assert result.returncode == 0, result.output
    read = run([sys.executable, "-c", f"import h5py\nf = h5py.File('rados://{POOL}/c/from_c.h5', 'r')\n"
                "print(f['grid'][3, 5])"], ceph_env(ceph), tmp_path)
    assert read.returncode == 0, read.output
    assert read.stdout.strip() == "305"


def test_c_program_types_groups_attributes_links_like_native(ceph, tmp_path, build_c):
    printed = assert_c_round_trip_like_native(build_c("store_app.c"), ceph_env(ceph, f"H5PyVOL root=rados://{POOL}/c"),
                                              tmp_path)
    assert "compound of 3 fields" in printed and "external -> calibration.h5:/table" in printed
    listed = subprocess.run(["rados", "-c", ceph.conf, "-p", POOL, "-N", "c/types.h5", "ls"],
                            capture_output=True, text=True).stdout.split()
    assert "run/sensors/temps/zarr.json" in listed


def test_racing_exclusive_creators_one_wins(ceph, tmp_path):
    import time
    script = tmp_path / "racer.py"
    script.write_text(RACER)
    for attempt in range(3):
        url = f"rados://{POOL}/races/file{attempt}.h5"
        start = time.time() + 1.5
        procs = [subprocess.Popen([sys.executable, script, url, str(start), str(i)], env=ceph_env(ceph),
                                  cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for i in range(2)]
        results = [p.communicate(timeout=60)[0].strip() for p in procs]
        assert sorted(r.split(":")[0] for r in results) == ["lost", "won"], results


def test_a_writer_that_lost_a_race_gets_an_error(ceph, tmp_path):
    url = f"rados://{POOL}/concurrent/shared.h5"
    assert run([sys.executable, "-c", f"import h5py\nh5py.File('{url}', 'w')['base'] = [0]"],
               ceph_env(ceph), tmp_path).returncode == 0
    script = tmp_path / "slow.py"
    script.write_text(SLOW_WRITER)
    slow = subprocess.Popen([sys.executable, script, url], env=ceph_env(ceph), cwd=tmp_path, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert slow.stdout.readline().strip() == "opened"
    fast = run([sys.executable, "-c", f"import h5py\nh5py.File('{url}', 'r+')['theirs'] = [4, 5]"],
               ceph_env(ceph), tmp_path)
    assert fast.returncode == 0, fast.output
    out, err = slow.communicate("go\n", timeout=120)
    assert "changed by another writer" in out, out + err
    final = run([sys.executable, "-c", f"import h5py\nprint(sorted(h5py.File('{url}', 'r')))"], ceph_env(ceph),
                tmp_path)
    assert final.stdout.strip() == "['base', 'theirs']", final.output


ZARR_READ = r"""
import sys, zarr
from h5pyvol_rados.zarr_store import RadosStore
root = zarr.open_group(store=RadosStore.from_url(sys.argv[1], read_only=True), mode="r")
print("zarr", root["ints"][...].tolist(), int(root["big"][...].sum()), root["group/inner"].attrs["answer"],
      root["group/inner"].attrs["label"], sorted(root.group_keys()))
"""


def test_zarr_python_reads_the_pool(ceph, tmp_path):
    url = f"rados://{POOL}/zarr-readers/data.h5"
    assert run_script(H5PY_WRITE, ceph, tmp_path, url).returncode == 0
    result = run([sys.executable, "-c", ZARR_READ, url], vol_env(None, **ceph.env()), tmp_path)
    assert result.returncode == 0, result.output
    big_sum = sum(i % 65536 for i in range(300000))  # the u2 values wrap
    assert f"zarr [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]] {big_sum} 42 s3 ['group']" in result.stdout


def test_h5py_reads_what_zarr_python_wrote_to_the_pool(ceph, tmp_path):
    url = f"rados://{POOL}/from-zarr/data.zarr"
    code = (f"import numpy as np, zarr\nfrom h5pyvol_rados.zarr_store import RadosStore\n"
            f"root = zarr.open_group(store=RadosStore.from_url('{url}'), mode='w')\n"
            "root.create_array('temps', data=np.arange(24, dtype='f4').reshape(4, 6), chunks=(2, 3))\n"
            "root.attrs['site'] = 'north'\n")
    written = run([sys.executable, "-c", code], vol_env(None, **ceph.env()), tmp_path)
    assert written.returncode == 0, written.output
    read = run_script(f"import h5py\nf = h5py.File('{url}', 'r')\n"
                      "print(f['temps'][3].tolist(), f['temps'].dtype, f.attrs['site'])", ceph, tmp_path)
    assert read.returncode == 0, read.output
    assert read.stdout.strip() == "[18.0, 19.0, 20.0, 21.0, 22.0, 23.0] float32 north"


def test_links_and_attributes_are_omap_entries_updated_by_difference(ceph, tmp_path):
    import rados

    url = f"rados://{POOL}/omap/tables.h5"
    code = f"""
import h5py
f = h5py.File('{url}', 'w')
g = f.create_group('g')
for i in range(300):
    g[f'd{{i:03d}}'] = [i]
g.attrs['unit'] = 'K'
f.close()
"""
    assert run_script(code, ceph, tmp_path).returncode == 0
    cluster = rados.Rados(conffile=str(ceph.conf), name="client.admin")
    cluster.connect()
    ioctx = cluster.open_ioctx(POOL)
    ioctx.set_namespace("omap/tables.h5")

    def omap():
        with rados.ReadOpCtx() as op:
            found, _ = ioctx.get_omap_vals(op, "", "", 10000)
            ioctx.operate_read_op(op, "g/zarr.json")
            return dict(found)
    before = omap()
    assert len([k for k in before if k.startswith("l")]) == 300 and len([k for k in before if k.startswith("a")]) == 1
    assert b"d150" not in ioctx.read("g/zarr.json", 1 << 20)  # the table is not in the object's bytes
    change = f"import h5py\nf = h5py.File('{url}', 'r+')\ndel f['g/d007']\nf['g/new'] = [1]\nf.close()"
    assert run_script(change, ceph, tmp_path).returncode == 0
    after = omap()
    assert set(before) - set(after) == {"l000000000007"}
    assert set(after) - set(before) == {"l000000000300"} and b'"new"' in after["l000000000300"]
    assert all(after[k] == before[k] for k in after if k in before)  # untouched entries not rewritten
    listed = run_script(f"import h5py\nf = h5py.File('{url}', 'r')\nprint(list(f['g'])[-2:], len(f['g']), "
                        "f['g'].attrs['unit'])", ceph, tmp_path)
    assert listed.stdout.strip() == "['d299', 'new'] 300 K", listed.output
    cluster.shutdown()


@pytest.mark.parametrize("aio", ["all", "none"])
def test_batches_read_missing_and_large_objects_and_delete(ceph, aio):
    """get_many/put_many/delete_prefix through aio and on threads: a missing
    key reads None, an object larger than the size hint comes back whole."""
    import numpy as np
    from concurrent.futures import ThreadPoolExecutor

    import h5pyvol_rados

    kv = h5pyvol_rados.backend(f"rados://{POOL}/batch/{aio}", {"ceph_conf": str(ceph.conf), "aio": aio})
    big = np.random.default_rng(1).bytes(9 << 20)
    items = [(f"d/k{i}", bytes([i]) * (i + 1)) for i in range(150)] + [("d/big", big)]
    with ThreadPoolExecutor(2) as pool:
        kv.put_many(items, pool)
        values = kv.get_many([k for k, _ in items] + ["d/missing"], pool, size_hint=4096)
    assert values[:-1] == [v for _, v in items]
    assert values[-1] is None
    kv.put("keep", b"x")
    kv.delete_prefix("d/")
    assert list(kv.list()) == ["keep"]


def test_cluster_stopped_mid_write_gives_an_error_and_keeps_flushed_data(ceph, tmp_path):
    url = f"rados://{POOL}/outage/file.h5"
    script = tmp_path / "writer.py"
    script.write_text(WRITER_DURING_OUTAGE)
    proc = subprocess.Popen([sys.executable, script, url], env=ceph_env(ceph, H5PYVOL_RADOS_OP_TIMEOUT="5"),
                            cwd=tmp_path, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "flushed"
    ceph.stop()
    try:
        out, err = proc.communicate("go\n", timeout=300)
    finally:
        print(f"\n[rados] cluster restarted, writable again after {ceph.restart():.1f} s")
    assert proc.returncode >= 0, err
    assert "error:" in out, out + err
    assert "Ceph cluster did not answer" in out, out
    check = run([sys.executable, "-c", f"import h5py\nf = h5py.File('{url}', 'r')\n"
                 "print(int(f['before'][...].sum()), list(f))"], ceph_env(ceph), tmp_path)
    assert check.returncode == 0, check.output
    assert check.stdout.strip() == f"{sum(range(1000))} ['before']"


def test_h5_api_test_against_rados(ceph, tmp_path):
    result = run([api_program_path("h5_api_test")],
                 ceph_env(ceph, f"H5PyVOL root=rados://{POOL}/api", pythonpath=False), tmp_path, timeout=1200)
    assert_no_crash(result)
    counts = {k: int(v) for v, k in re.findall(r"(\d+)/\d+ \([\d.]+%\) API tests (passed|did not pass|were skipped)",
                                               result.stdout)}
    print(f"\n[rados] h5_api_test through Ceph RADOS: {counts}")
    assert counts.get("did not pass") == 0, result.stdout[-3000:]
    assert counts.get("passed", 0) >= 1074


def test_node_table_differences():
    """A flush sends only what changed; a reorder it cannot express in place
    falls back to rewriting the table."""
    import json

    from h5pyvol_rados import node_tables

    def document(names, attrs=("units",)):
        return json.dumps({"zarr_format": 3, "node_type": "group", "attributes": {"units": "K", "_h5pyvol": {
            "kind": "group", "links": [{"name": n, "type": "soft", "path": "/" + n} for n in names],
            "attrs": [{"name": a, "data": "AA=="} for a in attrs]}}}).encode()

    data, tables = node_tables.split(document(["a", "b", "c"]))
    assert b'"links": [' not in data and node_tables.counts(data) == {"links": 3, "attrs": 1}
    state, entries = node_tables.TableState.fresh(tables)
    assert sorted(entries) == ["a000000000000", "l000000000000", "l000000000001", "l000000000002"]
    assert state.merge(data) == json.dumps(json.loads(document(["a", "b", "c"])), sort_keys=True).encode()

    _, tables = node_tables.split(document(["a", "c", "d"], attrs=()))
    new_state, to_set, to_remove = state.delta(tables)
    assert list(to_set) == ["l000000000003"] and sorted(to_remove) == ["a000000000000", "l000000000001"]
    assert [name for name, _, _ in new_state.tables["links"]] == ["a", "c", "d"]

    changed = json.loads(document(["a", "c", "d"]))
    changed["attributes"]["_h5pyvol"]["links"][1]["path"] = "/elsewhere"
    _, tables = node_tables.split(json.dumps(changed).encode())
    _, to_set, to_remove = new_state.delta(tables)
    assert sorted(to_set) == ["a000000000000", "l000000000002"] and to_remove == []
    for reordered in (["c", "a", "d"], ["a", "new", "c", "d"]):
        assert new_state.delta(node_tables.split(document(reordered, attrs=()))[1]) is None
