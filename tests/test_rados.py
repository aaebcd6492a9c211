"""The RADOS backend (object-stores/ceph) against a real single-node Ceph
cluster the tests bootstrap on 127.0.0.1 (tests/servers/ceph.py)."""
from __future__ import annotations

import subprocess
import sys

import pytest

import concurrency_scenarios as many
import tools_scenarios as tools
import store_scenarios as scenario
from conftest import assert_no_crash, python_of, run, vol_env, wheel_env
from servers.ceph import POOL, CephCluster


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
    return scenario.python(code, ceph_env(cluster), tmp_path, *args)


def test_h5py_script_writes_and_another_process_reads(ceph, tmp_path):
    scenario.h5py_round_trip_like_native(f"rados://{POOL}/experiments/run1.h5", ceph_env(ceph), tmp_path)
    listed = subprocess.run(["rados", "-c", ceph.conf, "-p", POOL, "-N", "experiments/run1.h5", "ls"],
                            capture_output=True, text=True).stdout.split()
    assert "zarr.json" in listed and "big/c/7" in listed


def test_the_stock_h5py_wheel_writes_and_reads_through_rados(ceph, wheel_venv, tmp_path):
    """The h5py wheel from PyPI (HDF5 2.0; tests/test_h5py_wheel.py)."""
    scenario.h5py_round_trip_like_native(f"rados://{POOL}/wheel/run.h5", wheel_env(wheel_venv, **ceph.env()), tmp_path,
                                         python_of(wheel_venv), native_env=wheel_env(wheel_venv, None))
    listed = subprocess.run(["rados", "-c", ceph.conf, "-p", POOL, "-N", "wheel/run.h5", "ls"],
                            capture_output=True, text=True).stdout.split()
    assert "zarr.json" in listed, listed


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
    scenario.c_round_trip_like_native(build_c("store_app.c"), ceph_env(ceph, f"H5PyVOL root=rados://{POOL}/c"), tmp_path)
    listed = subprocess.run(["rados", "-c", ceph.conf, "-p", POOL, "-N", "c/types.h5", "ls"],
                            capture_output=True, text=True).stdout.split()
    assert "run/sensors/temps/zarr.json" in listed


def test_filesize_is_the_bytes_of_the_objects(ceph, tmp_path):
    scenario.filesize_is_what_the_store_holds(f"rados://{POOL}/sizes/file.h5", ceph_env(ceph), tmp_path)


def test_racing_exclusive_creators_one_wins(ceph, tmp_path):
    scenario.racing_creators_one_wins(lambda attempt: f"rados://{POOL}/races/file{attempt}.h5", ceph_env(ceph),
                                      tmp_path)


@pytest.mark.parametrize("conflict", [False, True], ids=["merged", "conflict"])
def test_interleaved_writers_merge_or_get_an_error(ceph, tmp_path, conflict):
    scenario.interleaved_writers_merge(f"rados://{POOL}/concurrent/shared{int(conflict)}.h5", ceph_env(ceph),
                                       tmp_path, conflict)


def test_swmr_readers_never_see_partial_flushes(ceph, tmp_path):
    figures = many.swmr_readers_see_whole_flushes(f"rados://{POOL}/swmr/rows.h5", ceph_env(ceph), tmp_path,
                                                  many.SWMR_SECONDS)
    many.record("swmr rados", figures)


def test_group_refresh_shows_new_links(ceph, tmp_path):
    many.group_refresh_shows_new_links(f"rados://{POOL}/swmr/refresh.h5", ceph_env(ceph), tmp_path)


def test_concurrent_writers_lose_nothing(ceph, tmp_path):
    figures = many.writers_lose_nothing(f"rados://{POOL}/writers/shared.h5", ceph_env(ceph), tmp_path)
    many.record("writers rados", figures)


def test_killed_writers_and_readers_leave_no_lock_and_no_damage(ceph, tmp_path):
    figures = many.killed_processes_never_block(f"rados://{POOL}/killed/rows.h5", ceph_env(ceph, "H5PyVOL lock=rw"), tmp_path)
    many.record("kill -9 rados, lock=rw", figures)


