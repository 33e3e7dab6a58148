"""Input contracts of the public API, each rule written once.

Every public entry point (``simulate``, ``select_seeds``, the simulators, the selectors, the apps)
checks its scalar and id arguments with these functions, so that a bad value gets the same
``TypeError`` (wrong kind) or ``ValueError`` (right kind, bad value) naming the argument and the
value wherever it is given. The module sits below everything but :mod:`influence_gpu.typing` and
imports only torch.

Rules:

* integers (``k``, ``num_samples``, ``seed``, ...): Python or numpy integers, never ``bool``;
  floats only where a count may come from a config as ``1e6`` (``allow_float=True``), and then
  only finite integral ones; strings are refused (a ``TypeError``), as are values outside int64;
* ``memory_budget``: ``None`` (the library default) or an integer number of bytes ``>= 0``;
* ``seed``: ``None``, an integer in torch's seed range, or a ``torch.Generator``;
* ``device``: ``None``, a device string or a ``torch.device`` that this machine can use (CUDA /
  MPS only when available, a CUDA index that exists);
* floats / probabilities: real numbers, finite, inside their range;
* node ids: integer tensors or sequences, inside ``[0, num_nodes)``, within int64, optionally
  distinct.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import torch

from influence_gpu.typing import DeviceLike

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "check_int",
    "check_k",
    "check_num_samples",
    "check_memory_budget",
    "check_seed",
    "check_device",
    "check_float",
    "check_probability",
    "check_bool",
    "check_option_type",
    "check_choice",
    "check_node_ids",
    "check_unique_ids",
    "format_bytes",
    "check_fits_budget",
]

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def _is_str(x: Any) -> bool:
    return isinstance(x, (str, bytes, bytearray))


def check_int(
    value: Any,
    name: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    allow_float: bool = False,
) -> int:
    """``value`` as a Python int in ``[minimum, maximum]``.

    Args:
        value: the argument.
        name: its name, for the message.
        minimum: smallest allowed value (``None``: no bound beyond int64).
        maximum: largest allowed value (``None``: int64's largest).
        allow_float: accept finite integral floats such as ``1e6`` (counts read from configs).

    Returns:
        The int.

    Raises:
        TypeError: a bool, a string, a non-integral float (or any float without
            ``allow_float``), or something that is not a number.
        ValueError: a non-finite float, or a value outside the range (int64 included).
    """
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.dim() == 0:
        if value.dtype == torch.bool:
            raise TypeError(f"{name} must be an integer, got {value!r}")
        value = value.item()
    if isinstance(value, bool) or _is_str(value):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, numbers.Integral):
        out = int(value)
    elif isinstance(value, numbers.Real):
        f = float(value)
        if not math.isfinite(f):
            raise ValueError(f"{name} must be a finite integer, got {value!r}")
        if not allow_float or f != math.floor(f):
            raise TypeError(f"{name} must be an integer, got {value!r}")
        out = int(f)
    else:
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    lo = INT64_MIN if minimum is None else minimum
    hi = INT64_MAX if maximum is None else maximum
    if out < lo or out > hi:
        if minimum is not None and out < minimum and (maximum is None or maximum >= INT64_MAX):
            raise ValueError(f"{name} must be at least {minimum}, got {out}")
        raise ValueError(f"{name} must be between {lo} and {hi}, got {out}")
    return out


def check_num_samples(num_samples: Any, name: str = "num_samples") -> int:
    """``num_samples`` as an int >= 1 (finite integral floats such as ``1e4`` accepted).

    Raises:
        TypeError: not an integer.
        ValueError: below 1, non-finite or beyond int64.
    """
    if isinstance(num_samples, bool) or _is_str(num_samples) or not isinstance(
        num_samples, (numbers.Real, torch.Tensor)
    ):
        raise TypeError(f"{name} must be an integer, got {num_samples!r}")
    if isinstance(num_samples, numbers.Real) and not isinstance(num_samples, numbers.Integral):
        f = float(num_samples)
        if math.isfinite(f) and f != math.floor(f):
            raise TypeError(f"{name} must be an integer, got {num_samples!r}")
    return check_int(num_samples, name, minimum=1, allow_float=True)


def check_k(k: Any, available: int | None = None, what: str = "num_nodes") -> int:
    """``k`` as an int in ``[1, available]`` (numpy integers accepted, floats and bools not).

    Raises:
        TypeError: ``k`` is not an integer.
        ValueError: ``k < 1`` or ``k > available``.
    """
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"k must be an integer, got {k!r}")
    k = int(k)
    if available is not None and (k < 1 or k > available):
        raise ValueError(f"k must be between 1 and {what}={available}, got {k}")
    if k < 1:
        raise ValueError(f"k must be a positive integer, got {k}")
    return k


def check_memory_budget(memory_budget: Any, name: str = "memory_budget") -> int | None:
    """``None`` or an integer number of bytes ``>= 0`` (integral floats such as ``1e9`` too).

    Raises:
        TypeError: not an integer (bools and strings included).
        ValueError: negative or non-finite.
    """
    if memory_budget is None:
        return None
    if isinstance(memory_budget, numbers.Real) and not isinstance(memory_budget, numbers.Integral):
        f = float(memory_budget)
        if math.isfinite(f) and f != math.floor(f):
            raise TypeError(f"{name} must be an integer number of bytes, got {memory_budget!r}")
    try:
        return check_int(memory_budget, name, minimum=0, allow_float=True)
    except TypeError:
        raise TypeError(
            f"{name} must be an integer number of bytes, got {memory_budget!r}"
        ) from None
    except ValueError:
        raise ValueError(f"{name} must be >= 0 bytes, got {memory_budget!r}") from None


#: torch.Generator.manual_seed accepts this range.
_SEED_MIN, _SEED_MAX = -(2**63), 2**64 - 1


def check_seed(seed: Any, name: str = "seed") -> int | torch.Generator | None:
    """``None``, a ``torch.Generator`` or an integer seed (floats refused: ``1.5`` is no seed).

    Raises:
        TypeError: a float, string, bool or other object.
        ValueError: an integer outside torch's seed range.
    """
    if seed is None or isinstance(seed, torch.Generator):
        return seed
    if isinstance(seed, bool) or _is_str(seed) or not isinstance(
        seed, (numbers.Integral, torch.Tensor)
    ):
        raise TypeError(
            f"{name} must be an integer or a torch.Generator, got {type(seed).__name__} {seed!r}"
        )
    if isinstance(seed, torch.Tensor) and (seed.numel() != 1 or seed.is_floating_point()):
        raise TypeError(f"{name} must be an integer or a torch.Generator, got {seed!r}")
    value = int(seed)
    if value < _SEED_MIN or value > _SEED_MAX:
        raise ValueError(f"{name} must lie in [{_SEED_MIN}, {_SEED_MAX}], got {value}")
    return value


def check_device(device: DeviceLike, name: str = "device") -> torch.device | None:
    """``None`` or a ``torch.device`` this machine can use.

    Raises:
        TypeError: not a string / ``torch.device``.
        ValueError: an unparseable string, CUDA / MPS where none is available, a CUDA index
            beyond the devices present, or a device type the simulators cannot run on.
    """
    if device is None:
        return None
    if not isinstance(device, (str, torch.device)):
        raise TypeError(
            f"{name} must be None, a device string such as 'cpu' or 'cuda:0', or a torch.device; "
            f"got {type(device).__name__} {device!r}"
        )
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError) as err:
        raise ValueError(
            f"{name} {device!r} is not a device string (use 'cpu', 'cuda' or 'cuda:N')"
        ) from err
    if dev.type == "cpu":
        return dev
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"{name}={str(device)!r} but CUDA is not available on this machine "
                "(torch.cuda.is_available() is False); use device='cpu'"
            )
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise ValueError(
                f"{name}={str(device)!r} but this machine has {count} CUDA device(s) "
                f"(cuda:0..cuda:{count - 1})"
            )
        return dev
    if dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(f"{name}={str(device)!r} but MPS is not available on this machine")
        return dev
    raise ValueError(f"{name}={str(device)!r}: device type {dev.type!r} is not supported "
                     "(use 'cpu' or 'cuda')")


def check_float(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    min_inclusive: bool = True,
    max_inclusive: bool = True,
) -> float:
    """``value`` as a finite float inside its range.

    Raises:
        TypeError: a bool, a string or a non-number.
        ValueError: NaN, infinite, or outside ``[minimum, maximum]`` (bounds as configured).
    """
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.dtype != torch.bool:
        value = value.item()
    if isinstance(value, bool) or _is_str(value) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    f = float(value)
    if not math.isfinite(f):
        raise ValueError(f"{name} must be finite, got {value!r}")
    lo_ok = minimum is None or (f >= minimum if min_inclusive else f > minimum)
    hi_ok = maximum is None or (f <= maximum if max_inclusive else f < maximum)
    if not (lo_ok and hi_ok):
        lo = "-inf" if minimum is None else repr(minimum)
        hi = "inf" if maximum is None else repr(maximum)
        left = "[" if min_inclusive and minimum is not None else "("
        right = "]" if max_inclusive and maximum is not None else ")"
        raise ValueError(f"{name} must lie in {left}{lo}, {hi}{right}, got {value!r}")
    return f


def check_probability(value: Any, name: str) -> float:
    """A probability: a finite float in ``[0, 1]``.

    Raises:
        TypeError: not a number.
        ValueError: NaN or outside ``[0, 1]``.
    """
    return check_float(value, name, minimum=0.0, maximum=1.0)


def check_bool(value: Any, name: str) -> bool:
    """A real ``bool`` (numpy bools too); ``1`` / ``"yes"`` are refused.

    Raises:
        TypeError: anything else.
    """
    if isinstance(value, bool):
        return value
    if type(value).__name__ == "bool_":  # numpy.bool_
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")


def check_option_type(value: Any, name: str, types: type | tuple[type, ...],
                      *, allow_none: bool = False) -> Any:
    """Return ``value`` when it is an instance of ``types`` (or ``None`` if allowed).

    Raises:
        TypeError: naming the option, the expected type(s) and the type given.
    """
    if value is None and allow_none:
        return value
    if not isinstance(value, types):
        names = (types.__name__ if isinstance(types, type)
                 else " or ".join(t.__name__ for t in types))
        raise TypeError(
            f"{name} must be {names}{' or None' if allow_none else ''}, "
            f"got {type(value).__name__} {value!r}"
        )
    return value


def check_choice(value: Any, name: str, choices: Sequence[Any]) -> Any:
    """``value`` when it is one of ``choices``.

    Raises:
        TypeError: an unhashable value.
        ValueError: not one of the choices (the message lists them).
    """
    try:
        ok = value in choices
    except TypeError:
        raise TypeError(f"{name} must be one of {tuple(choices)}, got {value!r}") from None
    if not ok:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def _as_id_tensor(ids: Any, name: str, device: Any) -> torch.Tensor:
    if ids is None:
        return torch.zeros(0, dtype=torch.long, device=device)
    if isinstance(ids, torch.Tensor):
        t = ids
    else:
        if _is_str(ids):
            raise TypeError(f"{name} must hold integer node ids, got {ids!r}")
        if isinstance(ids, (set, frozenset)):
            ids = sorted(ids)
        try:
            t = torch.as_tensor(ids)
        except (RuntimeError, OverflowError, TypeError, ValueError) as err:
            if "overflow" in str(err).lower() or isinstance(err, OverflowError):
                raise ValueError(f"{name} contains a node id outside the int64 range") from None
            raise TypeError(f"{name} must hold integer node ids, got {ids!r}") from None
    if t.numel() == 0:  # [] is a float tensor to torch: an empty set of any dtype is fine
        return torch.zeros(0, dtype=torch.long, device=device if device is not None else t.device)
    if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer node ids, got dtype {t.dtype}")
    if t.dtype == getattr(torch, "uint64", None) and t.numel() and int(t.max()) > INT64_MAX:
        raise ValueError(f"{name} contains a node id outside the int64 range")
    return t.to(device).long().reshape(-1)


def check_unique_ids(ids: torch.Tensor, name: str, describe: Any = None) -> torch.Tensor:
    """Raise ``ValueError`` when ``ids`` holds an id twice (``describe(id)`` names it)."""
    if ids.numel() > 1:
        uniq, counts = torch.unique(ids, return_counts=True)
        if bool((counts > 1).any()):
            dup = int(uniq[counts > 1][0])
            shown = describe(dup) if describe is not None else dup
            raise ValueError(f"{name} contains node {shown!r} more than once")
    return ids


def check_node_ids(
    ids: Any,
    num_nodes: int,
    name: str = "seeds",
    *,
    device: Any = None,
    unique: bool = True,
    allow_empty: bool = True,
) -> torch.Tensor:
    """Internal node ids ``[k]`` (int64 on ``device``) checked for type, range and duplicates.

    Args:
        ids: a 1-D (or any-shape, flattened) integer tensor or sequence; ``None`` is empty.
        num_nodes: ``n``; every id must lie in ``[0, n)``.
        name: argument name for the messages.
        device: where the result lives (default: the tensor's own / CPU).
        unique: refuse repeated ids.
        allow_empty: accept an empty set.

    Raises:
        TypeError: float / bool / complex / non-numeric ids.
        ValueError: an id out of range (int64 included), a duplicate, or empty when not allowed.

    Shapes:
        returns ``[k]``.
    """
    t = _as_id_tensor(ids, name, device)
    if t.numel() == 0:
        if not allow_empty:
            raise ValueError(f"{name} is empty")
        return t
    lo, hi = int(t.min()), int(t.max())
    if lo < 0 or hi >= num_nodes:
        bad = lo if lo < 0 else hi
        raise ValueError(
            f"{name} contains node id {bad}, out of range for num_nodes={num_nodes} "
            f"(ids 0..{num_nodes - 1})"
        )
    if unique:
        check_unique_ids(t, name)
    return t


def format_bytes(nbytes: float) -> str:
    """``1536`` -> ``"1.5 KiB"`` (``"0 B"`` for zero)."""
    if nbytes <= 0:
        return f"{int(nbytes)} B"
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    k = min(int(math.log(nbytes, 1024)), len(units) - 1)
    return f"{nbytes / 1024**k:.1f} {units[k]}"


def check_fits_budget(needed: float, budget: int, what: str, detail: str = "") -> None:
    """Refuse (``MemoryError``) before any work when ``needed`` bytes exceed ``budget``.

    The message states the estimate and the budget, and how to proceed.
    """
    if needed > budget:
        raise MemoryError(
            f"{what} needs about {format_bytes(needed)}{' (' + detail + ')' if detail else ''} "
            f"but memory_budget is {format_bytes(budget)}; raise memory_budget, use fewer "
            "samples or a smaller graph"
        )
