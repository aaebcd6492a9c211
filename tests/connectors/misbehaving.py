"""Connectors that fail on purpose, for the error-path tests."""
import numpy as np

from h5pyvol import ArrayDataset, H5File, H5Group, H5VOL


class RefusingDataset(ArrayDataset):
    """Refuses writes to datasets named "bad", like a full disk would."""

    def write(self, selection, data):
        if self.name.endswith("/bad"):
            raise RuntimeError("disk on fire while writing " + self.name)
        super().write(selection, data)


class RefusingVOL(H5VOL):
    dataset_class = RefusingDataset


class FixedSizeDataset(ArrayDataset):
    def resize(self, shape):
        raise NotImplementedError("this store cannot resize datasets")


class FixedSizeVOL(H5VOL):
    dataset_class = FixedSizeDataset


class KeepingDataset(ArrayDataset):
    """Keeps a view of HDF5's buffer instead of a copy: a classic mistake."""

    def write(self, selection, data):
        self.kept = data
        super().write(selection, data)


class KeepingVOL(H5VOL):
    dataset_class = KeepingDataset


class FailingInitVOL(H5VOL):
    def __init__(self, **options):
        raise ValueError(f"bad options {sorted(options)}")


class OptionsVOL(H5VOL):
    """Records its constructor's keyword arguments in every file's name."""

    def create_file(self, name, mode):
        f = super().create_file(name, mode)
        f.filename = name + "?" + "&".join(f"{k}={v}" for k, v in sorted(self.options.items()))
        return f


class UnlistableGroup(H5Group):
    def names(self):
        raise OSError("listing failed: connection reset")


class UnlistableFile(H5File, UnlistableGroup):
    pass


class UnlistableVOL(H5VOL):
    file_class = UnlistableFile
    group_class = UnlistableGroup


class NotAConnector:
    pass


__all__ = ["np"]
