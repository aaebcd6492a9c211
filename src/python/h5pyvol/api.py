"""The classes a connector author subclasses.

A connector is an :class:`H5VOL` subclass.  Files, groups and datasets are
:class:`H5File`, :class:`H5Group` and :class:`H5Dataset` objects.  The base
classes keep the hierarchy (links, names) in memory, so the smallest useful
connector only says how a dataset stores its elements::

    class MyDataset(h5pyvol.H5Dataset):
        def read(self, selection): ...           # -> numpy array, selection.mshape
        def write(self, selection, data): ...

    class MyVOL(h5pyvol.H5VOL):
        dataset_class = MyDataset

Contract for every method: raise ordinary Python exceptions.  ``KeyError``
for a missing name, ``FileNotFoundError``/``FileExistsError`` for files,
``PermissionError`` for writes to a read-only file, ``NotImplementedError``
for what the connector does not do.  The bridge turns them into HDF5 errors
(see ``errors.py``); the HDF5 call fails, the host keeps running.
"""
from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass, field
from typing import Collection, Iterator, Optional

import numpy as np

from .errors import NameExistsError
from .selection import Selection

_tokens = itertools.count(1)


def element_base(dtype: np.dtype) -> np.dtype:
    """The dtype numpy arrays of ``dtype`` really hold: an array type's base
    (numpy spreads its dims into the array's shape)."""
    return dtype.subdtype[0] if dtype.subdtype else dtype


def new_token() -> bytes:
    """A process-unique 16-byte HDF5 object token."""
    return struct.pack("<QQ", next(_tokens), 0)


@dataclass
class DatasetCreation:
    """What H5Dcreate's creation property list says, as plain values."""
    layout: str = "contiguous"               # "contiguous", "chunked", "compact", "virtual"
    chunks: Optional[tuple] = None
    fillvalue: Optional[bytes] = None        # one element of the dataset's type, or None
    filters: list = field(default_factory=list)  # [(filter_id, flags, (cd_values...)), ...]
    dcpl: Optional[bytes] = None             # the whole list, H5Pencode2'd, for H5Dget_create_plist
    alloc_time: str = "late"                 # "early": storage for every element at creation (H5Pset_alloc_time)


@dataclass(frozen=True)
class SoftLink:
    """A link by path; it may dangle."""
    path: str


@dataclass(frozen=True)
class ExternalLink:
    """A link to an object in another file (opened through the same connector)."""
    filename: str
    path: str


class H5Attribute:
    """An attribute: a small array of ``dtype`` and ``shape`` attached to an
    object, always read and written whole.  The default keeps it in numpy."""

    kind = "attribute"

    def __init__(self, name: str, *, dtype: np.dtype, shape: Optional[tuple], type_spec=None,
                 acpl: Optional[bytes] = None, owner: Optional["H5Object"] = None):
        self.name = name
        self.dtype = np.dtype(dtype)
        self.shape = tuple(shape) if shape is not None else None
        self.type_spec = type_spec
        self.acpl = acpl
        self.owner = owner
        self.data = np.zeros(self.shape or (), dtype=self.dtype) if self.shape is not None else None

    @property
    def file(self):
        return self.owner.file if self.owner is not None else None

    def read(self) -> np.ndarray:
        return self.data

    def write(self, data: np.ndarray) -> None:
        self.data = np.array(data, dtype=element_base(self.dtype)).reshape((self.shape or ()) + self.dtype.shape)

    def storage_size(self) -> int:
        return 0 if self.shape is None else int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize

    def close(self) -> None:
        """Called when HDF5 closes the last handle to this attribute."""


@dataclass(frozen=True)
class UserLink:
    """A user-defined link (H5Lcreate_ud): its type (>= 65) and its bytes.
    Kept and listed; H5PyVOL cannot traverse it."""
    type: int
    value: bytes


class _InitialState:
    """Instance state a base class keeps, made on first use.

    Each class lists its state in ``_initial_state`` (name -> function of the
    instance giving the starting value).  A subclass whose ``__init__`` skips
    ``super().__init__()`` -- as the original H5PyVOL's examples do -- gets
    that state when it is first needed instead of an AttributeError deep in
    the bridge.  ``__getattr__`` only runs for names normal lookup misses, so
    this costs nothing once the state exists."""

    _initial_state: dict = {}

    def __getattr__(self, attr):
        for cls in type(self).__mro__:
            initial = cls.__dict__.get("_initial_state", {}).get(attr)
            if initial is not None:
                value = initial(self)
                self.__dict__[attr] = value  # bypasses change tracking: nothing changed yet
                return value
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {attr!r}")


