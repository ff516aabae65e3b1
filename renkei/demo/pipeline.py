"""Generate blocks of rows in a forked child while the parent inserts the previous ones.

Generation (pure Python) and insertion (mostly the database engine) each take about half
of a large seed; on a machine with two cores they overlap instead of adding up. The child
generates the blocks in the same order as a plain loop would, so the data stay the same.
"""

import multiprocessing
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from renkei.demo.people import Block

QUEUE_BLOCKS = 2  # blocks waiting in the pipe: bounds the memory a fast child can fill


def blocks(make: Callable[[int], Block], starts: list[int], *, background: bool) -> Iterator[Block]:
    """``make(start)`` for each start, in order; in a child process when ``background``
    and the platform can fork (the child inherits ``make`` without pickling it)."""
    if not background or "fork" not in multiprocessing.get_all_start_methods():
        for start in starts:
            yield make(start)
        return
    context = multiprocessing.get_context("fork")
    queue: Any = context.Queue(maxsize=QUEUE_BLOCKS)
    child = context.Process(target=_produce, args=(make, starts, queue), daemon=True)
    child.start()
    try:
        for _ in starts:
            item = queue.get()
            if isinstance(item, str):
                raise RuntimeError(f"generating the demo data failed:\n{item}")
            yield item
    finally:
        child.terminate()  # the consumer stopped early (an error): stop generating
        child.join()


def _produce(make: Callable[[int], Block], starts: list[int], queue: Any) -> None:
    # Runs in the child: no database access, only generation.
    try:
        for start in starts:
            queue.put(make(start))
    except Exception:
        queue.put(traceback.format_exc())
