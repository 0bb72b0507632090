"""Model files: weights and scaler as tensors, hashed, never pickled objects.

Where files go (environment variables, as in the seed; defaults under the data directory):

=======================  ====================================  ==============================
variable                 default                               holds
=======================  ====================================  ==============================
MODEL_STORAGE_PATH       ``<STRATLAB_DATA_DIR>/models``         ``<name>-<stamp>.pt`` files
SCALER_STORAGE_PATH      ``<STRATLAB_DATA_DIR>/scalers``        the scaler as JSON (a copy)
VERSION_STORAGE_PATH     ``<STRATLAB_DATA_DIR>/model_versions`` one JSON card per version
=======================  ====================================  ==============================

A model file is ``torch.save`` of a dict of tensors and plain values only — format tag,
architecture sizes, the ``state_dict``, the scaler's mean and std (so the SHA-256 of the file
covers them), feature names, and the training configuration. Loading first checks the
file's SHA-256 against the recorded one, then calls ``torch.load(..., weights_only=True)``
on the bytes that were hashed (no second read between check and load). A missing, tampered
or unreadable file raises :class:`~engine.errors.ModelIntegrityError` (a
``StratLabError``) whose message says what is wrong.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from pathlib import Path
from typing import Any

from engine.config import get_settings
from engine.errors import ModelIntegrityError
from engine.paths import resolve_stored, to_stored

FORMAT = "stratlab-neural/1"


#: paths a version card holds, stored relative to the data directory (engine.paths)
CARD_PATH_KEYS = ("file_path", "scaler_path")


def integrity_error(message: str) -> ModelIntegrityError:
    """The error for a missing, changed or unreadable model file."""
    return ModelIntegrityError(message)


def model_dir() -> Path:
    """``MODEL_STORAGE_PATH`` (the ``storage`` section), else ``<data dir>/models``."""
    return get_settings().storage.models_dir


def scaler_dir() -> Path:
    return get_settings().storage.scalers_dir


def version_dir() -> Path:
    return get_settings().storage.versions_dir


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


#: suffixes a ``--data`` path may end with; dropped from file names built from it
DATA_SUFFIXES = (".csv", ".parquet", ".pq", ".txt", ".json")
#: the marker beside a model file that is written but not registered yet
PENDING_SUFFIX = ".pending"


def safe_stem(text: str, *, most: int = 80) -> str:
    """A file-name stem built from user text (a symbol, or a ``--data`` path): only its last
    path component, without a data suffix, letters, digits, ``.``, ``_`` and ``-`` kept
    (others become ``_``), no leading dots, at most ``most`` characters; never empty.

    >>> safe_stem("../../x.csv-lstm"), safe_stem("/tmp/prices/GOOG.csv"), safe_stem("..")
    ('x.csv-lstm', 'GOOG', 'model')
    """
    name = str(text).replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    for suffix in DATA_SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).lstrip("._-")[:most].rstrip("._-")
    return name or "model"


def _inside(folder: Path, name: str) -> Path:
    """``folder / name`` after checking that it stays directly inside ``folder``."""
    path = folder / name
    if ("/" in name or "\\" in name or name.startswith(".")
            or path.resolve().parent != folder.resolve()):
        raise ValueError(f"file name {name!r} would leave {folder}")
    return path


def model_file_path(stem: str) -> Path:
    """Where the model file ``<stem>.pt`` goes: always directly in :func:`model_dir`,
    whatever text the stem was built from (see :func:`safe_stem`)."""
    return _inside(model_dir(), f"{safe_stem(stem, most=200)}.pt")


def scaler_file_path(stem: str) -> Path:
    """Where the scaler copy ``<stem>.json`` goes: always directly in :func:`scaler_dir`."""
    return _inside(scaler_dir(), f"{safe_stem(stem, most=200)}.json")


def pending_marker(model_path: Path) -> Path:
    """The marker that says ``model_path`` waits to be registered (see
    :func:`mark_pending`)."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.name + PENDING_SUFFIX)


