"""The comparison report of one promotion decision: markdown plus a per-class F1 chart (PNG).

Written to the registry's ``reports/`` folder as ``<version>.md`` and ``<version>.png``. The chart
needs matplotlib (``pip install 'shopassist[dev]'``); without it the report says so and still
holds every figure as a table.

Example:
    >>> md, png = write_report(result, registry.reports_dir)     # doctest: +SKIP
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .retrain import RetrainResult

__all__ = ["render_markdown", "write_chart", "write_report"]


def render_markdown(result: "RetrainResult", chart_name: str | None = None, chart_note: str = "") -> str:
    """The report as markdown (``chart_name``: the PNG next to it, if one was drawn)."""
    cur, cand = result.current, result.candidate
    if cand is None:
        raise ValueError("a report needs a candidate")
    verdict = "PROMOTED" if result.promoted else "REJECTED"
    d = result.data
    lines = [
        f"# Intent model {cand.version} vs {cur.version}: {verdict}",
        "",
        f"- when: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
        f"- decision: {result.reason}",
        f"- training: {d.get('base_train', 0)} base examples (training split) + {d.get('labels_used', 0)} "
        f"reviewed labels; labels not used: {d.get('labels_skipped_in_heldout', 0)} in the held-out split, "
        f"{d.get('labels_skipped_out_of_scope', 0)} out of scope, {d.get('labels_skipped_unknown_intent', 0)} "
        "unknown intent",
        f"- held-out: {d.get('heldout', cur.n)} base examples, the same fixed split for both models "
        "(reviewed feedback never enters it)",
        "",
        f"| metric | current ({cur.version}) | candidate ({cand.version}) | change |",
        "|---|---:|---:|---:|",
        f"| macro-F1 | {cur.macro_f1:.4f} | {cand.macro_f1:.4f} | {cand.macro_f1 - cur.macro_f1:+.4f} |",
        f"| accuracy | {cur.accuracy:.4f} | {cand.accuracy:.4f} | {cand.accuracy - cur.accuracy:+.4f} |",
        "",
        "## Per-intent F1",
        "",
        "| intent | support | current | candidate | change | |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for c in sorted(cur.per_class):
        before, after = cur.per_class[c], cand.per_class.get(c, 0.0)
        flag = "regressed" if after < before else ("improved" if after > before else "")
        lines.append(f"| {c} | {cur.support.get(c, 0)} | {before:.3f} | {after:.3f} | {after - before:+.3f} | {flag} |")
    lines.append("")
    if result.regressions:
        lines.append("Regressions: " + ", ".join(f"{c} {b:.3f} → {a:.3f}" for c, b, a in result.regressions))
    else:
        lines.append("Regressions: none")
    lines.append("")
    if chart_name:
        lines += [f"![per-intent F1]({chart_name})", ""]
    elif chart_note:
        lines += [f"_{chart_note}_", ""]
    return "\n".join(lines)


def write_chart(result: "RetrainResult", path: Path) -> Path:
    """A horizontal bar chart of per-intent F1, current vs candidate.

    Raises:
        ImportError: matplotlib is not installed.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    cur, cand = result.current, result.candidate
    assert cand is not None
    classes = sorted(cur.per_class)
    y = range(len(classes))
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(classes) + 1.2))
    try:
        ax.barh([i + 0.2 for i in y], [cur.per_class[c] for c in classes], height=0.4,
                label=f"current {cur.version} (macro {cur.macro_f1:.3f})", color="#9e9e9e")
        ax.barh([i - 0.2 for i in y], [cand.per_class.get(c, 0.0) for c in classes], height=0.4,
                label=f"candidate {cand.version} (macro {cand.macro_f1:.3f})",
                color="#2e7d32" if result.promoted else "#c62828")
        ax.set_yticks(list(y), classes)
        ax.invert_yaxis()
        ax.set_xlim(0, 1.0)
        ax.set_xlabel("F1 on the fixed held-out split")
        ax.set_title(f"{cand.version} vs {cur.version}: {'promoted' if result.promoted else 'rejected'}")
        fig.legend(loc="lower center", ncol=2, fontsize=8, frameon=False)
        fig.tight_layout(rect=(0, 0.05, 1, 1))
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
    return path


def write_report(result: "RetrainResult", folder: Path) -> tuple[Path, Path | None]:
    """Write ``<version>.md`` (and ``<version>.png`` when matplotlib is there); returns both paths."""
    cand = result.candidate
    if cand is None:
        raise ValueError("a report needs a candidate")
    folder.mkdir(parents=True, exist_ok=True)
    chart: Path | None = folder / f"{cand.version}.png"
    note = ""
    try:
        write_chart(result, chart)
    except ImportError:
        chart, note = None, "chart not drawn: matplotlib is missing (pip install 'shopassist[dev]')"
    md = folder / f"{cand.version}.md"
    md.write_text(render_markdown(result, chart.name if chart else None, note), encoding="utf-8")
    return md, chart
