"""What identifies a version of some files without reading them.

A signature is the inode, size and modification time (in nanoseconds) of
each file: a rename over the file (`mv`, `os.replace`, a Kubernetes Secret's
symlink swap) changes the inode, a rewrite in place the size or the time.
Reloaders compare the signature of their files with the one they last saw
(a `stat` a file) and read the files only when it differs:
`memrpc.tls` for certificates, `memrpc.auth.reloading` for credentials.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

Signature = tuple[tuple[int, int, int], ...]

# The signature of files of which one cannot be read (missing, no permission).
UNREADABLE: Signature = ()


def signature(paths: Iterable[Path]) -> Signature:
    """The signature of `paths`; raises OSError when one cannot be `stat`ed."""
    stats = [path.stat() for path in paths]
    return tuple((s.st_ino, s.st_size, s.st_mtime_ns) for s in stats)


def signature_or_unreadable(paths: Iterable[Path]) -> Signature:
    """The signature of `paths`, or `UNREADABLE` while one cannot be `stat`ed."""
    try:
        return signature(paths)
    except OSError:
        return UNREADABLE
