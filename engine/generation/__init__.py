"""Answer generation grounded on retrieved passages and graph facts.

The extractive generator is the default; :class:`LLMGenerator` puts a local transformers model
or an OpenAI-compatible server behind the same protocol, with a grounding check and citations.
"""

from .base import Answer, ChatMessage, ChatModel, Completion, Fact, Generator, StreamingGenerator
from .extractive import ExtractiveGenerator
from .factory import build_generator
from .grounding import GroundingChecker
from .llm import LLMGenerator, stream_to

__all__ = ["Answer", "Fact", "Generator", "StreamingGenerator", "ChatMessage", "ChatModel", "Completion",
           "ExtractiveGenerator", "GroundingChecker", "LLMGenerator", "build_generator", "stream_to"]
