"""An MPI workflow without MPI-IO, the h5flow way.

Every rank of an MPI job reads its share of a source file and writes its
rows of one shared output file, with plain serial h5py: no parallel HDF5,
no ``driver="mpio"``.  Under H5PyVOL each HDF5 file is a Zarr v3 hierarchy
on a key-value store, so ranks that write different chunks of a dataset
need no coordination beyond "rank 0 creates the datasets first":

    eval "$(.venv/bin/python -m h5pyvol env)"
    mpiexec -n 4 .venv/bin/python examples/mpi_workflow.py source.h5 output.h5 --make-source 100000
    mpiexec -n 4 .venv/bin/python examples/mpi_workflow.py s3://bucket/source.h5 s3://bucket/output.h5

The files follow h5flow's layout (https://github.com/larpix/h5flow):

* ``/<path>/data``: a one-dimensional dataset of a structured dtype, one
  row per object;
* ``/<parent>/ref/<child>/ref``: (N, 2) row-index pairs ``(parent row,
  child row)`` linking two such datasets, with attributes ``dset0`` and
  ``dset1`` naming them;
* ``/<parent>/ref/<child>/ref_region`` (and ``/<child>/ref/<parent>/ref_region``):
  for each row of the parent (child), the ``[start, stop)`` rows of ``ref``
  that mention it; ``start == stop`` where there are none.

The source (``--make-source N`` writes a synthetic one): events of a pixel
detector, ``/charge/events/data`` (N rows), their hits ``/charge/hits/data``
(a few per event, stored event after event) and the references
``/charge/events/ref/charge/hits/ref`` between them.

The workflow loops over the chunks of ``/charge/events/data``; rank r takes
chunks r, r + size, r + 2 size, ... (as h5flow's loop generator does).  For
each chunk of events it reads their hits through the references, calibrates
every hit (charge -> energy with a per-channel gain, drift time -> z) and
sums every event, and writes:

* ``/analysis/events_reco/data``: one row per source event (the same rows
  and chunking as the source events: each rank writes whole chunks);
* ``/analysis/hits_calib/data``: one row per source hit (a chunk of events
  owns a run of hits that need not start on a chunk boundary of this
  dataset: two ranks may write rows of the same chunk);
* the references ``/analysis/events_reco/ref/analysis/hits_calib/ref``
  (event -> its calibrated hits), ``/analysis/events_reco/ref/charge/events/ref``
  and ``/analysis/hits_calib/ref/charge/hits/ref`` (each output row -> the
  source row it was computed from), with their ``ref_region`` tables on the
  output's side; ``/charge`` in the output is an external link to the
  source's ``/charge``, so those references resolve within the output file.

The result does not depend on the number of ranks: a chunk is computed the
same way whichever rank takes it, and ``mpiexec -n 4`` writes the same bytes
as ``python examples/mpi_workflow.py`` alone (mpi4py runs a lone process
as an MPI job of one rank).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import traceback

import h5py
import numpy as np
from mpi4py import MPI

REF_REGION = np.dtype([("start", "i8"), ("stop", "i8")])  # h5flow's lookup table rows
EVENT = np.dtype([("id", "u4"), ("ts", "f8"), ("nhit", "u4")])
HIT = np.dtype([("id", "u4"), ("channel", "u2"), ("ts", "f8"), ("q", "f4")])
EVENT_RECO = np.dtype([("id", "u4"), ("nhit", "u4"), ("E", "f8"), ("x", "f4"), ("y", "f4"),
                       ("z_min", "f4"), ("z_max", "f4")])
HIT_CALIB = np.dtype([("id", "u4"), ("event_id", "u4"), ("x", "f4"), ("y", "f4"), ("z", "f4"), ("E", "f4")])

PIXEL_PITCH = 4.434    # mm between pixel centres
PIXELS_PER_ROW = 64    # channel c sits at column c % 64, row c // 64
DRIFT_VELOCITY = 1.6   # mm per microsecond
CHANNELS = 4096


def gain(channel: np.ndarray) -> np.ndarray:
    """The calibration: energy per unit of charge, per channel."""
    return (1.0 + 0.01 * (channel % 7)).astype("f4")


# ---------------------------------------------------------------- h5flow layout

def data_path(name: str) -> str:
    return f"{name}/data"


def ref_path(parent: str, child: str) -> str:
    return f"{parent}/ref/{child}/ref"


def region_path(parent: str, child: str) -> str:
    return f"{parent}/ref/{child}/ref_region"


def create_data(f: h5py.File, name: str, dtype, rows: int, chunk: int) -> h5py.Dataset:
    """``/<name>/data``: resizable along its one axis, as h5flow makes them."""
    return f.create_dataset(data_path(name), (rows,), dtype=dtype, maxshape=(None,), chunks=(chunk,))


def create_ref(f: h5py.File, parent: str, child: str, rows: int, chunk: int,
               parent_rows: int, parent_chunk: int, child_rows: int | None = None,
               child_chunk: int | None = None) -> None:
    """``/<parent>/ref/<child>/ref`` and its ``ref_region`` table(s); the
    child's table only where the child lives in this file (child_rows given)."""
    ref = f.create_dataset(ref_path(parent, child), (rows, 2), dtype="u4", maxshape=(None, 2),
                           chunks=(chunk, 2))
    ref.attrs["dset0"] = "/" + data_path(parent)
    ref.attrs["dset1"] = "/" + data_path(child)
    tables = [(parent, child, parent_rows, parent_chunk)]
    if child_rows is not None:
        tables.append((child, parent, child_rows, child_chunk))
    for i, (a, b, n, c) in enumerate(tables):
        region = f.create_dataset(region_path(a, b), (n,), dtype=REF_REGION, maxshape=(None,), chunks=(c,),
                                  fillvalue=np.zeros((), REF_REGION))
        region.attrs["ref"] = "/" + ref_path(parent, child)
        ref.attrs[f"ref_region{i}"] = "/" + region_path(a, b)


