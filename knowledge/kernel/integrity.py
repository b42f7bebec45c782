"""Checksums of the files a folder was written with, recorded by the writer and verified by the reader.

Model folders (cached intent heads, ``shopassist nlu train`` folders, registry versions) carry a
record, ``checksums.json``: the SHA-256 of every file under the folder except the record itself,
written last and atomically, so a folder whose record matches is the folder that was written.
Indexes that keep a manifest of their own (the FAQ indexes, the product-name vectors, the demo
store) put the same mapping inside it instead (:func:`folder_checksums` with ``names``).
What a mismatch means is the caller's choice: a cache the engine can rebuild is rebuilt; a folder a
person made is refused with :class:`~engine.errors.ModelError` naming the fix (:func:`check_folder`).
The record detects damage and swapped or edited files; it is not a signature against someone who
can also rewrite the record. Part of the small kernel that ``knowledge/`` may import (standard
library only).

Example:
    >>> write_checksums(folder)                                   # doctest: +SKIP
    {'head.npz': '9f2c...', 'meta.json': '41ab...'}
    >>> check_folder(folder, fix="retrain it with `shopassist nlu train`")   # doctest: +SKIP
    True
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from .errors import ModelError

__all__ = ["RECORD", "sha256_file", "folder_checksums", "write_checksums", "read_checksums", "verify_checksums",
           "check_folder"]

#: File name of a folder's record.
RECORD = "checksums.json"

log = logging.getLogger("shopassist.integrity")


def sha256_file(path: Path) -> str:
    """SHA-256 (hex) of the file at ``path``, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def folder_checksums(folder: Path, names: Iterable[str] | None = None) -> dict[str, str]:
    """``{relative POSIX path: SHA-256}`` of ``names`` in ``folder``, or of every file under it
    (sub-folders included) except the top-level record; missing ``names`` raise ``OSError``."""
    folder = Path(folder)
    if names is not None:
        return {name: sha256_file(folder / name) for name in names}
    return {rel: sha256_file(folder / rel) for rel in _files(folder)}


def _files(folder: Path) -> list[str]:
    """Relative POSIX paths of every file under ``folder`` but the top-level record, sorted."""
    return sorted(rel for p in folder.rglob("*") if p.is_file() and (rel := p.relative_to(folder).as_posix()) != RECORD)


def write_checksums(folder: Path) -> dict[str, str]:
    """Record the checksums of every file under ``folder`` in its ``checksums.json`` (atomically);
    call it last, once every other file is in place. Returns the record."""
    folder = Path(folder)
    sums = folder_checksums(folder)
    tmp = folder / f".{RECORD}.tmp{os.getpid()}"
    tmp.write_text(json.dumps({"sha256": sums}, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, folder / RECORD)
    return sums


def read_checksums(folder: Path) -> dict[str, str] | None:
    """The folder's recorded checksums; ``None`` when it has no record (written before records
    existed). An unreadable record reads as ``{}``, which no folder with files matches."""
    try:
        doc = json.loads((Path(folder) / RECORD).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    sums = doc.get("sha256") if isinstance(doc, dict) else None
    if not isinstance(sums, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in sums.items()):
        return {}
    return sums


def verify_checksums(folder: Path, recorded: Mapping[str, str], names: Iterable[str] | None = None) -> list[str]:
    """What differs between ``folder`` and ``recorded`` (empty: intact).

    With ``names`` None, every recorded file must be there unchanged and no other file may be under
    the folder; with ``names``, each of those must be recorded and unchanged (other files in the
    folder are someone else's).
    """
    folder = Path(folder)
    expected = dict(recorded) if names is None else {n: recorded.get(n) for n in names}
    problems = []
    for rel, digest in sorted(expected.items()):
        if not isinstance(digest, str):
            problems.append(f"{rel} not recorded")
            continue
        try:
            if sha256_file(folder / rel) != digest:
                problems.append(f"{rel} changed")
        except OSError:
            problems.append(f"{rel} missing")
    if names is None and folder.is_dir():
        problems += [f"{rel} not recorded" for rel in sorted(set(_files(folder)) - set(recorded))]
    return problems


def check_folder(folder: Path, *, fix: str, require: bool = False, what: str = "model folder") -> bool:
    """Verify ``folder`` against its record; True when verified, False when it has none.

    Args:
        folder: the folder to check.
        fix: what the person should do, put in the error (e.g. "retrain it with `shopassist nlu train`").
        require: a folder without a record is refused too (caches: rebuilt by the caller).
        what: how the message names the folder.

    Raises:
        ModelError: files are missing, changed or not recorded, or (``require``) there is no record.
    """
    recorded = read_checksums(folder)
    if recorded is None:
        if require:
            raise ModelError(f"{what} {folder} has no {RECORD}; {fix}")
        log.warning("%s %s has no checksums (%s; written by an older version): loading it unverified; %s to "
                    "record them", what, folder, RECORD, fix)
        return False
    problems = verify_checksums(folder, recorded)
    if problems:
        raise ModelError(f"{what} {folder} is missing or corrupt: its files differ from the checksums recorded "
                         f"when it was written ({'; '.join(problems[:5])}); {fix}")
    return True
