"""``executor=`` on multiple imputation, the tipping point and the reliability bootstraps: the
same numbers serially, on threads and on processes (the units and their seeds are fixed by the
call, never by the number of workers)."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

import coaching_trials as ct
from coaching_trials.analysis import _mi_engine


@pytest.fixture(scope="module")
def pools():
    with ThreadPoolExecutor(max_workers=3) as threads, ProcessPoolExecutor(max_workers=2) as procs:
        yield {"threads": threads, "processes": procs}


def _trial(n: int = 160, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.where(np.arange(n) % 2 == 0, "immediate", "delayed")
    base = rng.normal(2.0, 0.7, n)
    follow = 0.5 + 0.6 * base - 0.4 * (arm == "immediate") + rng.normal(0, 0.5, n)
    follow[rng.random(n) < 0.25] = np.nan
    base[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({"arm": arm, "base": base, "follow": follow})


KW = dict(outcome="follow", baseline="base", arm="arm", treated="immediate")


@pytest.mark.parametrize("kind", ["threads", "processes"])
def test_multiple_imputation_same_on_any_executor(pools, kind: str) -> None:
    data = _trial()
    m = 2 * _mi_engine.IMPUTATION_BLOCK + 30  # three blocks
    serial = ct.multiple_imputation(data, m=m, seed=11, **KW)
    pooled = ct.multiple_imputation(data, m=m, seed=11, executor=pools[kind], **KW)
    pd.testing.assert_frame_equal(pooled.imputations, serial.imputations)
    assert pooled.estimate == serial.estimate and pooled.std_error == serial.std_error
    # the blocks are independent streams: no two blocks repeat each other's draws
    est = serial.imputations["estimate"].to_numpy()
    block = _mi_engine.IMPUTATION_BLOCK
    assert not np.allclose(est[:30], est[block : block + 30])


def test_first_block_is_the_seed_stream() -> None:
    """Up to one block, the imputations are those of one call drawing from default_rng(seed)."""
    data = _trial()
    res = ct.multiple_imputation(data, m=20, seed=5, **KW)
    prep = _mi_engine.prepare(data, covariates=(), **KW)
    y, _ = _mi_engine.impute(prep, outcome="follow", baseline="base", m=20, by_arm=True,
                             iterations=10, rng=np.random.default_rng(5))  # fmt: skip
    np.testing.assert_array_equal(res.complete(3)["follow"].to_numpy(), y[2])


def test_tipping_point_same_on_processes(pools) -> None:
    data = _trial()
    deltas = [0.0, 0.5, 1.0, 1.5]
    serial = ct.tipping_point(data, deltas=deltas, m=120, seed=3, **KW)
    pooled = ct.tipping_point(data, deltas=deltas, m=120, seed=3, executor=pools["processes"],
                              **KW)  # fmt: skip
    pd.testing.assert_frame_equal(pooled.table, serial.table)
    assert pooled.tipping_delta == serial.tipping_delta


def test_omega_bootstrap_and_reliability_same_on_processes(pools) -> None:
    rng = np.random.default_rng(2)
    factor = rng.normal(size=(400, 1))
    items = pd.DataFrame(
        np.clip(np.round(2 + factor * 0.8 + rng.normal(size=(400, 6))), 0, 4),
        columns=[f"i{j}" for j in range(6)],
    )
    serial = ct.mcdonald_omega(items, n_boot=300, seed=9)
    pooled = ct.mcdonald_omega(items, n_boot=300, seed=9, executor=pools["processes"])
    assert (pooled.conf_low, pooled.conf_high) == (serial.conf_low, serial.conf_high)
    assert np.isfinite(serial.conf_low)

    example = ct.load_example("delayed_intervention")
    scored = example.responses
    table = ct.reliability(scored, "pfi", by="wave", n_boot=100, seed=1)
    on_pool = ct.reliability(scored, "pfi", by="wave", n_boot=100, seed=1,
                             executor=pools["threads"])  # fmt: skip
    pd.testing.assert_frame_equal(on_pool, table)


def test_executor_must_be_an_executor() -> None:
    with pytest.raises(TypeError, match="concurrent.futures.Executor"):
        ct.multiple_imputation(_trial(), m=5, seed=1, executor="dask", **KW)