class H5Object(_InitialState):
    """Something HDF5 hands out a handle for; it may carry attributes.

    Attributes live in ``self.attributes`` (a dict in creation order) unless
    a subclass overrides the ``*_attribute`` methods.
    """

    kind = "object"
    attribute_class = H5Attribute
    _initial_state = {"name": lambda self: None, "file": lambda self: None, "token": lambda self: new_token(),
                      "attributes": lambda self: {}, "next_attribute_corder": lambda self: 0}

    def __init__(self, name: Optional[str] = None, *args, **kwargs):
        self.name = name           # absolute path in its file, e.g. "/grp/data"
        self.file: Optional["H5File"] = kwargs.get("file")
        self.token = new_token()
        self.attributes: dict[str, H5Attribute] = {}
        self.next_attribute_corder = 0  # HDF5 never reuses a creation-order index

    # -- attributes ----------------------------------------------------------------
    def create_attribute(self, name: str, *, dtype: np.dtype, shape: Optional[tuple], type_spec=None,
                         acpl: Optional[bytes] = None) -> H5Attribute:
        """Creates attribute ``name``; NameExistsError if there is one."""
        if name in self.attributes:
            raise NameExistsError(f"attribute {name!r} already exists")
        attr = self.attribute_class(name, dtype=dtype, shape=shape, type_spec=type_spec, acpl=acpl, owner=self)
        attr.corder = self.next_attribute_corder
        self.next_attribute_corder += 1
        self.attributes[name] = attr
        return attr

    def get_attribute(self, name: str) -> H5Attribute:
        """The attribute called ``name``; KeyError if there is none."""
        try:
            return self.attributes[name]
        except KeyError:
            raise KeyError(f"attribute {name!r} doesn't exist") from None

    def attribute_names(self) -> list[str]:
        """Attribute names in creation order."""
        return list(self.attributes)

    def delete_attribute(self, name: str) -> None:
        self.get_attribute(name)
        del self.attributes[name]
        if not self.attributes:  # as HDF5 does, creation indexes start anew
            self.next_attribute_corder = 0

    def rename_attribute(self, old: str, new: str) -> None:
        if new in self.attributes:
            raise NameExistsError(f"attribute {new!r} already exists")
        attr = self.get_attribute(old)
        attr.name = new
        # keep creation order: rebuild the dict with the new key in place
        self.attributes = {(new if k == old else k): v for k, v in self.attributes.items()}

    def flush(self) -> None:
        """Make what was written durable.  Default: nothing to do."""

    def refresh(self) -> None:
        """Re-read state another process may have changed.  Default: nothing."""

    def close(self) -> None:
        """Called when HDF5 closes the last handle to this object."""


