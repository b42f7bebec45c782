"""A consistent copy of a SQLite business database before anything replaces it.

The demo store's rebuild and a store kit's trial-data load both refuse to overwrite customers'
writes unless forced, and when forced they keep a copy first: taken through SQLite's backup API (a
consistent snapshot even while another connection writes; a file that is not a database is copied
byte for byte), written under a temporary name and moved into place, so a copy that exists is whole.

Example:
    >>> backup_sqlite(Path("store.db"))                     # doctest: +SKIP
    PosixPath('store.db.bak-20261207T024501123456Z')
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

__all__ = ["backup_sqlite"]


def backup_sqlite(path: Path, *, remove: bool = False) -> Path:
    """Copy ``path`` beside itself as ``<name>.bak-<UTC time>``; with ``remove``, then delete it.

    Returns the copy's path.
    """
    path = Path(path)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    target = path.with_name(f"{path.name}.bak-{stamp}")
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        src = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
        try:
            dst = sqlite3.connect(tmp)
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.Error:
        tmp.unlink(missing_ok=True)
        shutil.copyfile(path, tmp)
    os.replace(tmp, target)
    if remove:
        path.unlink()
    return target
