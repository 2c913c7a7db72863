"""Decoding files for the model: one file (:func:`prepare_file`), and a thread pool with a time limit per file.

JPEGs are decoded at the smallest DCT scale that still covers the model input. A file that cannot be
read becomes a :class:`Prepared` with the reason, never an exception. Pillow cannot be interrupted, so
:class:`DecodePool` gives up on a file still decoding after ``timeout_s`` (an error row) and lets its
thread finish in the background.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .imaging import MAX_PIXELS, ImageError, decode_image, fit_to_input


@dataclass(frozen=True)
class Prepared:
    """One file decoded and fitted to the model input, or the reason it could not be."""

    path: Path
    array: np.ndarray | None  # size x size x 3 uint8, None on error
    original_size: tuple[int, int] | None  # (width, height) upright, None on error
    error: str = ""


def prepare_file(path: Path, size: int, *, max_pixels: int = MAX_PIXELS, data: bytes | None = None) -> Prepared:
    """Decode ``path`` no larger than needed and fit it to ``size``; never raises.

    ``data``: the file's bytes, already read (e.g. from an object store); ``path`` then only names it.
    """
    try:
        decoded = decode_image(path if data is None else data, target=size, max_pixels=max_pixels)
        return Prepared(path, fit_to_input(decoded.rgb, size), decoded.original_size)
    except ImageError as exc:
        return Prepared(path, None, None, str(exc))
    except Exception as exc:  # one bad file must never stop a batch
        return Prepared(path, None, None, f"unexpected error: {type(exc).__name__}: {exc}")


#: A file still decoding this long after its decoding began is given up (an error row).
DECODE_TIMEOUT_S = 60.0
#: Decoders given up on keep their thread until the decoder returns; past this many the run stops waiting
#: for a free thread and fails, rather than hang (only a decoder that never returns gets here).
MAX_ABANDONED = 4


@dataclass
class DecodeJob:
    path: Path
    future: Future[Prepared]
    started: float = 0.0  # monotonic time its decoding began; 0 while queued
    given_up: bool = False
    finished: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class DecodePool:
    """A decoding pool with a time limit per file.

    Pillow cannot be interrupted, so a file over the limit is *given up*: its
    row becomes an error and the run goes on, while its thread finishes in the
    background. ``workers`` decodes run at once (a semaphore); the pool has
    :data:`MAX_ABANDONED` spare threads so given-up decodes do not starve the rest.
    """

    def __init__(self, workers: int, size: int, max_pixels: int, timeout_s: float) -> None:
        self.size, self.max_pixels, self.timeout_s = size, max_pixels, timeout_s
        self.slots = threading.Semaphore(workers)
        self.abandoned = 0
        self.pool = ThreadPoolExecutor(max_workers=workers + MAX_ABANDONED, thread_name_prefix="fabricscope-decode")

    def submit(self, path: Path) -> DecodeJob:
        job = DecodeJob(path, Future())
        job.future = self.pool.submit(self._run, job)
        return job

    def _run(self, job: DecodeJob) -> Prepared:
        self.slots.acquire()
        job.started = time.monotonic()
        try:
            return prepare_file(job.path, self.size, max_pixels=self.max_pixels)
        finally:
            with job.lock:
                job.finished = True
                release = not job.given_up  # a given-up job's slot was handed back already
            if release:
                self.slots.release()

    def result(self, job: DecodeJob) -> Prepared:
        while True:
            try:
                return job.future.result(timeout=min(1.0, self.timeout_s))
            except FutureTimeout:
                started = job.started
                if not started or time.monotonic() - started < self.timeout_s:
                    continue
            with job.lock:
                give_up = not job.finished
                job.given_up = give_up
            if not give_up:  # it finished just now
                return job.future.result()
            self.slots.release()  # let the next file decode while this one runs on
            self.abandoned += 1
            if self.abandoned > MAX_ABANDONED:
                raise RuntimeError(f"{self.abandoned} files never finished decoding; giving up the run")
            return Prepared(
                job.path, None, None, f"decoding took longer than {self.timeout_s:g} s: given up (file skipped)"
            )

    def close(self, pending: deque[DecodeJob]) -> None:
        for job in pending:
            job.future.cancel()
        # Given-up decodes may still be running: do not wait for them.
        self.pool.shutdown(wait=self.abandoned == 0, cancel_futures=True)
