"""Run independent work units serially or on any ``concurrent.futures.Executor``.

No scheduler of our own: the caller passes an executor (``ThreadPoolExecutor``,
``ProcessPoolExecutor``, or a dask.distributed ``Client.get_executor()``), we submit one task per
unit and collect results in unit order, so results never depend on the executor or the number
of workers (each unit carries its own seed). Progress is shown with tqdm when asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, as_completed
from contextlib import contextmanager
from typing import Any

import numpy as np

__all__ = ["check_executor", "run_units", "single_thread_blas"]


def check_executor(executor: Any) -> Executor | None:
    """``None`` or a ``concurrent.futures.Executor`` (dask: ``client.get_executor()``)."""
    if executor is None or isinstance(executor, Executor):
        return executor
    hint = ""
    if type(executor).__name__ == "Client":
        hint = " For dask.distributed pass `client.get_executor()`."
    raise TypeError(
        "`executor` must be None or a concurrent.futures.Executor (ThreadPoolExecutor, "
        f"ProcessPoolExecutor, dask's client.get_executor()); got {type(executor).__name__}." + hint
    )


@contextmanager
def single_thread_blas() -> Iterator[None]:
    """Limit BLAS to one thread (``threadpoolctl``, when installed; otherwise a no-op)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _progress_bar(progress: bool, total: int, desc: str) -> Any:
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "progress=True needs tqdm: pip install tqdm (or coaching-trials[parallel])."
        ) from None
    return tqdm(total=total, desc=desc, unit="task")


def run_units(
    fn: Callable[..., Any],
    units: Sequence[tuple[Any, ...]],
    *,
    executor: Executor | None = None,
    progress: bool = False,
    desc: str = "simulating",
    on_result: Callable[[int, Any], None] | None = None,
    cost: Sequence[float] | None = None,
) -> list[Any]:
    """``[fn(*unit) for unit in units]``, on ``executor`` if given; results in unit order.

    ``on_result(i, result)`` is called in this process as each unit finishes (completion
    order), e.g. to write a checkpoint. ``cost`` (a relative cost per unit) makes an executor
    receive the most expensive units first (longest-processing-time-first), so that the last
    units to finish are short ones and the workers end together; results are unaffected.
    """
    bar = _progress_bar(progress, len(units), desc)
    results: list[Any] = [None] * len(units)
    try:
        if executor is None:
            for i, unit in enumerate(units):
                results[i] = fn(*unit)
                if on_result is not None:
                    on_result(i, results[i])
                if bar is not None:
                    bar.update()
        else:
            order = (
                range(len(units)) if cost is None else np.argsort(-np.asarray(cost), kind="stable")
            )
            futures = {executor.submit(fn, *units[i]): int(i) for i in order}
            try:
                for future in as_completed(futures):
                    i = futures[future]
                    results[i] = future.result()
                    if on_result is not None:
                        on_result(i, results[i])
                    if bar is not None:
                        bar.update()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
    finally:
        if bar is not None:
            bar.close()
    return results
