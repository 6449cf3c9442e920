"""run_units: submission order by cost never changes the results or their order."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from coaching_trials._parallel import run_units


def test_costliest_units_are_submitted_first_and_results_stay_in_unit_order() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def work(i: int) -> int:
        with lock:
            started.append(i)
        time.sleep(0.01)
        return i * i

    units = [(i,) for i in range(6)]
    cost = [1, 5, 2, 6, 3, 4]
    with ThreadPoolExecutor(max_workers=1) as ex:
        out = run_units(work, units, executor=ex, cost=cost)
    assert out == [i * i for i in range(6)]
    assert started == [3, 1, 5, 4, 2, 0]  # one worker: exactly the submission order
    assert run_units(work, units, cost=cost) == out  # serial: same results
