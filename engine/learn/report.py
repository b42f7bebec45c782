"""The comparison report of one promotion decision: markdown plus a per-class F1 chart (PNG).

The report states what both models were compared on (and held out), how many examples the
registered version trained on, per-intent F1 with the texts that flipped either way, and for a
rejection the labels behind it and the command that promotes anyway. Texts are shown masked.

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

from engine.privacy import mask_pii

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
        f"- rule: blocks when held-out macro-F1 (of the intent picked) falls by more than {result.tolerance}, or "
        "when more regression-set turns (or held-out examples) break than are fixed, by over 1% of the set; "
        "single intents dropping while those hold are accepted, and listed below with the texts that flipped",
        f"- compared on: {d.get('heldout', cur.n)} held-out base examples + {d.get('regression', 0)} regression-set "
        "turns (real past turns, frozen), the same for both models; both trained without them "
        f"({d.get('base_train', 0)} base examples + their own reviewed labels: {d.get('labels_used', 0)} for the "
        "candidate), each with its own out-of-scope threshold "
        f"(current {_num(cur.threshold)}, candidate {_num(cand.threshold)}; out-of-scope set flagged "
        f"{_num(cur.oos_recall)} / {_num(cand.oos_recall)})",
        f"- {cand.version} as registered: trained on all {d.get('trained_on', 0)} examples ({d.get('base', 0)} base, "
        f"held-out split included, + {d.get('labels_used', 0)} labels + {d.get('regression', 0)} regression-set "
        f"turns); labels not used: {d.get('labels_skipped_in_heldout', 0)} in the held-out split, "
        f"{d.get('labels_skipped_out_of_scope', 0)} out of scope, {d.get('labels_skipped_unknown_intent', 0)} "
        f"unknown intent; {d.get('labels_contradicted', 0)} label(s) the candidate could not learn",
        "",
        f"| metric | current ({cur.version}) | candidate ({cand.version}) | change |",
        "|---|---:|---:|---:|",
        f"| macro-F1 (intent picked) | {cur.macro_f1:.4f} | {cand.macro_f1:.4f} | {cand.macro_f1 - cur.macro_f1:+.4f} |",
        f"| accuracy (as answered, cut-off included) | {cur.accuracy:.4f} | {cand.accuracy:.4f} | {cand.accuracy - cur.accuracy:+.4f} |",
        f"| regression set right | {cur.regression_right}/{cur.regression_n} | {cand.regression_right}/"
        f"{cand.regression_n} | {cand.regression_right - cur.regression_right:+d} |",
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
    if result.flipped:
        lines += ["## Texts that flipped", "", "| intent | text | was | now | set | |", "|---|---|---|---|---|---|"]
        for f in sorted(result.flipped, key=lambda f: (f.gold, not f.broken)):
            lines.append(f"| {f.gold} | {_cell(mask_pii(f.text))} | {f.before} | {f.after} | {f.source} | "
                         f"{'broken' if f.broken else 'fixed'} |")
        lines.append("")
    if result.blamed:
        lines += ["## Labels behind the rejection", "", "| label | text | intent | by | why |", "|---:|---|---|---|---|"]
        for b in result.blamed:
            lines.append(f"| #{b.record_id} | {_cell(mask_pii(b.text))} | {b.intent} | {b.author or '-'} | {b.why} |")
        lines += ["", "Withdraw one with `shopassist learn unlabel ID`.", ""]
    if result.override:
        lines += [f"To promote it anyway (the reason is logged): `{result.override}`", ""]
    if chart_name:
        lines += [f"![per-intent F1]({chart_name})", ""]
    elif chart_note:
        lines += [f"_{chart_note}_", ""]
    return "\n".join(lines)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:160]


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