FORKED_CLIENTS = r"""
import multiprocessing as mp, os, sys
from h5pyvol_rados import cluster

def address(queue):
    queue.put(cluster.connect(os.environ["CEPH_CONF"], "client.admin").get_addrs())

if __name__ == "__main__":
    parent = cluster.connect(os.environ["CEPH_CONF"], "client.admin").get_addrs()
    queue = mp.get_context("fork").Queue()
    children = [mp.get_context("fork").Process(target=address, args=(queue,)) for _ in range(4)]
    [child.start() for child in children]
    print(parent, *[queue.get(timeout=60) for _ in children])
    [child.join() for child in children]
"""


def test_forked_children_are_distinct_clients(ceph, tmp_path):
    """Children forked after the parent connected (multiprocessing's
    default) each present a client address of their own: with librados'
    inherited nonce they presented one, and the cluster dropped one child's
    sessions for another's until its reads timed out."""
    result = run_script(FORKED_CLIENTS, ceph, tmp_path)
    addresses = result.stdout.split()
    assert len(addresses) == 5 and len(set(addresses)) == 5, result.output


def test_conflicting_writers_exactly_one_error(ceph, tmp_path):
    many.conflicting_writers_one_error(f"rados://{POOL}/conflicts/file.h5", ceph_env(ceph), tmp_path)


ZARR_READ = r"""
import sys, zarr
from h5pyvol_rados.zarr_store import RadosStore
root = zarr.open_group(store=RadosStore.from_url(sys.argv[1], read_only=True), mode="r")
print("zarr", root["ints"][...].tolist(), int(root["big"][...].sum()), root["group/inner"].attrs["answer"],
      root["group/inner"].attrs["label"], sorted(root.group_keys()))
"""


def test_zarr_python_reads_the_pool(ceph, tmp_path):
    url = f"rados://{POOL}/zarr-readers/data.h5"
    assert run_script(scenario.H5PY_WRITE, ceph, tmp_path, url).returncode == 0
    result = run([sys.executable, "-c", ZARR_READ, url], vol_env(None, **ceph.env()), tmp_path)
    assert result.returncode == 0, result.output
    assert f"zarr [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]] {scenario.BIG_SUM} 42 s3 ['group']" in result.stdout


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


@pytest.fixture
def raw_ioctx(ceph):
    """librados itself, to check what the backend left in the pool."""
    import rados

    cluster = rados.Rados(conffile=str(ceph.conf), name="client.admin")
    cluster.connect()
    yield cluster.open_ioctx(POOL)
    cluster.shutdown()


def raw_omap(ioctx, namespace: str, name: str) -> dict:
    import rados

    ioctx.set_namespace(namespace)
    with rados.ReadOpCtx() as op:
        found, _ = ioctx.get_omap_vals(op, "", "", 100000)
        ioctx.operate_read_op(op, name)
        return dict(found)


def test_links_and_attributes_are_omap_entries_updated_by_difference(ceph, raw_ioctx, tmp_path):
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
    before = raw_omap(raw_ioctx, "omap/tables.h5", "g/zarr.json")
    assert len([k for k in before if k.startswith("l")]) == 300 and len([k for k in before if k.startswith("a")]) == 1
    assert b"d150" not in raw_ioctx.read("g/zarr.json", 1 << 20)  # the table is not in the object's bytes
    change = f"import h5py\nf = h5py.File('{url}', 'r+')\ndel f['g/d007']\nf['g/new'] = [1]\nf.close()"
    assert run_script(change, ceph, tmp_path).returncode == 0
    after = raw_omap(raw_ioctx, "omap/tables.h5", "g/zarr.json")
    assert set(before) - set(after) == {"l000000000007"}
    assert set(after) - set(before) == {"l000000000300"} and b'"new"' in after["l000000000300"]
    assert all(after[k] == before[k] for k in after if k in before)  # untouched entries not rewritten
    listed = run_script(f"import h5py\nf = h5py.File('{url}', 'r')\nprint(list(f['g'])[-2:], len(f['g']), "
                        "f['g'].attrs['unit'])", ceph, tmp_path)
    assert listed.stdout.strip() == "['d299', 'new'] 300 K", listed.output


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


