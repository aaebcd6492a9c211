"""An ordinary h5py script reading the file examples/c_app.c wrote.

Usage: python h5py_read_c.py FILE
"""
import sys

import h5py

with h5py.File(sys.argv[1], "r") as f:
    grid = f["grid"][...]
    temperature = f["sensors/temperature"]
    print(f"h5py_read_c: {sys.argv[1]} written by the C program: grid {grid.shape} "
          f"grid[3][5] = {grid[3, 5]}, sensors/temperature = {temperature[...].tolist()}")
