"""Learning from feedback: capture, review, retrain, evaluate-and-promote, hot reload.

* :mod:`engine.learn.capture` — feedback records linked to a turn (what the engine predicted and
  with which model version); hand-offs and low-confidence turns are captured with the turn.
* :mod:`engine.learn.review` — the most informative recent turns for labelling; labels with who/when.
* :mod:`engine.learn.retrain` — base data + reviewed labels → candidate head, compared with the
  serving one on a fixed held-out split, promoted only if not worse.
* :mod:`engine.learn.registry` — versions with their metrics, the serving pointer, rollback.
* :mod:`engine.learn.report` — a markdown comparison report with a per-class chart per decision.
* :mod:`engine.learn.reload` — a running engine swaps in a promoted model between turns.
* :mod:`engine.learn.cli` — ``shopassist learn review | label | retrain | rollback | versions``.

Submodules are imported where used (this package is imported on every turn for capture).
"""

__all__: list[str] = []