def test_whole_chunks_read_into_place_and_a_wrong_sized_chunk_is_an_error(ceph, raw_ioctx, tmp_path):
    raw_ioctx.set_namespace("whole/data.h5")
    scenario.whole_chunks_read_into_place(f"rados://{POOL}/whole/data.h5", ceph_env(ceph), tmp_path,
                                          raw_ioctx.remove_object, raw_ioctx.write_full)


def test_a_file_lists_its_keys_from_its_index_not_the_pool(ceph, raw_ioctx, tmp_path):
    import h5pyvol_rados
    from h5pyvol_rados.key_index import INDEX

    def objects(namespace):
        raw_ioctx.set_namespace(namespace)
        return sorted(o.key for o in raw_ioctx.list_objects())

    def indexed(namespace):
        return sorted(raw_omap(raw_ioctx, namespace, INDEX))

    url = f"rados://{POOL}/indexed/data.h5"
    code = f"import h5py, numpy as np\nf = h5py.File('{url}', 'w')\nf['a/b'] = np.arange(100)\n" \
           "f.create_dataset('c', data=np.arange(50), chunks=(10,))\nf.close()"
    assert run_script(code, ceph, tmp_path).returncode == 0
    stored = objects("indexed/data.h5")
    assert INDEX in stored and "c/c/4" in stored and not any(k.startswith("%anon") for k in stored)
    assert indexed("indexed/data.h5") == [k for k in stored if k != INDEX]  # exactly what is there

    # a namespace another tool wrote: listed by a scan, indexed at the first write
    raw_ioctx.set_namespace("foreign")
    raw_ioctx.write_full("x/zarr.json", b"{}")
    kv = h5pyvol_rados.backend(f"rados://{POOL}/foreign", {"ceph_conf": str(ceph.conf)})
    assert list(kv.list()) == ["x/zarr.json"]
    kv.put("y", b"1")
    assert indexed("foreign") == ["x/zarr.json", "y"]
    kv.delete("x/zarr.json")
    assert list(kv.list()) == ["y"] == indexed("foreign")

    # truncation removes every key; the index then holds the new file's only
    assert run_script(f"import h5py\nh5py.File('{url}', 'w').close()", ceph, tmp_path).returncode == 0
    assert indexed("indexed/data.h5") == [k for k in objects("indexed/data.h5") if k != INDEX] == ["zarr.json"]


def test_tables_and_key_indexes_larger_than_one_omap_page(ceph, raw_ioctx, tmp_path):
    """The OSD returns at most 1024 omap entries per read (found by bench/run:
    a group of 10,000 links could not be opened again, and a file of more
    than 1024 keys was truncated only in part)."""
    url = f"rados://{POOL}/paged/data.h5"
    code = f"""import h5py, numpy as np
with h5py.File('{url}', 'w') as f:
    for i in range(2500):
        f.create_group(f'g{{i:04d}}')
    f.attrs.update({{f'a{{i:04d}}': i for i in range(1500)}})
    f.create_dataset('d', data=np.arange(3000), chunks=(2,))
with h5py.File('{url}', 'r') as f:
    assert sorted(f) == sorted([f'g{{i:04d}}' for i in range(2500)] + ['d']), len(f)
    assert len(f.attrs) == 1500 and f.attrs['a1499'] == 1499
    assert (f['d'][...] == np.arange(3000)).all()
h5py.File('{url}', 'w').close()
"""
    result = run_script(code, ceph, tmp_path)
    assert result.returncode == 0, result.output
    raw_ioctx.set_namespace("paged/data.h5")
    left = sorted(o.key for o in raw_ioctx.list_objects())
    assert len(left) == 2 and "zarr.json" in left, left[:10]  # the new empty file and its key index


