"""What is wrong with a store kit: one :class:`Problem` per finding, and the error that carries them.

A problem names the file, the row (the line of a JSONL file; the spreadsheet row of a CSV file,
the header being row 1; None for YAML files and whole-file findings) and the field (a column, a
JSON key, or a dotted YAML path such as ``policies.return_window_days``). ``error`` problems
refuse the kit; ``warning`` problems load it and are logged.

Example:
    >>> p = Problem("catalog.csv", 12, "price", '"abc" is not a number')
    >>> str(p)
    'catalog.csv:12: price: "abc" is not a number'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from knowledge.kernel.errors import KnowledgeError

__all__ = ["Problem", "KitInvalid", "Level", "errors_of", "warnings_of"]

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding about a kit.

    Attributes:
        file: the kit file, relative to the kit's folder (``catalog.csv``).
        row: the row or line it is on, None when it concerns the whole file (or a YAML file).
        field: the column, key or dotted YAML path, None when it concerns the whole row or file.
        message: what is wrong, quoting the offending value.
        level: ``error`` (the kit is refused) or ``warning`` (the kit loads).
    """

    file: str
    row: int | None
    field: str | None
    message: str
    level: Level = "error"

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file}:{self.row}"
        text = f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        return f"{text} (warning)" if self.level == "warning" else text

    @property
    def is_error(self) -> bool:
        return self.level == "error"


def errors_of(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.level == "error"]


def warnings_of(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.level == "warning"]


class KitInvalid(KnowledgeError):
    """A kit with at least one error; ``problems`` holds every problem found (warnings too).

    Example:
        >>> err = KitInvalid([Problem("store.yaml", None, "currency", "'usd' is not an ISO 4217 code")])
        >>> str(err).splitlines()[1]
        "  store.yaml: currency: 'usd' is not an ISO 4217 code"
    """

    def __init__(self, problems: list[Problem], root: object = None) -> None:
        self.problems = list(problems)
        errors = errors_of(self.problems)
        head = f"store kit {root} has" if root is not None else "the store kit has"
        lines = [f"{head} {len(errors)} error{'s' if len(errors) != 1 else ''}:"]
        lines += [f"  {p}" for p in self.problems]
        super().__init__("\n".join(lines))