def regions_of(rows: np.ndarray, first: int, count: int, offset: int) -> np.ndarray:
    """The ref_region rows of objects first..first+count-1, given the object
    that each ref row (numbered from offset) mentions, in ascending order."""
    region = np.zeros(count, REF_REGION)
    objects = np.arange(first, first + count)
    start = np.searchsorted(rows, objects, side="left")
    stop = np.searchsorted(rows, objects, side="right")
    found = stop > start
    region["start"][found] = offset + start[found]
    region["stop"][found] = offset + stop[found]
    return region


# ---------------------------------------------------------------- the source

def make_source(path: str, events: int, chunk: int, seed: int) -> None:
    """A synthetic h5flow source: events, their hits and the references."""
    rng = np.random.default_rng(seed)
    ev = np.zeros(events, EVENT)
    ev["id"] = np.arange(events)
    ev["ts"] = np.cumsum(rng.exponential(1000.0, events))
    ev["nhit"] = rng.poisson(4.0, events)          # some events have no hit at all
    owner = np.repeat(np.arange(events, dtype="u4"), ev["nhit"])
    hits = np.zeros(len(owner), HIT)
    hits["id"] = np.arange(len(hits))
    hits["channel"] = rng.integers(0, CHANNELS, len(hits))
    hits["ts"] = ev["ts"][owner] + rng.uniform(0.0, 200.0, len(hits))
    hits["q"] = rng.gamma(2.0, 20.0, len(hits))
    hit_chunk = 4 * chunk
    with h5py.File(path, "w") as f:
        f.attrs["description"] = "synthetic h5flow source for examples/mpi_workflow.py"
        create_data(f, "charge/events", EVENT, events, chunk)[...] = ev
        create_data(f, "charge/hits", HIT, len(hits), hit_chunk)[...] = hits
        create_ref(f, "charge/events", "charge/hits", len(hits), hit_chunk, events, chunk, len(hits), hit_chunk)
        f[ref_path("charge/events", "charge/hits")][...] = np.stack([owner, hits["id"]], axis=1)
        f[region_path("charge/events", "charge/hits")][...] = regions_of(owner, 0, events, 0)
        f[region_path("charge/hits", "charge/events")][...] = regions_of(hits["id"], 0, len(hits), 0)