def test_cluster_stopped_mid_write_gives_an_error_and_keeps_flushed_data(ceph, tmp_path):
    def restart():
        print(f"\n[rados] cluster restarted, writable again after {ceph.restart():.1f} s")
    out = scenario.outage_keeps_flushed_data(f"rados://{POOL}/outage/file.h5",
                                             ceph_env(ceph, H5PYVOL_RADOS_OP_TIMEOUT="5"), tmp_path, ceph.stop, restart)
    assert "Ceph cluster did not answer" in out, out


def test_h5_api_test_against_rados(ceph, tmp_path):
    scenario.h5_api_test_passes(ceph_env(ceph, f"H5PyVOL root=rados://{POOL}/api", pythonpath=False), tmp_path,
                                "rados")


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
    assert b'"links": [' not in data and node_tables.parse_stored(data)[1] == {"links": 3, "attrs": 1}
    state, entries = node_tables.TableState.fresh(tables)
    assert sorted(entries) == ["a000000000000", "l000000000000", "l000000000001", "l000000000002"]
    assert state.merge(node_tables.parse_stored(data)[0]) == json.dumps(json.loads(document(["a", "b", "c"])), sort_keys=True).encode()

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


# ------------------------------------------------------------ the tools (issue 13)

def test_copy_native_rados_native_keeps_what_h5dump_shows(ceph, tmp_path):
    tools.round_trip_keeps_h5dump(f"rados://{POOL}/tools/rich.h5", ceph_env(ceph), vol_env(None), tmp_path, jobs=4)


def test_pack_and_unpack_a_rados_file(ceph, tmp_path):
    tools.pack_unpack_round_trip(f"rados://{POOL}/tools/packed.h5", ceph_env(ceph), vol_env(None), tmp_path)


def test_rechunk_a_rados_dataset_atomically(ceph, tmp_path):
    figures = tools.rechunk_is_atomic_for_readers(f"rados://{POOL}/tools/rechunked.h5", ceph_env(ceph), tmp_path)
    many.record("rechunk rados", figures)


def test_stream_a_rados_file(ceph, tmp_path):
    import stream_scenarios as stream
    many.record("stream rados", stream.streams_everything(f"rados://{POOL}/stream/data.h5", ceph_env(ceph), tmp_path))


def _copy_namespace(ioctx, source: str, target: str) -> None:
    """Every object of a file, its bytes and its omap, into another namespace."""
    import rados

    from h5pyvol_rados import omap

    ioctx.set_namespace(source)
    objects = {}
    for name in sorted(o.key for o in ioctx.list_objects()):
        objects[name] = (ioctx.read(name, 1 << 26), omap.read_all(ioctx, name, until_empty=True)[0])
    ioctx.set_namespace(target)
    for name, (data, entries) in objects.items():
        ioctx.write_full(name, data)
        if entries:
            with rados.WriteOpCtx() as op:
                # librados hands an empty value back as None
                ioctx.set_omap(op, tuple(entries), tuple(v or b"" for v in entries.values()))
                ioctx.operate_write_op(op, name)


def _damage_bytes(damage, workdir):
    """A damage of test_damaged_stores (which changes a file) applied to an
    object: the object is written to a file, damaged there, and put back."""
    def apply(ioctx, key):
        import rados

        path = workdir / key
        path.parent.parent.mkdir(parents=True, exist_ok=True)
        try:
            data = ioctx.read(key, 1 << 26)
        except rados.ObjectNotFound:  # a stray key the damage adds (and maybe its directory)
            try:
                damage(path)
            except FileNotFoundError:
                path.parent.mkdir()
                damage(path)
        else:
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(data)
            damage(path)
        if path.exists():
            ioctx.write_full(key, path.read_bytes())
        else:
            ioctx.remove_object(key)
    apply.__name__ = getattr(damage, "__name__", "edited")
    return apply


