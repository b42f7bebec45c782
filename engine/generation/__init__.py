"""Answer generation grounded on retrieved passages and graph facts."""

from .base import Answer, Fact, Generator
from .extractive import ExtractiveGenerator

__all__ = ["Answer", "Fact", "Generator", "ExtractiveGenerator"]
