"""Templated replies in English and Chinese."""

from .templates import Templates

__all__ = ["Templates"]