def _omap_edit(change):
    """A damage of a node's link or attribute table, which RADOS keeps as
    omap entries of its zarr.json object (node_tables.py)."""
    def apply(ioctx, key):
        import rados

        from h5pyvol_rados import omap

        entries = omap.read_all(ioctx, key, until_empty=True)[0]
        removed, added = change(entries)
        with rados.WriteOpCtx() as op:
            if removed:
                ioctx.remove_omap_keys(op, tuple(removed))
            if added:
                ioctx.set_omap(op, tuple(added), tuple(added.values()))
            ioctx.operate_write_op(op, key)
    apply.__name__ = change.__name__
    return apply


def _first(prefix):
    return lambda entries: min(k for k in entries if k.startswith(prefix))


def omap_damages():
    """(key, damage(ioctx, key), what the error must name, or None: the values stay)."""
    def link_dropped(entries):
        return [_first("l")(entries)], {}

    def attribute_dropped(entries):
        return [_first("a")(entries)], {}

    def link_garbage(entries):
        return [], {_first("l")(entries): b"\xff\x00 not json"}

    def link_empty_object(entries):
        return [], {_first("l")(entries): b"{}"}

    def link_not_an_object(entries):
        return [], {_first("l")(entries): b"[1, 2]"}

    def ghost_link_added(entries):
        return [], {"l000000009999": b'{"name": "ghost", "target": "ghost"}'}

    def all_dropped(entries):
        return list(entries), {}

    def index_removed(ioctx, key):
        ioctx.remove_object(key)

    def index_garbage(ioctx, key):
        ioctx.write_full(key, b"\xff garbage in the index's bytes")

    return [("zarr.json", _omap_edit(link_dropped), "zarr.json"),
            ("grp/zarr.json", _omap_edit(attribute_dropped), "grp/zarr.json"),
            ("zarr.json", _omap_edit(link_garbage), "zarr.json"),
            ("zarr.json", _omap_edit(link_empty_object), "zarr.json"),
            ("grp/zarr.json", _omap_edit(link_not_an_object), "grp/zarr.json"),
            ("grp/zarr.json", _omap_edit(ghost_link_added), "grp/zarr.json"),
            ("zarr.json", _omap_edit(all_dropped), "zarr.json"),
            # the key index serves listing and deletion, not reading: harmless here
            ("%index", index_removed, None),
            ("%index", index_garbage, None)]


def test_damaged_objects_and_tables_give_errors_naming_the_key_never_other_values(ceph, raw_ioctx, tmp_path):
    """The directory store's corpus of damage (tests/reliability/
    test_damaged_stores.py) applied to objects, and damage of the omap
    tables only RADOS has; each on its own copy of one file."""
    from reliability.test_damaged_stores import DAMAGES, WRITE, _to_directory, _unreadable, read_damaged

    base = f"rados://{POOL}/damaged"
    assert run_script(WRITE, ceph, tmp_path, f"{base}/orig.h5").returncode == 0
    damages = [(key, _damage_bytes(damage, tmp_path / f"bytes{n}"), named)
               for n, (key, damage, named) in enumerate(DAMAGES) if damage not in (_to_directory, _unreadable)]
    of_tables = omap_damages()
    damages += of_tables
    copies = []
    for n, (key, damage, _) in enumerate(damages):
        _copy_namespace(raw_ioctx, "damaged/orig.h5", f"damaged/copy{n}.h5")
        damage(raw_ioctx, key)
        copies.append(f"{base}/copy{n}.h5")
    read_damaged(f"{base}/orig.h5", copies, damages, ceph_env(ceph), tmp_path)
    wrong = []
    for copy, (key, damage, named) in list(zip(copies, damages))[-len(of_tables):]:
        checked = run([sys.executable, "-m", "h5pyvol", "check", copy], ceph_env(ceph), tmp_path)
        assert_no_crash(checked)
        if checked.returncode != (0 if named is None else 1) or (named and named not in checked.output):
            wrong.append(f"{key} {damage.__name__}: exit {checked.returncode}, {checked.output[-300:]}")
    assert not wrong, "h5pyvol check:\n" + "\n".join(wrong)
