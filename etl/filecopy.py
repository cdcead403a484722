"""Copy a warehouse file, sharing its blocks where the filesystem can.

Every change to the warehouse is written into a copy that is then swapped in
(:func:`etl.atomic.next_version`), so that readers are never blocked and a failed change
leaves the file as it was. A plain copy costs time in proportion to the whole warehouse,
however small the change. Filesystems with copy-on-write extents (XFS made with
``reflink=1``, the default since xfsprogs 5.1; btrfs; bcachefs) can clone a file in
constant time: the clone shares every block until one side writes it, so a load pays
only for the blocks it writes. ext4 cannot; there the copy is the plain one and the load
says so (see docs/deploy.md, "Filesystem").
"""

from __future__ import annotations

import errno
import os
import shutil
import sys
from pathlib import Path

# _IOW(0x94, 9, int) from linux/fs.h: make the target share the source's extents.
FICLONE = 0x40049409

# What a filesystem (or a kernel) answers when it cannot clone; anything else is a real
# error (a full disk, a file-size limit) and must reach the caller.
_CANNOT_CLONE = {
    errno.EOPNOTSUPP,
    errno.ENOTTY,
    errno.EINVAL,
    errno.EXDEV,
    errno.ENOSYS,
    errno.EBADF,
}


def clone(source: Path, target: Path) -> bool:
    """Make ``target`` a clone of ``source`` sharing its blocks; False if not possible.

    ``target`` is created (or truncated) either way; on False it is left empty for the
    caller to fill by copying.
    """
    if not sys.platform.startswith("linux"):
        target.write_bytes(b"")
        return False
    import fcntl

    with source.open("rb") as src, target.open("wb") as dst:
        try:
            fcntl.ioctl(dst.fileno(), FICLONE, src.fileno())
        except OSError as error:
            if error.errno in _CANNOT_CLONE:
                return False
            raise
    return True


def copy_file(source: Path, target: Path) -> bool:
    """Copy ``source`` to ``target`` (contents only); True if it was a clone.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a").write_bytes(b"warehouse")
    >>> copy_file(folder / "a", folder / "b") in (True, False)
    True
    >>> (folder / "b").read_bytes()
    b'warehouse'
    """
    if clone(source, target):
        return True
    shutil.copyfile(source, target)
    return False


def can_clone(folder: Path) -> bool:
    """Whether files in ``folder`` can be cloned (tried on a small scratch file)."""
    probe = folder / f".clone-probe-{os.getpid()}"
    copy = probe.with_name(probe.name + ".copy")
    try:
        probe.write_bytes(b"probe")
        return clone(probe, copy)
    finally:
        probe.unlink(missing_ok=True)
        copy.unlink(missing_ok=True)
