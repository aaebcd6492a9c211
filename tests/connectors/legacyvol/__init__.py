"""A connector in the original H5PyVOL style: methods named after the VOL
callbacks, raw HDF5 identifiers, constructors that take a name."""
import os

import numpy as np

from h5pyvol import H5Dataset, H5File, H5VOL


class LegacyDataset(H5Dataset):
    def __init__(self, name):
        super().__init__(name)
        self.buffer = None

    def H5VL_python_dataset_write(self, mem_type_id, mem_space_id, file_space_id, xfer_plist_id, buffer, req):
        self.buffer = np.array(buffer, copy=True)
        with open(os.path.join(os.getcwd(), "legacy-writes.log"), "a") as log:
            log.write(f"{self.name.lstrip('/')}:{self.buffer.size}\n")
        return 1

    def H5VL_python_dataset_read(self, mem_type_id, mem_space_id, file_space_id, xfer_plist_id, req):
        return self.buffer


class LegacyFile(H5File):
    def __init__(self, name):
        super().__init__(name)
        self.datasets = {}

    def H5VL_python_dataset_create(self, loc_params, name, gcpl_id, gapl_id, dxpl_id, req):
        dataset = LegacyDataset(name)
        self.datasets[name] = dataset
        return dataset


class LegacyVOL(H5VOL):
    def H5VL_python_file_create(self, name, flags, fcpl_id, fapl_id, dxpl_id, req):
        return LegacyFile(name)