def mark_pending(model_path: Path) -> Path:
    """Write the pending marker *before* the model file, so a process killed between
    writing the file and registering it leaves a file ``engine.maintenance`` can tell from
    a deliberately unregistered one (``train --no-register``)."""
    marker = pending_marker(model_path)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(str(os.getpid()))
    return marker


def clear_pending(model_path: Path) -> None:
    """The model file was registered (or is kept unregistered on purpose): drop its marker."""
    pending_marker(model_path).unlink(missing_ok=True)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def checkpoint(model, *, arch: dict[str, Any], scaler, feature_names, config: dict[str, Any]
               ) -> dict[str, Any]:
    """The dict that is saved: tensors and plain values only."""
    import torch

    return {
        "format": FORMAT,
        "arch": dict(arch),
        "state_dict": {k: v.detach().to("cpu").clone() for k, v in model.state_dict().items()},
        "scaler": {"mean": torch.as_tensor(scaler.mean, dtype=torch.float64),
                   "std": torch.as_tensor(scaler.std, dtype=torch.float64),
                   "clip": float(scaler.clip)},
        "feature_names": list(feature_names),
        "config": json.loads(json.dumps(config)),
    }


def save_checkpoint(ckpt: dict[str, Any], path: Path) -> tuple[Path, str, int]:
    """Write ``ckpt`` atomically; return (path, sha256, size in bytes)."""
    import torch

    buf = io.BytesIO()
    torch.save(ckpt, buf)
    data = buf.getvalue()
    _atomic_write(path, data)
    return path, sha256_bytes(data), len(data)


def save_scaler_json(scaler, name: str) -> Path:
    path = scaler_file_path(name)
    _atomic_write(path, json.dumps(scaler.to_dict(), indent=1).encode())
    return path


def write_version_card(version_id: str, card: dict[str, Any]) -> Path:
    """A small JSON record of a version (config, hash, metrics) beside the registry's row;
    its file paths are written relative to the data directory, so a moved lab still reads."""
    base = get_settings().data_dir
    doc = {k: (to_stored(v, base) if k in CARD_PATH_KEYS and v else v) for k, v in card.items()}
    path = version_dir() / f"{version_id}.neural.json"
    _atomic_write(path, json.dumps(doc, indent=1, default=str).encode())
    return path


def read_version_card(version_id: str) -> dict[str, Any] | None:
    """The version's card with its paths resolved against today's data directory (None
    when there is none or it cannot be read)."""
    path = version_dir() / f"{version_id}.neural.json"
    try:
        card = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    base = get_settings().data_dir
    for key in CARD_PATH_KEYS:
        if isinstance(card.get(key), str) and card[key]:
            card[key] = str(resolve_stored(card[key], base))
    return card


def load_checkpoint(path: Path, expected_hash: str | None = None) -> dict[str, Any]:
    """Read, hash-check and ``torch.load(weights_only=True)`` a model file."""
    import torch

    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise integrity_error(f"model file {path} is missing; it was moved or deleted — "
                              "retrain the model or restore the file") from None
    except OSError as exc:
        raise integrity_error(f"model file {path} cannot be read ({exc})") from None
    actual = sha256_bytes(data)
    if expected_hash and actual != expected_hash:
        raise integrity_error(
            f"model file {path}: the SHA-256 hash does not match the recorded one "
            f"(recorded {expected_hash[:12]}…, file {actual[:12]}…); the file was changed "
            "after training — it is refused; retrain or restore the original file")
    try:
        ckpt = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:
        raise integrity_error(f"model file {path} is not a valid weights file "
                              f"({type(exc).__name__}); retrain the model") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise integrity_error(f"model file {path} is not a Strategy Lab neural model "
                              f"(expected format {FORMAT})")
    return ckpt
