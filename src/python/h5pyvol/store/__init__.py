"""HDF5 over Zarr v3 on key-value stores: the default H5PyVOL connector."""
from .connector import StoreVOL
from .kv import DirectoryKV, KVStore, MemoryKV
from .routing import register_scheme

__all__ = ["StoreVOL", "KVStore", "MemoryKV", "DirectoryKV", "register_scheme"]
