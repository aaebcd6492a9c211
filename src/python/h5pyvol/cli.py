"""``h5pyvol``: the command-line tools (also ``python -m h5pyvol``).

Exit codes: 0 done; 1 ``check`` found problems, or ``rm`` was answered no;
2 a usage error, or a name that is not what the command needs (missing, not
an HDF5 file, not an H5PyVOL file, a destination that exists); 3 the work
failed (an I/O, server or HDF5 error); 130 interrupted.  Errors are one line
on stderr; ``--debug`` prints the traceback as well.
"""
from __future__ import annotations

import argparse
import os
import shlex
import sys
import traceback

from . import registry
from .errors import ConnectorConfigError
from .paths import hdf5_prefix, plugin_dir

EXIT_OK, EXIT_FOUND, EXIT_USAGE, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

NAMES = """File names: a native HDF5 file (a path to one, or a new path ending in
.h5/.hdf5/.he5/.hdf/.nc/.nc4), a directory store (a directory, any other new
path, or file:///path), s3://bucket/key, rados://pool/namespace, mem://name
(this process only), or a zip archive (archive.zip, zip://archive.zip; read
only).  --from/--to store|native decide instead where a name is ambiguous."""


# ------------------------------------------------------------------- env


def connector_setting(name: str | None) -> str:
    """The HDF5_VOL_CONNECTOR value for a connector name."""
    if not name:
        return "H5PyVOL"
    module, cls = registry.resolve_name(name)
    if name in registry.BUILTIN:
        return f"H5PyVOL connector={name}"
    return f"H5PyVOL module={module} class={cls}"


def _prepend(var: str, value: str) -> str:
    old = os.environ.get(var)
    parts = [value] + [p for p in (old.split(os.pathsep) if old else []) if p != value]
    return os.pathsep.join(parts)


def env_lines(name: str | None) -> list[str]:
    prefix = hdf5_prefix()
    values = {
        "HDF5_PLUGIN_PATH": plugin_dir(),
        "HDF5_VOL_CONNECTOR": connector_setting(name),
    }
    # an HDF5 built from source has its tools and library there; a build
    # against the h5py wheel's library has neither (its rpath finds the library)
    for var, sub in (("PATH", "bin"), ("LD_LIBRARY_PATH", "lib")):
        if os.path.isdir(os.path.join(prefix, sub)):
            values[var] = _prepend(var, os.path.join(prefix, sub))
    return [f"export {k}={shlex.quote(v)}" for k, v in values.items()]


def _env(args) -> int:
    print("\n".join(env_lines(args.connector)))
    return EXIT_OK


# -------------------------------------------------------------- commands


def _copy(args) -> int:
    from .tools.copy import copy
    summary = copy(args.src, args.dst, progress=not args.quiet, jobs=args.jobs, overwrite=args.overwrite,
                   src_format=args.from_, dst_format=args.to)
    if not args.quiet:
        print(f"copied {args.src} -> {args.dst}: {summary.line()}", file=sys.stderr)
    return EXIT_OK


def _pack(args) -> int:
    from .tools.archive import pack
    summary = pack(args.file, args.archive, progress=not args.quiet, overwrite=args.overwrite)
    if not args.quiet:
        print(f"packed {args.file} into {args.archive}: {summary.pieces} keys, {summary.bytes} bytes, "
              f"{summary.seconds:.1f} s", file=sys.stderr)
    return EXIT_OK


def _unpack(args) -> int:
    from .tools.archive import unpack
    summary = unpack(args.archive, args.dst, progress=not args.quiet, overwrite=args.overwrite, jobs=args.jobs,
                     dst_format=args.to)
    if not args.quiet:
        print(f"unpacked {args.archive} into {args.dst}: {summary.line()}", file=sys.stderr)
    return EXIT_OK


def _ls(args) -> int:
    from .tools.inspect import ls_lines
    for line in ls_lines(args.file, recursive=args.recursive):
        print(line)
    return EXIT_OK


def _info(args) -> int:
    from .tools.inspect import info
    print("\n".join(info(args.file).lines(verbose=args.verbose)))
    return EXIT_OK


def _check(args) -> int:
    from .tools.inspect import check
    report = check(args.file)
    for problem in report.problems:
        print(problem.line())
    summary = (f"{args.file}: {report.objects} objects, {report.attributes} attributes, {report.pieces} "
               f"chunks/slabs read" + (f", {report.keys} keys" if report.keys else "") +
               f"; {len(report.problems)} problems")
    if report.unreferenced:
        summary += f"; {len(report.unreferenced)} keys no link reaches (left by failed writers; harmless)"
        if args.verbose:
            for key in report.unreferenced:
                print(f"unreferenced: {key}")
    print(summary)
    return EXIT_FOUND if report.problems else EXIT_OK


def _rm(args) -> int:
    from .tools.remove import remove

    def ask(description: str) -> bool:
        if args.yes:
            return True
        if not sys.stdin.isatty():
            raise _Usage(f"not removing {args.file} ({description}) without -y: stdin is not a terminal to ask on")
        answer = input(f"remove {args.file} ({description})? [y/N] ")
        return answer.strip().lower() in ("y", "yes")

    return EXIT_OK if remove(args.file, confirm=ask) else EXIT_FOUND