# ---------------------------------------------------------------- the workflow

EVENTS, HITS = "charge/events", "charge/hits"
RECO, CALIB = "analysis/events_reco", "analysis/hits_calib"


def create_output(path: str, source: h5py.File, source_name: str) -> None:
    """Rank 0: every output dataset at its final size, attributes, links."""
    events, hits = source[data_path(EVENTS)], source[data_path(HITS)]
    n_ev, n_hit = len(events), len(hits)
    ev_chunk, hit_chunk = events.chunks[0], hits.chunks[0]
    with h5py.File(path, "w") as f:
        f.attrs["source"] = source_name
        create_data(f, RECO, EVENT_RECO, n_ev, ev_chunk)
        create_data(f, CALIB, HIT_CALIB, n_hit, hit_chunk)
        create_ref(f, RECO, CALIB, n_hit, hit_chunk, n_ev, ev_chunk, n_hit, hit_chunk)
        create_ref(f, RECO, EVENTS, n_ev, ev_chunk, n_ev, ev_chunk)
        create_ref(f, CALIB, HITS, n_hit, hit_chunk, n_hit, hit_chunk)
        f[RECO].attrs["drift_velocity_mm_per_us"] = DRIFT_VELOCITY
        f[CALIB].attrs["pixel_pitch_mm"] = PIXEL_PITCH
        # the references name /charge/...: make that the source's /charge
        f["charge"] = h5py.ExternalLink(source_name, "/charge")


