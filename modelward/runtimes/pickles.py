"""Pickle files: refused unless the caller says, explicitly, that it trusts where they came from.

Unpickling runs whatever code the file names (the MLflow/joblib family of remote-code issues),
so every pickle load goes through :func:`load_pickle` and its ``trusted`` flag.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelward.errors import InvalidModelError, UntrustedContentError

PICKLE_SUFFIXES = frozenset({".pkl", ".pickle", ".joblib", ".pck", ".sav"})
TRUST_FLAG = "--trust-pickle"
TRUST_HINT = (
    f"re-run with {TRUST_FLAG} (SDK: trust_pickle=True) only if you trust where the file came "
    "from; better, save the model with skops or a native format"
)


def is_pickle_file(path: Path) -> bool:
    """True for a file that is (or claims to be) a pickle or joblib dump."""
    if not path.is_file():
        return False
    if path.suffix.lower() in PICKLE_SUFFIXES:
        return True
    with path.open("rb") as fh:
        head = fh.read(2)
    return len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5  # pickle protocol 2-5


def load_pickle(path: Path, *, trusted: bool) -> Any:
    """Unpickle ``path`` (joblib-aware) only when ``trusted``; refuse, naming the flag, otherwise."""
    if not trusted:
        raise UntrustedContentError(
            f"{path.name} is a pickle file; loading it can run arbitrary code", hint=TRUST_HINT
        )
    import joblib

    try:
        return joblib.load(path)
    except Exception as exc:
        raise InvalidModelError(f"{path.name} could not be unpickled: {exc}") from exc
