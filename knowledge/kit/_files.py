"""Reading kit files safely (private): size and row limits, binary and encoding checks, safe YAML.

Every file is first scanned as bytes in fixed-size chunks (memory does not grow with the file):
too large, a NUL byte (a binary file), invalid UTF-8 or an overlong line rejects it with a message
before any parsing. A file with more lines than its row limit is counted exactly (still streamed)
and refused if it holds more rows than the limit. YAML is read with a safe loader that refuses
anchors and aliases (no "billion laughs"), so nothing a kit says is executed or multiplied.
"""

from __future__ import annotations

import csv
import codecs
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ._log import ProblemLog

__all__ = ["KitLimits", "scan", "read_yaml", "iter_csv", "iter_jsonl"]

CHUNK = 1 << 20


@dataclass(frozen=True)
class KitLimits:
    """What a kit may hold; beyond these a file is refused rather than read.

    Example:
        >>> KitLimits(max_products=1_000).max_products
        1000
    """

    max_products: int = 200_000
    max_faqs: int = 20_000
    max_customers: int = 100_000
    max_orders: int = 200_000
    max_file_bytes: int = 512 << 20
    max_yaml_bytes: int = 4 << 20
    max_line_bytes: int = 1 << 20

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be > 0, got {value!r}")


def _human(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB" if n >= 1 << 20 else f"{n:,} bytes"


def scan(path: Path, file: str, log: ProblemLog, limits: KitLimits, *, max_bytes: int | None = None,
         max_rows: int | None = None, what: str = "rows", csv_rows: bool = False) -> bool:
    """Byte-level checks of one file; True when it may be parsed (problems logged otherwise)."""
    max_bytes = max_bytes or limits.max_file_bytes
    try:
        size = path.stat().st_size
    except OSError as exc:
        log.error(file, None, None, f"cannot read: {exc.strerror or exc}")
        return False
    if not path.is_file():
        log.error(file, None, None, "is not a regular file")
        return False
    if size > max_bytes:
        log.error(file, None, None, f"too large: {_human(size)} (this reader accepts up to {_human(max_bytes)})")
        return False
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 0
    current = 0  # length of the line being read
    longest = (0, 0)  # (length, line number)
    offset = 0
    quoted = False  # a CSV without quotes has one record per line: no need to count records
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                nul = chunk.find(b"\x00")
                if nul >= 0:
                    line = lines + chunk.count(b"\n", 0, nul) + 1
                    log.error(file, line, None, f"binary data (a NUL byte at offset {offset + nul:,}); "
                                                "kit files are UTF-8 text")
                    return False
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    line = lines + chunk.count(b"\n", 0, max(exc.start, 0)) + 1
                    log.error(file, line, None, f"not UTF-8 text (invalid byte at offset {offset + exc.start:,}); "
                                                "save the file as UTF-8")
                    return False
                quoted = quoted or b'"' in chunk
                newlines = chunk.count(b"\n")
                if not newlines:
                    current += len(chunk)
                else:
                    first = chunk.find(b"\n")
                    current += first
                    if current > longest[0]:
                        longest = (current, lines + 1)
                    if limits.max_line_bytes < len(chunk):  # a line inside this chunk may be too long
                        for i, part in enumerate(chunk[first + 1:].split(b"\n")[:-1]):
                            if len(part) > longest[0]:
                                longest = (len(part), lines + 2 + i)
                    lines += newlines
                    current = len(chunk) - chunk.rfind(b"\n") - 1
                offset += len(chunk)
                if current > limits.max_line_bytes or longest[0] > limits.max_line_bytes:
                    break  # stop before reading on
            else:
                decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        log.error(file, lines + 1, None, "not UTF-8 text (the file ends inside a character)")
        return False
    except OSError as exc:
        log.error(file, None, None, f"cannot read: {exc.strerror or exc}")
        return False
    if current > longest[0]:
        longest = (current, lines + 1)
    if longest[0] > limits.max_line_bytes:
        log.error(file, longest[1], None, f"a line longer than {_human(limits.max_line_bytes)}; "
                                          "is this the right file?")
        return False
    records = lines + (1 if current else 0)
    if max_rows is not None and records > max_rows + (1 if csv_rows else 0):
        count = _count_rows(path, csv_rows) if quoted or not csv_rows else records - 1
        if count > max_rows:
            log.error(file, None, None, f"holds {count:,} {what}, more than this reader accepts "
                                        f"({max_rows:,}); split the shop or raise the limit")
            return False
    return True


def _count_rows(path: Path, csv_rows: bool) -> int:
    """Exact rows (CSV records after the header, or non-blank JSONL lines), streamed."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        if csv_rows:
            try:
                return max(sum(1 for _ in csv.reader(fh)) - 1, 0)
            except csv.Error:
                return 0  # malformed: the parse reports it
        return sum(1 for line in fh if line.strip())


class _SafeNoAliasLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses anchors/aliases: kits never need them, and they multiply."""

    def compose_node(self, parent, index):  # noqa: ANN001 - PyYAML's signature
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in a kit file",
                                              event.start_mark)
        return super().compose_node(parent, index)


def read_yaml(path: Path, file: str, log: ProblemLog, *, required: bool,
              limits: KitLimits | None = None) -> Any:
    """The parsed document, or None (missing optional file, or a problem logged)."""
    limits = limits or KitLimits()
    if not path.exists():
        if required:
            log.error(file, None, None, "missing (a kit needs store.yaml, faqs.jsonl and catalog.csv)")
        return None
    if not scan(path, file, log, limits, max_bytes=limits.max_yaml_bytes):
        return None
    try:
        text = path.read_text(encoding="utf-8-sig")
        return yaml.load(text, Loader=_SafeNoAliasLoader)  # noqa: S506 - a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        log.error(file, mark.line + 1 if mark else None, None, f"not valid YAML: {exc.problem or exc}")
    except (yaml.YAMLError, RecursionError) as exc:
        log.error(file, None, None, f"not valid YAML: {exc if not isinstance(exc, RecursionError) else 'nested too deeply'}")
    except OSError as exc:
        log.error(file, None, None, f"cannot read: {exc.strerror or exc}")
    return None


def iter_csv(path: Path, file: str, log: ProblemLog) -> Iterator[tuple[int, list[str]]]:
    """``(row number, cells)``: the header is row 1. A CSV syntax error is logged and ends the file."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, strict=True)
            row = 0
            try:
                for cells in reader:
                    row += 1
                    yield row, cells
            except csv.Error as exc:
                log.error(file, row + 1, None, f"not valid CSV: {exc}")
    except OSError as exc:
        log.error(file, None, None, f"cannot read: {exc.strerror or exc}")


def iter_jsonl(path: Path, file: str, log: ProblemLog) -> Iterator[tuple[int, Any]]:
    """``(line number, object)`` of each non-blank line that parses; the others are logged."""
    try:
        with path.open(encoding="utf-8-sig") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    yield lineno, json.loads(line)
                except (ValueError, RecursionError) as exc:
                    log.error(file, lineno, None, f"not valid JSON: {exc if not isinstance(exc, RecursionError) else 'nested too deeply'}")
    except OSError as exc:
        log.error(file, None, None, f"cannot read: {exc.strerror or exc}")