def _rechunk(args) -> int:
    from .tools.rechunk import rechunk
    chunks = tuple(int(c) for c in args.chunks.split(","))
    summary = rechunk(args.file, args.dataset, chunks, progress=not args.quiet)
    if not args.quiet:
        print(f"rechunked {args.dataset} in {args.file} to {chunks}: {summary.line()}", file=sys.stderr)
    return EXIT_OK


class _Usage(Exception):
    pass


# ---------------------------------------------------------------- parser


def _jobs(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _chunks(text: str) -> str:
    try:
        if not all(int(c) > 0 for c in text.split(",")):
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError("a comma-separated list of positive integers, such as 100,100") from None
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="h5pyvol", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=NAMES)
    parser.add_argument("--debug", action="store_true", help="print the traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, func, help_text, description=None):
        p = sub.add_parser(name, help=help_text, description=description or help_text, epilog=NAMES,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.set_defaults(func=func)
        p.add_argument("--debug", action="store_true", help="print the traceback of an error")
        return p

    p = command("env", _env, "print export lines that make HDF5 programs in a shell use H5PyVOL",
                'Use as eval "$(h5pyvol env)".')
    p.add_argument("connector", nargs="?", help="memory, python:module:Class, ... (default: the store connector)")

    p = command("copy", _copy, "copy an HDF5 file between any two connectors",
                "Copies every group, dataset, committed type, link and attribute with their property lists "
                "(chunking, filters, fill values, creation order).  Running it again after an interruption "
                "moves only what DST lacks; a DST that is not a copy of SRC is refused without --overwrite.")
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("-j", "--jobs", type=_jobs, default=1, help="worker processes moving chunks (default 1)")
    p.add_argument("--overwrite", action="store_true", help="replace DST if it exists")
    p.add_argument("--from", dest="from_", choices=("native", "store"), help="what SRC is, where ambiguous")
    p.add_argument("--to", choices=("native", "store"), help="what DST is to be, where ambiguous")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no summary")

    p = command("pack", _pack, "write an HDF5 file into one zip archive (a Zarr zip store)",
                "zarr-python's ZipStore opens the archive, and H5PyVOL opens it read-only by its name.")
    p.add_argument("file")
    p.add_argument("archive", help="ARCHIVE.zip")
    p.add_argument("--overwrite", action="store_true", help="replace ARCHIVE if it exists")
    p.add_argument("-q", "--quiet", action="store_true")

    p = command("unpack", _unpack, "make a writable HDF5 file of a zip archive",
                "Into a store, an interrupted unpack is completed by running it again.")
    p.add_argument("archive")
    p.add_argument("dst")
    p.add_argument("-j", "--jobs", type=_jobs, default=8, help="concurrent key transfers (default 8)")
    p.add_argument("--overwrite", action="store_true", help="replace DST if it exists")
    p.add_argument("--to", choices=("native", "store"), help="what DST is to be, where ambiguous")
    p.add_argument("-q", "--quiet", action="store_true")

    p = command("ls", _ls, "list a group's members, as h5ls does")
    p.add_argument("-r", "--recursive", action="store_true", help="every object, by full path")
    p.add_argument("file")

    p = command("info", _info, "what a file holds: objects, bytes, chunks, backend")
    p.add_argument("-v", "--verbose", action="store_true", help="a line per dataset")
    p.add_argument("file")

    p = command("rm", _rm, "delete an H5PyVOL file (a store or an archive)",
                "Asks first unless -y.  Refuses a native HDF5 file and anything H5PyVOL did not write.")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask")
    p.add_argument("file")

    p = command("rechunk", _rechunk, "give a dataset of an H5PyVOL file new chunk dimensions",
                "Atomic for readers: they see the old layout or the new one, never a mix (one that read the old "
                "layout and reads after the swap gets an error telling it to refresh).  No other process may "
                "write the dataset meanwhile.")
    p.add_argument("file")
    p.add_argument("dataset", help="its path, such as /group/data")
    p.add_argument("--chunks", required=True, type=_chunks, help="new chunk dimensions, such as 100,100")
    p.add_argument("-q", "--quiet", action="store_true")

    p = command("check", _check, "read every node, attribute and chunk; report what is missing or corrupt",
                "Exit code 1 when something is.")
    p.add_argument("-v", "--verbose", action="store_true", help="list the keys no link reaches")
    p.add_argument("file")
    return parser


def _usage_errors() -> tuple:
    from .errors import H5PyVOLError
    from .files import NotAnHDF5File
    from .tools.copy import CopyError
    from .tools.remove import NotAnH5PyVOLFile
    return (_Usage, FileNotFoundError, FileExistsError, NotAnHDF5File, NotAnH5PyVOLFile, CopyError,
            ConnectorConfigError, IsADirectoryError, NotADirectoryError, H5PyVOLError)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # output piped into head and the like
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print(f"h5pyvol {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # one clear line: the tools' users are not debugging them
        if args.debug:
            traceback.print_exc()
        message = str(exc) or type(exc).__name__
        print(f"h5pyvol {args.command}: {message}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, _usage_errors()) else EXIT_FAILED
