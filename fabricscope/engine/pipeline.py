"""The scoring pipeline: files in, one :class:`Scored` per file out, in input order.

A thread pool (:class:`.decode_pool.DecodePool`) decodes files ahead of the model (Pillow and
ONNX Runtime both release the GIL, so decoding overlaps inference); read-ahead is bounded, so
memory does not grow with the folder. A file that cannot be read becomes an error row and the
batch goes on.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .decode_pool import DECODE_TIMEOUT_S, DecodeJob, DecodePool
from .imaging import MAX_PIXELS
from .inspector import Inspection, Inspector, ModelError
from .row_schema import Row, RowSchema
from .thresholds import Thresholds


@dataclass(frozen=True)
class Scored:
    """One file's result: its place in the input, the report row, the inspection (None on error)."""

    index: int
    path: Path
    row: Row
    inspection: Inspection | None


def iter_scores(
    inspector: Inspector,
    files: Sequence[Path],
    *,
    batch_size: int = 16,
    workers: int = 2,
    should_stop: Callable[[], bool] | None = None,
    max_pixels: int = MAX_PIXELS,
    decode_timeout_s: float = DECODE_TIMEOUT_S,
    thresholds: Thresholds | None = None,
) -> Iterator[Scored]:
    """Score ``files`` in input order, decoding ahead of the model on ``workers`` threads.

    At most ``2 * batch_size + workers`` images are decoded or decoding at any
    time. ``should_stop`` is checked before each batch; when it returns true
    the iterator ends (rows already yielded stand). Closing the iterator early
    cancels the decoding still queued. A file still decoding ``decode_timeout_s``
    after its decoding began becomes an error row and the run goes on (see
    :class:`.decode_pool.DecodePool`). Rows are judged at ``thresholds`` (default: the shipped ones);
    the inspections carry probabilities only.
    """
    if batch_size < 1 or workers < 1:
        raise ValueError("batch_size and workers must be at least 1")
    files = list(files)
    size, schema = inspector.input_size, RowSchema.of(inspector.spec)
    judge = thresholds if thresholds is not None else Thresholds.of(inspector.spec)
    ahead = 2 * batch_size + workers
    decoders = DecodePool(workers, size, max_pixels, decode_timeout_s)
    pending: deque[DecodeJob] = deque()
    next_file = 0

    def fill() -> None:
        nonlocal next_file
        while next_file < len(files) and len(pending) < ahead:
            pending.append(decoders.submit(files[next_file]))
            next_file += 1

    try:
        for start in range(0, len(files), batch_size):
            if should_stop is not None and should_stop():
                return
            fill()
            batch = [decoders.result(pending.popleft()) for _ in range(min(batch_size, len(files) - start))]
            fill()  # keep the decoders busy while the model runs on this batch
            ok = [p for p in batch if p.array is not None]
            results: list[Inspection] = []
            if ok:
                arrays = np.stack([p.array for p in ok])  # type: ignore[misc]
                try:
                    results = inspector.run(arrays, [p.original_size for p in ok])  # type: ignore[misc]
                except Exception as exc:  # ORT raises several types; say it in words
                    raise ModelError(f"the model failed on a batch of {len(ok)} images: {exc}") from None
            by_path = iter(results)
            for offset, prep in enumerate(batch):
                ins = next(by_path) if prep.array is not None else None
                yield Scored(start + offset, prep.path, schema.row(prep.path, ins, prep.error, judge), ins)
    finally:
        decoders.close(pending)
