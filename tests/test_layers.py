"""Arrows run one way: the engine may import anything; knowledge/ and connectors/ import only the
kernel (``knowledge.kernel``, the shared vocabulary: errors, value types, text, PII masking,
integrity, resilience, HTTP limits) and themselves; the kernel imports nothing of the project but
itself. Every import counts, also those inside functions and ``TYPE_CHECKING`` blocks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "knowledge", "connectors")
KERNEL = "knowledge.kernel"


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import of a project package in ``path``."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                names = [".".join([*base, node.module] if node.module else base)]
            else:
                names = [node.module or ""]
        found += [(node.lineno, n) for n in names if n.split(".")[0] in PACKAGES]
    return found


def _allowed(importer: str, imported: str) -> bool:
    def within(name: str, prefix: str) -> bool:
        return name == prefix or name.startswith(prefix + ".")

    if within(importer, KERNEL):
        return within(imported, KERNEL)
    if within(importer, "knowledge"):
        return within(imported, "knowledge")
    if within(importer, "connectors"):
        return within(imported, "connectors") or within(imported, KERNEL)
    return True  # the engine wires everything


@pytest.mark.parametrize("package", ["knowledge", "connectors"])
def test_lower_layers_import_only_the_kernel_and_themselves(package):
    wrong = [f"{p.relative_to(ROOT)}:{line} imports {name}"
             for p in sorted((ROOT / package).rglob("*.py"))
             for line, name in _imports(p) if not _allowed(_module(p), name)]
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_the_rule_itself():
    assert _allowed("knowledge.faq.index", "knowledge.kernel.text")
    assert _allowed("connectors.sql", "knowledge.kernel.privacy")
    assert not _allowed("connectors.sql", "knowledge.faq.index")
    assert not _allowed("knowledge.faq.index", "engine.text")
    assert not _allowed("knowledge.kernel.text", "knowledge.faq")
    assert not _allowed("knowledge.graph.query", "connectors.base")
    assert _allowed("engine.router", "connectors.base")
