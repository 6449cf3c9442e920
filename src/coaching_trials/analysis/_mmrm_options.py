"""Options, checks and small shared helpers of the MMRM (see :mod:`.mmrm`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from coaching_trials._errors import format_values, one_of

from ._mmrm_cov import COVARIANCE_ALIASES

DF_METHODS = ("satterthwaite", "kenward_roger", "kenward_roger_linear", "residual")
_CONTROL_DEFAULTS: dict[str, Any] = {
    "maxiter": 1000,
    "gtol": 1e-6,
    "start": None,
    "fixed_covariance": None,
}


@contextmanager
def _single_thread_blas() -> Iterator[None]:
    """The per-pattern matrices are tiny: multi-threaded BLAS only adds contention.

    Uses ``threadpoolctl`` when it is installed (it is not a dependency); otherwise a no-op.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _check_conf_level(conf_level: float) -> float:
    if isinstance(conf_level, bool) or not isinstance(conf_level, (int, float, np.floating)):
        raise TypeError(f"`conf_level` must be a number between 0 and 1; got {conf_level!r}.")
    if not 0.0 < float(conf_level) < 1.0:
        raise ValueError(f"`conf_level` must be strictly between 0 and 1; got {conf_level!r}.")
    return float(conf_level)


KR_INFORMATION = ("observed", "expected")


def _check_options(
    covariance: str, df_method: str, reml: bool, conf_level: float, kr_information: str
) -> tuple[str, float]:
    if kr_information not in KR_INFORMATION:
        raise one_of("kr_information", kr_information, KR_INFORMATION)
    if not isinstance(covariance, str) or covariance.lower() not in COVARIANCE_ALIASES:
        raise one_of("covariance", covariance, tuple(COVARIANCE_ALIASES))
    if df_method not in DF_METHODS:
        raise one_of("df_method", df_method, DF_METHODS)
    if not isinstance(reml, (bool, np.bool_)):
        raise TypeError(f"`reml` must be True or False; got {reml!r}.")
    if df_method.startswith("kenward_roger") and not reml:
        raise ValueError(
            f"`df_method`={df_method!r} requires `reml=True` (Kenward-Roger is defined for REML)."
        )
    return COVARIANCE_ALIASES[covariance.lower()], _check_conf_level(conf_level)


def _check_control(control: Mapping[str, Any] | None) -> dict[str, Any]:
    out = dict(_CONTROL_DEFAULTS)
    if control is None:
        return out
    if not isinstance(control, Mapping):
        raise TypeError(
            f"`control` must be a mapping with keys {sorted(_CONTROL_DEFAULTS)}; got {control!r}."
        )
    for key, value in control.items():
        if key not in _CONTROL_DEFAULTS:
            raise one_of("control key", key, tuple(_CONTROL_DEFAULTS))
        out[key] = value
    if not isinstance(out["maxiter"], (int, np.integer)) or out["maxiter"] < 1:
        raise ValueError(
            f"`control['maxiter']` must be a positive integer; got {out['maxiter']!r}."
        )
    if not float(out["gtol"]) > 0:
        raise ValueError(f"`control['gtol']` must be positive; got {out['gtol']!r}.")
    return out


def _visit_order(values: pd.Series, visits: Sequence[Any] | None, name: str) -> list[Any]:
    if visits is not None:
        order = list(visits)
        if len(set(order)) != len(order):
            raise ValueError(f"`visits` must not repeat labels; got {format_values(order)}.")
        return order
    present = pd.unique(values.dropna())
    if isinstance(values.dtype, pd.CategoricalDtype):
        return [c for c in values.cat.categories if c in set(present)]
    try:
        return sorted(present.tolist())
    except TypeError as exc:  # mixed types
        raise TypeError(
            f"Column '{name}' mixes label types; pass `visits=` to give the order."
        ) from exc
