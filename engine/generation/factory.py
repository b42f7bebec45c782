"""Builds the generator that ``generation.backend`` names (the builder's one call into this package).

The extractive default imports nothing heavy; the transformers backend imports torch and
transformers only when its model first loads; the openai backend only needs httpx.

Example:
    >>> from engine.settings import GenerationSettings
    >>> type(build_generator(GenerationSettings(), data_dir=Path("/tmp"))).__name__
    'ExtractiveGenerator'
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from engine.errors import ConfigError
from engine.settings import GenerationSettings

from .base import Generator
from .extractive import ExtractiveGenerator
from .grounding import GroundingChecker

__all__ = ["build_generator"]


def build_generator(
    settings: GenerationSettings,
    *,
    data_dir: Path,
    names: Iterable[str] = (),
    store: str = "our store",
    contacts: Iterable[str] | None = None,
) -> Generator:
    """The configured generator.

    Args:
        settings: the ``generation`` section (one :class:`GenerationSettings` subclass per backend:
            only the chosen backend's fields exist).
        data_dir: the engine's data folder (de-quantised GGUF models are cached under ``models/llm``).
        names: the catalog's product and brand names, for the grounding check.
        store: the store's name, for the system prompt.
        contacts: the contacts store.yaml lists (:func:`knowledge.kit.content.listed_contacts`):
            kit sentences with any other are never shown nor prompted with, and an LLM answer may
            state no other. None: the store lists none (contacts are not screened).

    Raises:
        ConfigError: ``api_key_env`` names an environment variable that is not set.
    """
    extractive = ExtractiveGenerator(max_facts=settings.max_facts, contacts=contacts)
    if settings.backend == "extractive":
        return extractive
    from .llm import LLMGenerator

    if settings.backend == "transformers":
        from .transformers_chat import PACKAGED_MODEL, TransformersChatModel

        model = TransformersChatModel(settings.model or PACKAGED_MODEL, gguf_file=settings.gguf_file,
                                      device=settings.device, cache_dir=data_dir / "models" / "llm")
    else:
        from .openai_chat import OpenAIChatModel

        api_key = None
        if settings.api_key_env:
            api_key = os.environ.get(settings.api_key_env)
            if not api_key:
                raise ConfigError(f"generation.api_key_env: the environment variable {settings.api_key_env} is not set")
        model = OpenAIChatModel(settings.base_url, settings.model, api_key=api_key, timeout_s=settings.timeout_s,
                                connect_timeout_s=settings.connect_timeout_s, retries=settings.retries,
                                backoff_base_s=settings.backoff_base_s, backoff_cap_s=settings.backoff_cap_s)
    return LLMGenerator(
        model,
        backend=settings.backend,
        fallback=extractive,
        checker=GroundingChecker(names, min_support=settings.min_support, contacts=contacts),
        store=store,
        max_passages=settings.max_passages,
        max_facts=settings.max_facts,
        max_new_tokens=settings.max_new_tokens,
        temperature=settings.temperature,
        history_turns=settings.history_turns,
        deadline_s=settings.deadline_s,
        contacts=contacts,
    )