class H5Group(H5Object):
    """A group: named links to other objects, in creation order.

    Override :meth:`create_group`, :meth:`create_dataset`, :meth:`get`,
    :meth:`names` and :meth:`unlink` to keep the hierarchy elsewhere; the
    defaults keep it in a dict.
    """

    kind = "group"
    _initial_state = {"links": lambda self: {}, "link_corder": lambda self: {}, "next_link_corder": lambda self: 0,
                      "gcpl": lambda self: None, "link_storage": lambda self: None}

    def __init__(self, name: Optional[str] = None, *args, **kwargs):
        super().__init__(name, *args, **kwargs)
        self.links: dict[str, H5Object] = {}
        self.link_corder: dict[str, int] = {}
        self.next_link_corder = 0  # HDF5 never reuses a creation-order index
        self.gcpl: Optional[bytes] = kwargs.get("gcpl")

    # -- what connectors override ----------------------------------------------
    def create_group(self, name: str) -> "H5Group":
        """Creates and links a group called ``name`` (one path component)."""
        group = self.vol.group_class(self._child_path(name), file=self.file)
        self.link(name, group)
        return group

    def create_dataset(self, name: str, *, dtype: np.dtype, shape: tuple, maxshape: tuple,
                       creation: DatasetCreation, type_spec: Optional[tuple] = None) -> "H5Dataset":
        """Creates and links a dataset called ``name`` (one path component).

        ``type_spec`` is the exact HDF5 datatype (see types.py); ``dtype`` is
        its numpy form."""
        dataset = self.vol.dataset_class(self._child_path(name), file=self.file, dtype=dtype,
                                         shape=shape, maxshape=maxshape, creation=creation, type_spec=type_spec)
        self.link(name, dataset)
        return dataset

    def commit_datatype(self, name: str, *, type_spec: tuple, tcpl: Optional[bytes] = None) -> "H5Datatype":
        """Stores a named datatype as ``name`` (one path component)."""
        datatype = self.vol.datatype_class(self._child_path(name), file=self.file, type_spec=type_spec, tcpl=tcpl)
        self.link(name, datatype)
        return datatype

    def get(self, name: str) -> "H5Object | SoftLink | ExternalLink":
        """What is linked as ``name``: an object for a hard link, or the
        SoftLink/ExternalLink itself.  KeyError if there is none."""
        return self.links[name]

    def names(self) -> Iterator[str]:
        """Link names in creation order."""
        return iter(list(self.links))

    def link(self, name: str, obj: "H5Object | SoftLink | ExternalLink") -> None:
        """Adds a link (an object: a hard link); NameExistsError if the name is taken."""
        if name in self.links:
            raise NameExistsError(f"name already exists: {name!r}")
        self.links[name] = obj
        self.link_corder[name] = self.next_link_corder
        self.next_link_corder += 1
        if isinstance(obj, H5Object):
            obj.hard_links = getattr(obj, "hard_links", 0) + 1
        self.links_counted(len(self.links))

    def unlink(self, name: str) -> None:
        obj = self.links.pop(name)
        if isinstance(obj, H5Object):
            obj.hard_links = getattr(obj, "hard_links", 1) - 1
        self.link_corder.pop(name, None)
        if not self.links:  # as HDF5 does, an emptied group starts counting anew
            self.next_link_corder = 0
        self.links_counted(len(self.links))

    def links_counted(self, count: int) -> None:
        """Follows HDF5's link storage phases (H5Gget_info's storage_type) as
        the group's link count changes: compact up to max_compact links,
        dense beyond, compact again below min_dense (H5Pset_link_phase_change).
        Groups of the earliest file format keep a symbol table.  Connectors
        that override ``link``/``unlink`` call this with the new count."""
        storage = self.link_storage
        if not storage or storage[0] == "symbol_table":
            return
        kind, max_compact, min_dense = storage
        if kind == "compact" and count > max_compact:
            kind = "dense"
        elif kind == "dense" and count < min_dense:
            kind = "compact"
        if kind != storage[0]:
            self.link_storage = [kind, max_compact, min_dense]  # assigned: stores track changes by assignment

    def creation_order(self, name: str) -> int:
        """The creation-order index of link ``name`` (-1: not tracked)."""
        return self.link_corder.get(name, -1)

    # -- helpers ----------------------------------------------------------------
    @property
    def vol(self) -> "H5VOL":
        return self.file.vol

    def _child_path(self, name: str) -> str:
        return ("" if self.name in (None, "/") else self.name) + "/" + name


class H5Datatype(H5Object):
    """A committed (named) datatype: an HDF5 datatype stored as an object."""

    kind = "datatype"
    _initial_state = {"type_spec": lambda self: None, "tcpl": lambda self: None}

    def __init__(self, name: Optional[str] = None, *args, **kwargs):
        super().__init__(name, *args, **kwargs)
        self.type_spec: tuple = kwargs.get("type_spec")
        self.tcpl: Optional[bytes] = kwargs.get("tcpl")

    @property
    def dtype(self) -> np.dtype:
        from .types import dtype_from_spec
        return dtype_from_spec(self.type_spec)


