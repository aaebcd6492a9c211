"""An ordinary h5py script: nothing in it knows about H5PyVOL.

Usage: python h5py_app.py FILE
"""
import sys

import h5py
import numpy as np

path = sys.argv[1] if len(sys.argv) > 1 else "h5py_app.h5"

with h5py.File(path, "w") as f:
    f.create_dataset("ramp", data=np.arange(12, dtype="f4").reshape(3, 4))
    grp = f.create_group("run/1")
    grp.create_dataset("counts", data=np.array([3, 1, 4, 1, 5, 9], dtype="i8"))
    grp["counts"][2:4] = [40, 10]

with h5py.File(path, "r") as f:
    ramp = f["ramp"][...]
    counts = f["run/1/counts"][()]
    print(f"h5py_app: {path}: ramp {ramp.shape} sum={ramp.sum():g}, run/1/counts={counts.tolist()}, "
          f"row 1 of ramp={f['ramp'][1].tolist()}")
    assert ramp[2, 3] == 11 and counts.tolist() == [3, 1, 40, 10, 5, 9]
