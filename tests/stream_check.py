"""What h5pyvol.stream must do on one file, run as a user's script would
run it (no ``__main__`` guard: workers must not re-run it).  Argument: the
file name (directory store, s3://, rados:// or a native .h5).  Prints
"STREAM OK" and figures; any failed check raises."""
import os
import signal
import sys
import time

import numpy as np

from h5pyvol import files
from h5pyvol.stream import (QueueClosed, QueueClosedException, Reader, ReleasedResourceError, Streamer,
                            StageTooSmall, WorkerDied)

name = sys.argv[1]
rows, chunk = 10_007, 500  # not a multiple of the block: a remainder exists
data = np.random.default_rng(7).standard_normal((rows, 6))
table = np.zeros(2_000, dtype=[("id", "<i8"), ("pos", "<f4", (3,)), ("tag", "S4")])
table["id"] = np.arange(2_000)
table["pos"] = np.arange(6_000, dtype="f4").reshape(2_000, 3)
table["tag"] = [b"t%d" % (i % 100) for i in range(2_000)]
with files.open_file(name, "w") as f:
    f.create_dataset("grp/x", data=data, chunks=(chunk, 6))
    f.create_dataset("table", data=table, chunks=(300,))
    f.create_dataset("contig", data=np.arange(5_000, dtype="i2"))

streamer = Streamer(name)

# ordered: the file's order, whole blocks only; the remainder on its own
q = streamer.get_queue("/grp/x", n_procs=3, ordered=True)
assert q.block_size == chunk, q.block_size  # the chunk's rows by default
blocks = []
for guard in q.iter():
    with guard as block:
        blocks.append(np.array(block))
assert q.get() is QueueClosed and q.get() is QueueClosed
whole = rows // chunk * chunk
assert np.array_equal(np.concatenate(blocks), data[:whole])
assert np.array_equal(streamer.get_remainder("/grp/x", chunk), data[whole:])

# unordered: every block exactly once, as the workers finish them
seen = {}
for guard in streamer.get_queue("/grp/x", n_procs=4, block_size=1000, remainder=True):
    with guard as block:
        start = int(np.flatnonzero(data[:, 0] == block[0, 0])[0])
        assert start not in seen
        seen[start] = np.array(block)
assert sorted(seen) == list(range(0, rows, 1000)), sorted(seen)
assert np.array_equal(np.concatenate([seen[k] for k in sorted(seen)]), data)

# a block outside its guard refuses every use
q = streamer.get_queue("/grp/x", n_procs=1, read_ahead=2)
with q.get() as kept:
    total = float(kept.sum())
for use in (lambda: kept.sum(), lambda: kept[0], lambda: np.asarray(kept) + 1, lambda: len(kept)):
    try:
        use()
        raise AssertionError("a released block was readable")
    except ReleasedResourceError:
        pass
q.close()

# the generator: rows one by one, remainder included; one field of a table
assert np.array_equal(np.array(list(streamer.get_generator("/grp/x", n_procs=2, ordered=True))), data)
assert np.array_equal(np.array(list(streamer.get_generator("/table", field="pos", ordered=True, block_size=700))),
                      table["pos"])
assert np.array_equal(np.array(list(streamer.get_generator("/contig", ordered=True))), np.arange(5_000, dtype="i2"))

# cyclic: wraps around the end, forever until closed
q = streamer.get_queue("/contig", n_procs=2, block_size=1_500, cyclic=True, ordered=True)
got = []
for guard in q.iter():
    with guard as block:
        got.append(np.array(block))
    if len(got) == 5:
        q.close()
        break
expected = np.resize(np.arange(5_000, dtype="i2"), 7_500)
assert np.array_equal(np.concatenate(got), expected)

# the Reader: requests into stages, results as futures
reader = Reader(name, n_procs=2)
t = reader.get_dataset("/table")
assert t.shape == (2_000,) and t.dtype == table.dtype
stage = t.create_stage(400)
assert np.array_equal(reader.request(t["pos"][10:20], stage).get(), table["pos"][10:20])
assert np.array_equal(reader.request(t[5:9]["tag"], stage).get(), table["tag"][5:9])
assert np.array_equal(reader.request(t[[7, 3, 3, 1999]], stage).get(), table[[7, 3, 3, 1999]])
assert reader.request(t[-1], stage).get() == table[-1]
assert np.array_equal(reader.request(t["id"], t.create_stage(2_000)).get(), table["id"])
x = reader.get_dataset("/grp/x")
assert np.array_equal(reader.request(x[100:200][:, 2], x.create_stage(100)).get(), data[100:200, 2])
assert np.array_equal(reader.request(x[10:40:3, 1:4], x.create_stage(100)).get(), data[10:40:3, 1:4])
pool = x.create_stage_pool(250, 3)
reqs = [reader.request(x[i * 250:(i + 1) * 250], pool) for i in range(3)]
out = []
reqs[0].get_direct(lambda a: out.append(a.sum()))
assert np.isclose(out[0], data[0:250].sum())
with reqs[1].get_unsafe() as a:
    assert np.array_equal(a, data[250:500])
assert np.array_equal(reqs[2].get(), data[500:750])
# errors: raised where the result is read, as the worker's exception class
try:
    reader.request(x[0:1000], stage).get()
    raise AssertionError("a result larger than its stage was accepted")
except StageTooSmall as e:
    assert "needs 48000 bytes" in str(e), e
try:
    t["nope"]
    raise AssertionError("a missing field was accepted")
except KeyError as e:
    assert "id, pos, tag" in str(e), e
try:
    reader.get_dataset("/missing")
    raise AssertionError("a missing dataset was accepted")
except KeyError:
    pass
reader.close(wait=True)
try:
    reader.request(t[0:1], stage)
    raise AssertionError("a closed reader took a request")
except RuntimeError:
    pass

# a worker killed mid-stream: the consumer gets WorkerDied, never a hang or partial data
reader = Reader(name, n_procs=2)
x = reader.get_dataset("/grp/x")
pending = [reader.request(x[i * 10:(i + 1) * 10], x.create_stage(10)) for i in range(2)]
pending[0].get(); pending[1].get()
os.kill(reader._procs[0].pid, signal.SIGKILL)
deadline = time.monotonic() + 30
while True:
    try:
        r = reader.request(x[0:10], x.create_stage(10))
        r.get()
    except (WorkerDied, QueueClosedException) as e:
        assert "exited with code -9" in str(e) or isinstance(e, QueueClosedException), e
        break
    assert time.monotonic() < deadline, "a killed worker was never noticed"
    time.sleep(0.05)
reader.stop()

# figures: one pass over the dataset with 1 and 4 workers
for procs in (1, 4):
    begin, nbytes = time.perf_counter(), 0
    for guard in streamer.get_queue("/grp/x", n_procs=procs):
        with guard as block:
            nbytes += block.nbytes
    print(f"FIGURE stream procs={procs} {nbytes / (time.perf_counter() - begin) / 1e6:.1f} MB/s ({nbytes >> 10} KiB, worker start-up included)")
print("STREAM OK")