def process_chunk(source: h5py.File, out: h5py.File, first: int, stop: int) -> float:
    """Events first..stop-1 (one chunk of the source): read them and their
    hits, compute, write their rows of every output dataset.  Returns the
    chunk's total energy."""
    events = source[data_path(EVENTS)][first:stop]
    region = source[region_path(EVENTS, HITS)][first:stop]
    count = stop - first
    reco = np.zeros(count, EVENT_RECO)
    reco["id"] = events["id"]
    valid = region["start"] != region["stop"]
    if valid.any():
        refs = source[ref_path(EVENTS, HITS)][int(region["start"][valid].min()):int(region["stop"][valid].max())]
        refs = refs[(refs[:, 0] >= first) & (refs[:, 0] < stop)]
        refs = refs[np.argsort(refs[:, 1], kind="stable")]
        h0, h1 = int(refs[0, 1]), int(refs[-1, 1]) + 1
        # h5flow stores children in the order of their parents: the hits of
        # a chunk of events are one run of rows, which is what it writes
        if not np.array_equal(refs[:, 1], np.arange(h0, h1)) or np.any(np.diff(refs[:, 0].astype(np.int64)) < 0):
            raise ValueError(f"events {first}..{stop - 1}: their hits are not one run of rows in event order")
        hits = source[data_path(HITS)][h0:h1]
        local = refs[:, 0].astype(np.int64) - first        # each hit's event, within the chunk

        calib = np.zeros(len(hits), HIT_CALIB)
        calib["id"] = hits["id"]
        calib["event_id"] = events["id"][local]
        calib["x"] = (hits["channel"] % PIXELS_PER_ROW) * PIXEL_PITCH
        calib["y"] = (hits["channel"] // PIXELS_PER_ROW) * PIXEL_PITCH
        calib["z"] = (hits["ts"] - events["ts"][local]) * DRIFT_VELOCITY
        calib["E"] = hits["q"] * gain(hits["channel"])

        # per event: sums over its hits (an event without hits keeps zeros)
        nhit = np.bincount(local, minlength=count)
        energy = np.bincount(local, weights=calib["E"], minlength=count)
        has = nhit > 0
        starts = np.searchsorted(local, np.flatnonzero(has))
        reco["nhit"] = nhit
        reco["E"] = energy
        reco["x"][has] = np.bincount(local, weights=calib["x"] * calib["E"], minlength=count)[has] / energy[has]
        reco["y"][has] = np.bincount(local, weights=calib["y"] * calib["E"], minlength=count)[has] / energy[has]
        reco["z_min"][has] = np.minimum.reduceat(calib["z"], starts)
        reco["z_max"][has] = np.maximum.reduceat(calib["z"], starts)

        # row h of the event -> hit references is the one of calibrated hit h
        hit_rows = np.arange(h0, h1)
        out[data_path(CALIB)][h0:h1] = calib
        out[ref_path(RECO, CALIB)][h0:h1] = refs
        out[region_path(RECO, CALIB)][first:stop] = regions_of(refs[:, 0], first, count, h0)
        out[region_path(CALIB, RECO)][h0:h1] = regions_of(hit_rows, h0, h1 - h0, h0)
        out[ref_path(CALIB, HITS)][h0:h1] = np.stack([hit_rows, hit_rows], axis=1)
        out[region_path(CALIB, HITS)][h0:h1] = regions_of(hit_rows, h0, h1 - h0, h0)
    # (a chunk whose events have no hits writes no hit rows: they keep the fill value)
    event_rows = np.arange(first, stop)
    out[data_path(RECO)][first:stop] = reco
    out[ref_path(RECO, EVENTS)][first:stop] = np.stack([event_rows, event_rows], axis=1)
    out[region_path(RECO, EVENTS)][first:stop] = regions_of(event_rows, first, count, first)
    return float(reco["E"].sum())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="the h5flow-style source file (read)")
    parser.add_argument("output", help="the output file (created; replaced if it exists)")
    parser.add_argument("--make-source", type=int, metavar="N",
                        help="first write a synthetic source of N events to SOURCE")
    parser.add_argument("--chunk", type=int, default=1000,
                        help="rows per chunk of the synthetic source's events (hits: 4 times that)")
    parser.add_argument("--seed", type=int, default=12, help="random seed of the synthetic source")
    args = parser.parse_args(argv)

    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    began = time.perf_counter()

    # 1. rank 0 writes the source if asked, then creates every output
    #    dataset at its final size and closes the file (which flushes it);
    #    the barrier keeps everyone else out until it has.  An error on
    #    rank 0 is broadcast, so that no rank waits for it forever.
    error = None
    if rank == 0:
        try:
            if args.make_source:
                make_source(args.source, args.make_source, args.chunk, args.seed)
            with h5py.File(args.source, "r") as source:
                create_output(args.output, source, external_name(args.source))
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            print(f"rank 0: {error}", file=sys.stderr)
    if comm.bcast(error, root=0):
        return 1
    comm.Barrier()

    # 2. every rank opens both files on its own (serial h5py: no MPI-IO)
    #    and writes the rows of its chunks of the source: chunks rank,
    #    rank + size, ...  Closing the output stores what it wrote.  A rank
    #    that fails ends the whole job: the others would wait for it.
    try:
        with h5py.File(args.source, "r") as source, h5py.File(args.output, "r+") as out:
            rows = len(source[data_path(EVENTS)])
            chunk = source[data_path(EVENTS)].chunks[0]
            mine = range(rank * chunk, rows, size * chunk)
            energy = sum(process_chunk(source, out, first, min(first + chunk, rows)) for first in mine)
    except Exception:
        traceback.print_exc()
        print(f"rank {rank} failed: aborting the job", file=sys.stderr, flush=True)
        comm.Abort(1)

    # 3. all rows are written once every rank has closed the file
    totals = comm.gather((len(mine), energy), root=0)
    comm.Barrier()
    if rank == 0:
        chunks = sum(n for n, _ in totals)
        print(f"{size} rank(s) wrote {chunks} chunk(s) of {rows} events to {args.output} "
              f"in {time.perf_counter() - began:.1f} s; total energy {sum(e for _, e in totals):.6g}")
    return 0


def external_name(source: str) -> str:
    """The source's name as the output's external link names it: local
    paths absolute (links are resolved from the reader's directory), URLs
    as they are."""
    return source if "://" in source else os.path.abspath(source)


if __name__ == "__main__":
    sys.exit(main())
