"""Benchmark: simulated power against the numpy floor, and a design grid on 1 vs 2 workers.

Four measurements (best of ``--repeat``), printed as seconds and ratios:

1. ``coaching_trials.power`` for 10,000 ANCOVA trials (67 vs 71, PFI burnout at month 3), with
   the item-level measurement model (default) and the latent ("normal") model, against the
   numpy floor: a bivariate-normal baseline/follow-up draw per participant and one batched
   least-squares ANCOVA per trial, written here in a dozen lines. The goal is within 10x.
2. For reference, the old path: the full item-level generator of ``simulate_trial`` (every
   item of five instruments, demographics, dates, ...) scored and analysed (``--old``).
3. ``coaching_trials.power`` with the batched MMRM analysis: simulated trials per second.
4. ``coaching_trials.power_grid`` over 48 design cells (4 arm sizes x 3 effects x 2 dropout x
   2 ICC, each analysed by change, ANCOVA and MMRM) serially and on a 2-process
   ``ProcessPoolExecutor`` (workers started and warmed first), alternated ``--grid-repeat``
   times with the load average at each run; the tables are checked identical.

Run::

    python benchmarks/power_bench.py [--n-sims 10000] [--grid-sims 1000] [--repeat 3] [--old]

The machine may be shared: the floor is measured in the same run so the ratio is fair, and a
speed-up below 2 on 2 workers reflects whatever else is running.
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

import coaching_trials as ct


def best_of(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def numpy_floor(n_sims: int, n1: int = 67, n0: int = 71, rho: float = 0.65) -> float:
    """Normal-model ANCOVA power: the least work any simulation of this design must do."""
    rng = np.random.default_rng(1)
    n = n1 + n0
    treated = (np.arange(n) < n1).astype(float)
    y0 = rng.standard_normal((n_sims, n))
    y1 = rho * y0 + np.sqrt(1 - rho**2) * rng.standard_normal((n_sims, n)) + 0.4 * treated
    x = np.stack([np.ones((n_sims, n)), np.broadcast_to(treated, (n_sims, n)), y0], axis=-1)
    xtx_inv = np.linalg.inv(np.einsum("snp,snq->spq", x, x))
    coef = np.einsum("spq,snq,sn->sp", xtx_inv, x, y1)
    resid = y1 - np.einsum("snp,sp->sn", x, coef)
    se = np.sqrt((resid**2).sum(axis=1) / (n - 3) * xtx_inv[:, 1, 1])
    return float(np.mean(np.abs(coef[:, 1] / se) > 1.978))


def old_item_level(n_sims: int) -> float:
    """The previous power path: the full item-level generator, scored, ANCOVA per trial."""
    from coaching_trials.simulate.power import _batched_ols, _outcome_rule, _score
    from coaching_trials.simulate.trial import _configure, _generate

    config = _configure(
        n_immediate=67, n_delayed=71, waves=("baseline", "month3", "month6"), effects=None,
        dropout=None, dropout_odds_ratio=1.5, item_missing=0.02, n_coaches=8, persistence=0.9,
    )  # fmt: skip
    rng = np.random.default_rng(1)
    rule = _outcome_rule("pfi_burnout")
    rejections, done, chunk = 0, 0, 1000
    while done < n_sims:
        draws = _generate(rng, config, n_sims=min(chunk, n_sims - done))
        scores = np.where(draws.observed, _score(draws.items, rule), np.nan)
        y, y0 = scores[..., 1], scores[..., 0]
        t = (draws.arm_index == 0).astype(float)
        x = np.stack([np.ones_like(t), t, np.nan_to_num(y0)], axis=-1)
        coef, se, _ = _batched_ols(np.nan_to_num(y), x, ~np.isnan(y) & ~np.isnan(y0))
        rejections += int(np.sum(np.abs(coef[:, 1] / se[:, 1]) > 1.978))
        done += min(chunk, n_sims - done)
    return rejections / n_sims


GRID = {
    "n_per_arm": [30, 50, 70, 90],
    "standardized_effect": [0.3, 0.4, 0.5],
    "dropout": [0.05, 0.15],
    "icc": [0.0, 0.05],
    "analysis": ["change", "ancova", "mmrm"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-sims", type=int, default=10_000)
    parser.add_argument("--grid-sims", type=int, default=1000)
    parser.add_argument("--grid-repeat", type=int, default=3, help="serial/parallel pairs")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--old", action="store_true", help="also time the old item-level path")
    parser.add_argument("--grid-only", action="store_true", help="only the grid measurement")
    args = parser.parse_args()
    print(f"CPUs visible: {os.cpu_count()}; load average {os.getloadavg()[0]:.2f}")
    if not args.grid_only:
        power_vs_floor(args)
        mmrm_power(args)
    grid_serial_vs_parallel(args)


def power_vs_floor(args: argparse.Namespace) -> None:

    floor, _ = best_of(lambda: numpy_floor(args.n_sims), args.repeat)
    print(f"numpy floor ({args.n_sims} normal-model ANCOVA trials): {floor:.3f} s")
    for measurement in ("items", "latent"):
        t, res = best_of(
            lambda m=measurement: ct.power(n_sims=args.n_sims, measurement=m, seed=1),
            args.repeat,
        )
        print(
            f"ct.power({args.n_sims} trials, measurement={measurement!r}): {t:.3f} s "
            f"= {t / floor:.1f} x the floor (power {res.power:.3f})"
        )
    if args.old:
        t, p = best_of(lambda: old_item_level(args.n_sims), 1)
        print(f"old item-level generator path: {t:.3f} s = {t / floor:.1f} x the floor")


def _warm(_: int = 0) -> int:
    """Import the simulation code in a worker (what its first real task would otherwise pay)."""
    import coaching_trials.simulate.grid  # noqa: F401

    time.sleep(0.2)  # long enough that both workers take a task
    return os.getpid()


def grid_serial_vs_parallel(args: argparse.Namespace) -> None:
    """Serial vs 2 processes, alternated ``--grid-repeat`` times, with the load at each run.

    The machine's 2 cores are shared: a pair's speed-up is only meaningful next to the load
    average, so every pair is printed with it, plus the CPU-time bound (the speed-up 2 free
    cores would give, from the CPU seconds actually spent).
    """
    import resource

    kwargs = GRID | {"n_sims": args.grid_sims, "seed": 2024}
    n_cells = np.prod([len(v) for k, v in GRID.items() if k != "analysis"])
    ct.power_grid(**(kwargs | {"n_sims": 50}))  # warm-up in this process
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    serial_cpu_total = 0.0
    with ProcessPoolExecutor(max_workers=2) as ex:
        while len(set(ex.map(_warm, range(8)))) < 2:  # both workers started and warmed
            pass
        for rep in range(args.grid_repeat):
            load0 = os.getloadavg()[0]
            cpu0 = time.process_time()
            serial_t, serial = best_of(lambda: ct.power_grid(**kwargs).table, 1)
            serial_cpu = time.process_time() - cpu0
            serial_cpu_total += serial_cpu
            par_t, par = best_of(lambda: ct.power_grid(**kwargs, executor=ex).table, 1)
            pd.testing.assert_frame_equal(serial, par)
            print(
                f"power_grid {n_cells} cells x {len(GRID['analysis'])} analyses x "
                f"{args.grid_sims} trials, run {rep + 1}: serial {serial_t:.2f} s (CPU "
                f"{serial_cpu:.2f} s), 2 processes {par_t:.2f} s, speed-up "
                f"{serial_t / par_t:.2f}x (tables identical); load {load0:.2f} -> "
                f"{os.getloadavg()[0]:.2f}"
            )
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # workers have exited now
    worker_cpu = (children1.ru_utime + children1.ru_stime) - (
        children0.ru_utime + children0.ru_stime
    )
    print(
        f"  CPU per grid: serial {serial_cpu_total / args.grid_repeat:.2f} s, the 2 workers "
        f"{worker_cpu / args.grid_repeat:.2f} s together (incl. start-up and warm-up): with 2 "
        f"free cores the speed-up would be about "
        f"{serial_cpu_total / max(worker_cpu / 2, 1e-9):.2f}x"
    )


def mmrm_power(args: argparse.Namespace) -> None:
    """Simulated trials per second with the batched MMRM analysis (ML, monotone factorisation)."""
    for measurement in ("items", "latent"):
        t, res = best_of(
            lambda m=measurement: ct.power(
                n_immediate=67, n_delayed=71, analysis="mmrm", wave="month6",
                n_sims=args.n_sims, measurement=m, seed=1,
            ),
            args.repeat,
        )  # fmt: skip
        print(
            f"ct.power(analysis='mmrm', {args.n_sims} trials, measurement={measurement!r}): "
            f"{t:.3f} s = {args.n_sims / t:,.0f} trials/s (power {res.power:.3f}); "
            f"load {os.getloadavg()[0]:.2f}"
        )


if __name__ == "__main__":
    main()