class H5File(H5Group):
    """A file; it is also its root group, named "/".

    ``mode`` is ``"r"`` or ``"r+"`` for opened files, ``"w"`` or ``"w-"`` for
    created ones.
    """

    kind = "file"
    vol: "H5VOL" = None  # a plain attribute here (groups look it up through their file)
    _initial_state = {"file": lambda self: self, "filename": lambda self: None, "mode": lambda self: "r+",
                      "fcpl": lambda self: None}

    def __init__(self, name: Optional[str] = None, *args, **kwargs):
        super().__init__("/", *args, **kwargs)
        self.filename = name
        self.file = self
        self.vol = kwargs.get("vol")
        self.mode = kwargs.get("mode", "r+")
        self.fcpl: Optional[bytes] = kwargs.get("fcpl")  # H5Fget_create_plist returns it

    @property
    def writable(self) -> bool:
        return self.mode != "r"

    @property
    def swmr_reader(self) -> bool:
        """Opened for SWMR reading (H5F_ACC_SWMR_READ, h5py's ``swmr=True``):
        such a reader expects to see another process's writes as they land."""
        state = self.__dict__.get("_h5pyvol_state")  # the dispatcher's record of the open handles
        return state is not None and bool(state.intent & 0x0040)

    def _child_path(self, name: str) -> str:
        return "/" + name  # the root group is "/" whatever a subclass calls its file

    def size(self) -> int:
        """H5Fget_filesize: bytes the file's storage holds.  Default: the
        elements and attributes of every object reachable from the root."""
        total, seen, todo = 0, set(), [self]
        while todo:
            obj = todo.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            total += sum(obj.get_attribute(a).storage_size() for a in obj.attribute_names())
            if isinstance(obj, H5Dataset):
                total += obj.storage_size()
            elif isinstance(obj, H5Group):
                todo.extend(t for t in (obj.get(n) for n in obj.names()) if isinstance(t, H5Object))
        return total


class H5Dataset(H5Object):
    """A dataset: an n-dimensional array of ``dtype`` with extent ``shape``.

    Subclasses implement :meth:`read` and :meth:`write`; everything else has
    a default.  Data handed to :meth:`write` is a view of HDF5's buffer that
    is only valid during the call: copy what you keep.
    """

    kind = "dataset"
    _initial_state = {"dtype": lambda self: np.dtype("f8"), "shape": lambda self: None,
                      "maxshape": lambda self: self.shape, "creation": lambda self: DatasetCreation(),
                      "type_spec": lambda self: None}

    def __init__(self, name: Optional[str] = None, *args, **kwargs):
        super().__init__(name, *args, **kwargs)
        self.dtype: np.dtype = np.dtype(kwargs.get("dtype", "f8"))
        # None: HDF5's null dataspace (no elements at all, h5py.Empty)
        self.shape: Optional[tuple] = tuple(kwargs["shape"]) if kwargs.get("shape") is not None else None
        maxshape = kwargs.get("maxshape")
        self.maxshape: Optional[tuple] = tuple(maxshape) if maxshape is not None else self.shape
        self.creation: DatasetCreation = kwargs.get("creation") or DatasetCreation()
        # the exact HDF5 datatype it was created with (None: derived from dtype)
        self.type_spec: Optional[tuple] = kwargs.get("type_spec")

    def read(self, selection: Selection) -> np.ndarray:
        """The selected elements, shaped ``selection.mshape``, of ``self.dtype``."""
        raise NotImplementedError(f"{type(self).__name__}.read")

    def write(self, selection: Selection, data: np.ndarray) -> None:
        """Stores ``data`` (shaped ``selection.mshape``) at the selection."""
        raise NotImplementedError(f"{type(self).__name__}.write")

    def read_into(self, selection: Selection, out: np.ndarray) -> None:
        """Fills ``out`` (shaped ``selection.mshape``); override to avoid a copy."""
        out[...] = np.asarray(self.read(selection), dtype=element_base(self.dtype)).reshape(out.shape)

    def allocate(self) -> None:
        """H5D_ALLOC_TIME_EARLY: make storage for every element now, holding
        the fill value, so that H5Dget_space_status and H5Dget_storage_size
        answer as natively before any write.  Called after creation and
        after every extent change of such a dataset.  Default: nothing."""

    def resize(self, shape: tuple) -> None:
        """H5Dset_extent.  Default: refuse."""
        raise NotImplementedError(f"{type(self).__name__} cannot change its extent")

    def storage_size(self) -> int:
        """Bytes of storage the data takes (H5Dget_storage_size)."""
        if self.shape is None:
            return 0
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize

    def fill_value(self):
        """One element holding the fill value, or None when it is undefined."""
        fill = self.creation.fillvalue
        if fill is None:
            return None
        if isinstance(fill, bytes) and not self.dtype.hasobject:
            return np.frombuffer(fill, dtype=self.dtype)[0]
        from .types import decode_element, spec_from_dtype
        spec = self.type_spec or spec_from_dtype(self.dtype)
        return decode_element(spec, fill)  # variable-length types: a Python value

    def fill_array(self) -> np.ndarray:
        """A new array of the dataset's extent holding its fill value."""
        array = np.zeros(self.shape or (), dtype=self.dtype)
        fill = self.fill_value()
        if fill is not None:
            if self.dtype.hasobject:
                flat = array.reshape(-1)
                for i in range(flat.size):
                    flat[i] = fill
            else:
                array[...] = fill
        elif self.dtype.hasobject and self.dtype.fields is None:
            array.fill(None)
        return array


