"""The problem collector every kit check writes to (private): per-file caps keep a kit with a
million bad rows from filling memory with a million problems."""

from __future__ import annotations

from collections import Counter

from .problems import Level, Problem

MAX_PROBLEMS_PER_FILE = 1000


class ProblemLog:
    """Collects problems in the order found; past ``cap`` per file only counts them."""

    def __init__(self, cap: int = MAX_PROBLEMS_PER_FILE) -> None:
        if cap <= 0:
            raise ValueError(f"cap must be > 0, got {cap}")
        self._cap = cap
        self._items: list[Problem] = []
        self._per_file: Counter[str] = Counter()
        self.error_count = 0

    def add(self, file: str, row: int | None, field: str | None, message: str, level: Level = "error") -> None:
        if level == "error":
            self.error_count += 1
        self._per_file[file] += 1
        if self._per_file[file] <= self._cap:
            self._items.append(Problem(file, row, field, message, level))

    def error(self, file: str, row: int | None, field: str | None, message: str) -> None:
        self.add(file, row, field, message, "error")

    def warn(self, file: str, row: int | None, field: str | None, message: str) -> None:
        self.add(file, row, field, message, "warning")

    @property
    def has_errors(self) -> bool:
        return self.error_count > 0

    def problems(self) -> list[Problem]:
        out = list(self._items)
        for file, n in self._per_file.items():
            if n > self._cap:
                out.append(Problem(file, None, None, f"{n - self._cap} more problems not listed "
                                                     f"(fix the first {self._cap} and check again)"))
        return out
