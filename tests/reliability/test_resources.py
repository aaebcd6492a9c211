"""Resources over many cycles: 10,000 opens and closes of a file, a
dataset and an attribute (read each time) leave the process's memory
within 5 MB of where it was after the first 1,000, and HDF5's count of
open ids where it was before the first (h5py keeps 30 datatypes of its
own: natively too)."""
from __future__ import annotations

import json

import pytest

CYCLES = r"""
import json, sys, h5py, numpy as np

def rss_kib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))

def open_ids():
    return h5py.h5f.get_obj_count(h5py.h5f.OBJ_ALL, h5py.h5f.OBJ_ALL)

name, cycles = sys.argv[1], int(sys.argv[2])
ids_at_start = open_ids()  # h5py's own datatypes, made at import
with h5py.File(name, "w") as f:
    f.create_dataset("d", data=np.arange(1000.0), chunks=(100,))
    f["d"].attrs["unit"] = "m"
def cycle():
    with h5py.File(name, "r") as f:
        d = f["d"]
        assert d[5] == 5.0 and d.attrs["unit"] == "m"
        d.id.close()  # the dataset's own id, as a C program closes it
for _ in range(1000):
    cycle()
before = rss_kib()
for _ in range(cycles):
    cycle()
after = rss_kib()
print(json.dumps({"before_kib": before, "after_kib": after, "ids_at_start": ids_at_start,
                  "ids_at_end": open_ids()}))
"""


@pytest.mark.parametrize("connector, name", [("H5PyVOL", "cycled.h5"), ("H5PyVOL connector=memory", "mem.h5"),
                                             (None, "native.h5")], ids=["store", "memory", "native"])
def test_ten_thousand_open_close_cycles_leak_nothing(run_py, connector, name):
    result = run_py(CYCLES, name, "10000", connector=connector)
    assert result.returncode == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"\n[resources] {connector or 'native'}: {figures}")
    growth_mib = (figures["after_kib"] - figures["before_kib"]) / 1024
    assert growth_mib < 5, f"RSS grew {growth_mib:.1f} MiB over 10,000 cycles: {figures}"
    assert figures["ids_at_end"] == figures["ids_at_start"], figures
