"""What ``shopassist store build`` works out once from a kit, saved so an engine start reads it back.

Reading and checking a 50,000-product kit and learning its catalog (the product-type vocabulary,
the linker's alias tables, the product names' anchor words) takes seconds of CPU at every start.
:func:`write_built` saves all of it in a folder beside the kit's FAQ indexes; :func:`load_built`
gives back the same :class:`~knowledge.kit.reader.Kit`, its catalog carrying the learned tables
(``Catalog.prebuilt``), or None when the folder cannot be trusted, and the engine then reads and
learns the kit itself, as without a build.

The folder (:data:`FOLDER`):

=================  ===============================================================================
``kit.json``       the checked kit but its catalog: FAQ entries, trial customers and orders,
                   template and intent overrides, warnings, ``returnable`` flags
``catalog.*``      the products as columns (:mod:`knowledge.graph.columns`): JSON + ``.npz``
``vocabulary.*``   :meth:`CatalogVocabulary.tables <knowledge.graph.vocabulary.CatalogVocabulary.tables>`
``linker.json``    :meth:`ProductLinker.tables <knowledge.graph.linker.ProductLinker.tables>`
``names.*``        :meth:`EmbeddingProductMatcher.tables <knowledge.graph.semantic.EmbeddingProductMatcher.tables>`
``manifest.json``  written last: :data:`BUILD_VERSION`, the SHA-256 of every kit file it was built
                   from, a fingerprint of the code that reads kits and learns catalogs, and the
                   SHA-256 of every file above (:mod:`knowledge.kernel.integrity`)
=================  ===============================================================================

A folder is used only when all of it holds: same version, the kit's files unchanged since (an
edit, live or not, makes it stale), the same reading code (an upgrade makes it stale), every file
as written (a damaged or swapped file is never read). Anything else is logged with the reason and
the kit is read from its files, so a stale or tampered folder never gives another answer than the
kit itself. Only data is read: JSON and ``np.load(allow_pickle=False)``; nothing is executed.

Example:
    >>> write_built(read_kit("my-shop"), work / "built")       # doctest: +SKIP
    >>> kit = load_built("my-shop", work / "built")             # doctest: +SKIP
    >>> kit is None or kit.catalog.prebuilt.keys()              # doctest: +SKIP
    dict_keys(['vocabulary', 'linker', 'names'])
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.faq.store import FAQEntry
from knowledge.kernel.errors import KnowledgeError
from knowledge.kernel.integrity import folder_checksums, sha256_file, verify_checksums

from .problems import Problem
from .profile import load_profile
from .reader import KIT_FILES, Kit

__all__ = ["BUILD_VERSION", "FOLDER", "MANIFEST", "kit_fingerprint", "code_fingerprint", "write_built", "load_built"]

log = logging.getLogger("shopassist.kit.built")

#: the folder's layout; another version is stale
BUILD_VERSION = 1
#: the folder's name under the kit's working folder (beside ``indexes/``)
FOLDER = "built"
MANIFEST = "manifest.json"
_PACKAGE = Path(__file__).resolve().parent
#: the code whose output the folder holds: kit reading and checking, and the catalog's learning
_CODE = (*sorted(p.name for p in _PACKAGE.glob("*.py")),
         *(f"../graph/{n}.py" for n in ("catalog", "columns", "vocabulary", "linker", "fuzzy", "semantic", "meaning")),
         "../faq/store.py")


def kit_fingerprint(root: Path) -> dict[str, str | None]:
    """The SHA-256 of each kit file (None for one the kit does not have)."""
    out: dict[str, str | None] = {}
    for name in KIT_FILES:
        path = Path(root) / name
        out[name] = sha256_file(path) if path.is_file() else None
    return out


def code_fingerprint() -> str:
    """A digest of the code (and the engine's packaged templates and intents it checks against)
    that reads a kit and learns its catalog: another version of it makes a built folder stale."""
    from ._overrides import _engine_file

    h = hashlib.sha256(f"built v{BUILD_VERSION}".encode())
    paths = [(_PACKAGE / rel).resolve() for rel in _CODE]
    paths += [p for p in (_engine_file("responses", "templates.yaml"), _engine_file("nlu", "data", "intent_catalog.yaml"))
              if p is not None]
    for path in paths:
        h.update(b"\0" + path.name.encode() + b"\0")
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(b"-")
    return h.hexdigest()


# -- writing ---------------------------------------------------------------------------------------
def _kit_doc(kit: Kit) -> dict[str, Any]:
    return {
        "faqs": [{**dataclasses.asdict(f), "tags": list(f.tags), "alternates": list(f.alternates)} for f in kit.faqs],
        "customers": kit.customers, "orders": kit.orders, "templates": kit.templates, "intents": kit.intents,
        "warnings": [dataclasses.asdict(p) for p in kit.warnings], "returnable": kit.returnable,
    }


def _write_json(path: Path, doc: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, path)


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def write_built(kit: Kit, folder: str | Path) -> bool:
    """Save what an engine start needs of ``kit`` (module docstring) in ``folder``; the manifest
    last, so a folder is never half valid. False (logged) when the kit holds what JSON does not keep
    as it is (its kit data is then read from the files at every start).

    Raises:
        OSError: the folder cannot be written.
    """
    from knowledge.graph.columns import catalog_columns
    from knowledge.graph.linker import ProductLinker
    from knowledge.graph.semantic import EmbeddingProductMatcher
    from knowledge.graph.vocabulary import CatalogVocabulary

    folder = Path(folder)
    fingerprint = kit_fingerprint(kit.root)
    doc = _kit_doc(kit)
    try:
        same = json.loads(json.dumps(doc, ensure_ascii=False)) == doc
    except (TypeError, ValueError):
        same = False
    if not same:
        log.info("store kit %s: its data does not round-trip through JSON; not saved (read from the kit's files "
                 "at each start)", kit.root)
        return False
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).unlink(missing_ok=True)  # no manifest while the files change
    names: list[str] = []

    def save(name: str, data: Any, arrays: dict[str, np.ndarray] | None = None) -> None:
        _write_json(folder / f"{name}.json", data)
        names.append(f"{name}.json")
        if arrays is not None:
            _write_npz(folder / f"{name}.npz", arrays)
            names.append(f"{name}.npz")

    save("kit", doc)
    save("catalog", *catalog_columns(kit.catalog))
    # each table learned, saved and let go before the next: a build's peak memory stays one table's
    vocabulary = CatalogVocabulary(kit.catalog, synonyms=kit.profile.synonyms or None)
    save("vocabulary", *vocabulary.tables())
    del vocabulary
    save("linker", ProductLinker(kit.catalog).tables())
    save("names", *EmbeddingProductMatcher(kit.catalog, _NoEmbedder()).tables())
    gc.collect()
    manifest = {"version": BUILD_VERSION, "code": code_fingerprint(), "kit": fingerprint,
                "products": len(kit.catalog), "faqs": len(kit.faqs), "files": folder_checksums(folder, names)}
    _write_json(folder / MANIFEST, manifest)
    return True


class _NoEmbedder:
    """The product-name tables need no model (the vectors are embedded and cached apart)."""

    name = "none"

    def embed(self, texts, kind="passage"):  # pragma: no cover - never called for the tables
        raise RuntimeError("the product-name tables embed nothing")


# -- reading ---------------------------------------------------------------------------------------
def _stale(manifest: Any, root: Path, folder: Path) -> str | None:
    """Why the folder may not be used (None: it may)."""
    if not isinstance(manifest, dict) or manifest.get("version") != BUILD_VERSION:
        return "it was written by another version of shopassist"
    if manifest.get("code") != code_fingerprint():
        return "the code that reads kits has changed since"
    recorded = manifest.get("kit")
    if not isinstance(recorded, dict) or recorded != kit_fingerprint(root):
        return "the kit's files have changed since"
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        return "its manifest lists no files"
    problems = verify_checksums(folder, files, names=sorted(files))
    if problems:
        return f"its files differ from the checksums written with them ({'; '.join(problems[:3])})"
    return None


def _npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def load_built(root: str | Path, folder: str | Path) -> Kit | None:
    """The kit in ``root`` as ``store build`` saved it in ``folder``, its catalog carrying the learned
    tables; None when there is no such folder, or it is stale or damaged (the reason logged)."""
    from knowledge.graph.columns import catalog_from_columns

    root, folder = Path(root), Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        log.info("store kit %s: not built yet; reading it from its files (`shopassist store build` makes starts "
                 "quicker)", root)
        return None
    except (OSError, ValueError) as exc:
        manifest = exc
    reason = _stale(manifest, root, folder) if not isinstance(manifest, Exception) else "its manifest is unreadable"
    if reason is not None:
        log.warning("store kit %s: the build in %s is not used: %s; reading the kit from its files (run "
                    "`shopassist store build` again to make starts quick)", root, folder, reason)
        return None
    try:
        doc = json.loads((folder / "kit.json").read_text(encoding="utf-8"))
        catalog = catalog_from_columns(json.loads((folder / "catalog.json").read_text(encoding="utf-8")),
                                       _npz(folder / "catalog.npz"))
        catalog.prebuilt.update(
            vocabulary=(json.loads((folder / "vocabulary.json").read_text(encoding="utf-8")), _npz(folder / "vocabulary.npz")),
            linker=json.loads((folder / "linker.json").read_text(encoding="utf-8")),
            names=(json.loads((folder / "names.json").read_text(encoding="utf-8")), _npz(folder / "names.npz")))
        warnings = [Problem(**p) for p in doc["warnings"]]
        kit = Kit(root=root, profile=load_profile(root / "store.yaml"), catalog=catalog,
                  faqs=[_faq(f) for f in doc["faqs"]], customers=doc["customers"], orders=doc["orders"],
                  templates=doc["templates"], intents=doc["intents"], warnings=warnings,
                  returnable={str(k): bool(v) for k, v in doc["returnable"].items()})
    except (OSError, ValueError, KeyError, TypeError, KnowledgeError) as exc:
        log.warning("store kit %s: the build in %s cannot be read (%s); reading the kit from its files", root, folder, exc)
        return None
    for p in warnings:
        log.warning("store kit %s: %s", root, p)
    return kit


def _faq(raw: dict[str, Any]) -> FAQEntry:
    return FAQEntry(**{**raw, "tags": tuple(raw.get("tags") or ()), "alternates": tuple(raw.get("alternates") or ())})