class ArrayDataset(H5Dataset):
    """A dataset that keeps its elements in one numpy array, made at the
    first write (like HDF5's late allocation: a huge dataset nobody writes
    costs nothing, and reads before then see the fill value)."""

    _initial_state = {"_data": lambda self: None}

    def __init__(self, name: Optional[str] = None, *args, **kwargs):
        super().__init__(name, *args, **kwargs)
        self._data: Optional[np.ndarray] = None
        if self.creation.layout == "compact":  # compact data lives in the header: allocated at once
            self._allocate()

    def _allocate(self) -> np.ndarray:
        if self._data is None and self.shape is not None:
            self._data = self.fill_array()
        return self._data

    def allocate(self) -> None:
        self._allocate()

    @property
    def data(self) -> Optional[np.ndarray]:
        return self._allocate()

    def read_into(self, selection: Selection, out: np.ndarray) -> None:
        if self._data is None and not self.dtype.hasobject:
            fill = self.fill_value()
            out[...] = 0 if fill is None else fill
            return
        out[...] = selection.read_from(self.data).reshape(out.shape)

    def storage_size(self) -> int:
        return super().storage_size() if self._data is not None else 0

    def read(self, selection: Selection) -> np.ndarray:
        return selection.read_from(self.data).copy()

    def write(self, selection: Selection, data: np.ndarray) -> None:
        selection.write_into(self._allocate(), data)

    def resize(self, shape: tuple) -> None:
        if self.creation.layout != "chunked":
            raise ValueError(f"only chunked datasets can change extent ({self.name!r} is {self.creation.layout})")
        for new, limit in zip(shape, self.maxshape):
            if limit is not None and new > limit:
                raise ValueError(f"extent {shape} exceeds the maximum {self.maxshape}")
        old = self._data
        self.shape = tuple(shape)
        self._data = None
        if old is not None:
            common = tuple(slice(0, min(a, b)) for a, b in zip(old.shape, self.shape))
            self._allocate()[common] = old[common]


class H5VOL(_InitialState):
    """A connector.  One instance per distinct connector configuration.

    The constructor receives the ``key=value`` pairs of the connector info
    string as keyword arguments (values are strings).  The default file
    methods keep files in ``self.files`` for the life of the process.
    """

    _initial_state = {"options": lambda self: {}, "files": lambda self: {}}

    file_class = H5File
    group_class = H5Group
    datatype_class = H5Datatype
    dataset_class: type = ArrayDataset

    def __init__(self, **options):
        self.options = options
        self.files: dict[str, H5File] = {}

    #: the connector-info keys this connector takes; None takes any (they
    #: all reach ``__init__``).  A list makes any other key an error that
    #: names the valid ones, so that a typo is never silently ignored.
    OPTIONS: Optional[tuple] = None

    @classmethod
    def accepted_options(cls) -> Optional[Collection[str]]:
        """The keys of ``OPTIONS``; a connector whose keys depend on what is
        installed (the store's backends) overrides it."""
        return cls.OPTIONS

    def create_file(self, name: str, mode: str) -> H5File:
        """``mode`` is "w" (truncate) or "w-" (fail if it exists)."""
        if mode == "w-" and name in self.files:
            raise FileExistsError(f"unable to create file: {name!r} exists")
        f = self.file_class(name, vol=self, mode="r+")
        self.files[name] = f
        return f

    def open_file(self, name: str, mode: str) -> H5File:
        """``mode`` is "r" or "r+"; FileNotFoundError if there is no such file."""
        try:
            f = self.files[name]
        except KeyError:
            raise FileNotFoundError(f"unable to open file: {name!r} does not exist") from None
        f.mode = mode
        return f

    def file_exists(self, name: str) -> bool:
        """H5Fis_accessible."""
        return name in self.files

    def delete_file(self, name: str) -> None:
        """H5Fdelete."""
        try:
            del self.files[name]
        except KeyError:
            raise FileNotFoundError(f"unable to delete file: {name!r} does not exist") from None

    def terminate(self) -> None:
        """HDF5 is shutting down: flush what is still open."""
