"""Background threads for the batch tab: scoring a folder, exporting, loading thumbnails.

:class:`ScoringThread` runs the engine's own driver, :func:`batch.score_folder`
(the same code as ``fabricscope score``), in a child process
(:mod:`fabricscope.engine.score_process`: its own GIL, so the GUI thread never waits for it).
Rows are not sent one signal each: the QThread reading the child's pipe appends
them, still pickled, to a deque and the GUI thread takes and unpickles them in
chunks from a timer (:meth:`ScoringThread.take_rows`), so 10,000 files cost the
GUI a few dozen table inserts. Cancelling sets an event the engine checks before
each batch; rows already scored are kept.

:class:`ExportThread` runs an export job (:mod:`fabricscope.engine.export`: the table with the
engine's report writer and columns, or the flagged images' heatmap overlays).

:class:`ThumbnailLoader` decodes small thumbnails on one pool thread, newest
request first, so only the rows a user is looking at get decoded.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, Signal
from PySide6.QtGui import QImage, QPixmap

from ..engine import batch, discovery, pipeline
from ..engine.imaging import ImageError, thumbnail
from ..engine.inspector import Inspector
from ..engine.score_process import ScoringJob, ScoringProcess, decode
from ..engine.summary import Summary
from . import background
from .background import lower_this_thread


class ScoringThread(QThread):
    """Find the images under ``paths`` and score them with ``batch.score_folder``.

    Signals: ``found(total)`` once the file list is known, ``failed(message)``
    if the run could not go on, and QThread's ``finished``. Progress and rows
    are polled by the GUI thread (:attr:`progress`, :meth:`take_rows`).
    """

    found = Signal(int)
    failed = Signal(str)

    def __init__(
        self,
        inspector: Inspector,
        paths: Sequence[Path],
        *,
        recursive: bool,
        batch_size: int = 16,
        workers: int = 2,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.inspector = inspector
        self.paths = [Path(p) for p in paths]
        self.recursive = recursive
        self.batch_size = batch_size
        self.workers = workers
        self.files: list[Path] = []
        self.summary: Summary | None = None
        self._progress: bytes | None = None  # pickled batch.Progress (see progress)
        self.started_at = 0.0
        self._rows: deque[bytes] = deque()  # pickled pipeline.Scored rows, oldest first
        self._stop = threading.Event()

    def cancel(self) -> None:
        """Ask the engine to stop before its next batch (rows scored so far stay)."""
        self._stop.set()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    def take_rows(self, limit: int | None = None) -> list[pipeline.Scored]:
        """Rows scored since the last call, oldest first (GUI thread)."""
        out: list[pipeline.Scored] = []
        while self._rows and (limit is None or len(out) < limit):
            out.append(decode(self._rows.popleft()))
        return out

    @property
    def pending(self) -> int:
        return len(self._rows)

    def run(self) -> None:
        lower_this_thread()  # and the decode threads it starts: the GUI thread keeps a core
        self.started_at = time.perf_counter()
        try:
            self.files = discovery.find_images(self.paths, self.recursive)
            self.found.emit(len(self.files))
            if not self.files or self._stop.is_set():
                self.summary = Summary(total=len(self.files), stopped=self._stop.is_set())
                return
            job = ScoringJob(
                model=self.inspector.path,
                provider=self.inspector.provider_report.requested,
                threads=self.inspector.threads,
                files=self.files,
                batch_size=self.batch_size,
                workers=self.workers,
                nice=background.NICE_STEPS,
            )
            self._score_in_child(job)
        except Exception as exc:  # the engine turns bad files into rows; anything else is said in words
            self.failed.emit(f"scoring stopped: {type(exc).__name__}: {exc}")

    def _score_in_child(self, job: ScoringJob) -> None:
        """The engine runs in a child process (its own GIL: see fabricscope.engine.score_process); this thread
        only moves its messages into the deque the GUI thread drains."""
        child = ScoringProcess(job)
        cancelled = False
        try:
            for message in child.raw_messages():
                if self._stop.is_set() and not cancelled:
                    child.cancel()
                    cancelled = True
                if message is None:
                    continue
                kind, data = message
                if kind == "row":
                    self._rows.append(data)  # still pickled: unpickled on the GUI thread (take_rows)
                elif kind == "progress":
                    self._progress = data
                elif kind == "done":
                    self.summary = decode(data)
                elif kind == "failed":
                    self.failed.emit(f"scoring stopped: {decode(data)}")
        finally:
            child.close()

    @property
    def progress(self) -> batch.Progress | None:
        """Where the run stands (unpickled here, on the caller's thread)."""
        data = self._progress
        return decode(data) if data is not None else None


class ExportThread(QThread):
    """Run one export job off the GUI thread: ``job(report, should_stop) -> summary text``.

    ``report(done, total)`` may be called from the job; the GUI polls :attr:`done`/:attr:`total`.
    """

    failed = Signal(str)

    def __init__(
        self, job: Callable[[Callable[[int, int], None], Callable[[], bool]], str], parent: QObject | None = None
    ):
        super().__init__(parent)
        self._job = job
        self.done = 0
        self.total = 0
        self.result = ""
        self._stop = threading.Event()

    def cancel(self) -> None:
        self._stop.set()

    def _report(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def run(self) -> None:
        lower_this_thread()
        try:
            self.result = self._job(self._report, self._stop.is_set)
        except Exception as exc:  # e.g. a read-only folder: said in words, never a crash
            self.failed.emit(f"{type(exc).__name__}: {exc}")


# --- thumbnails -------------------------------------------------------------------------------


def thumbnail_image(path: Path, side: int) -> QImage:
    """A small upright thumbnail (longest side ``side``) as a QImage; ImageError on a bad file."""
    rgb = thumbnail(path, side)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()  # copy: own the pixels


class _ThumbnailJob(QRunnable):
    def __init__(self, loader: ThumbnailLoader) -> None:
        super().__init__()
        self.loader = loader

    def run(self) -> None:
        self.loader._drain()


class ThumbnailLoader(QObject):
    """Loads thumbnails by key on demand, newest request first, and caches a few thousand.

    ``get(key, path)`` returns a cached QPixmap, or None and queues a load; when
    it is ready ``ready(key)`` fires on the GUI thread. Keys are ints (table rows).
    Requests beyond ``backlog`` are dropped oldest first: after a fast scroll only
    the rows now on screen are decoded.
    """

    ready = Signal(int)
    _loaded = Signal(int, int, QImage, bool)

    def __init__(self, side: int = 40, cache_size: int = 3000, backlog: int = 120) -> None:
        super().__init__()
        self.side = side
        self.cache_size = cache_size
        self._cache: OrderedDict[int, QPixmap | None] = OrderedDict()
        self._queue: deque[tuple[int, int, Path]] = deque(maxlen=backlog)
        self._queued: set[int] = set()
        self._lock = threading.Lock()
        self._generation = 0
        self._running = False
        self._pool = QThreadPool()
        self._pool.setMaxThreadCount(1)
        self._loaded.connect(self._on_loaded)

    def clear(self) -> None:
        """Forget every thumbnail (a new run); loads in flight are discarded."""
        with self._lock:
            self._generation += 1
            self._queue.clear()
            self._queued.clear()
        self._cache.clear()

    def get(self, key: int, path: Path) -> QPixmap | None:
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        with self._lock:
            if key not in self._queued:
                if len(self._queue) == self._queue.maxlen:
                    self._queued.discard(self._queue[0][1])
                self._queue.append((self._generation, key, path))
                self._queued.add(key)
            if not self._running:
                self._running = True
                self._pool.start(_ThumbnailJob(self))
        return None

    def wait(self, msecs: int = 5000) -> bool:
        return self._pool.waitForDone(msecs)

    def _drain(self) -> None:
        lower_this_thread()
        while True:
            with self._lock:
                if not self._queue:
                    self._running = False
                    return
                generation, key, path = self._queue.pop()  # newest first: the rows on screen now
            try:
                image, ok = thumbnail_image(path, self.side), True
            except ImageError:
                image, ok = QImage(), False
            except Exception:
                image, ok = QImage(), False
            self._loaded.emit(generation, key, image, ok)

    def _on_loaded(self, generation: int, key: int, image: QImage, ok: bool) -> None:
        with self._lock:
            if generation != self._generation:
                return
            self._queued.discard(key)
        self._cache[key] = QPixmap.fromImage(image) if ok else None
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        self.ready.emit(key)
