"""Batch scoring on Ray Data: the local engine's per-image code, spread over a cluster.

The pipeline, for files in input order::

    from_items([index, file])                       the file list, resumed rows already left out
      -> map_batches(decode_batch)                  Ray tasks: read + decode + fit (prepare_file)
      -> map_batches(InferenceActor, ActorPool)     one ONNX Runtime session per actor (CPU or GPU)
      -> iter_batches on the driver                 rows in input order, made by RowSchema.row

:class:`RayScorer` is a :data:`batch.Scorer`, so :func:`batch.score_folder`
drives a Ray run exactly as it drives a local one: the same report writers,
columns, error rows, resume, progress, summary and heatmap overlays. Only
where the work runs differs.

Inputs are local paths (listed by :func:`discovery.find_images`, so order and error
rows match the local engine; on a multi-node cluster they must be visible at
the same path on every node, e.g. a shared mount) or URIs that pyarrow's
filesystems open (``s3://``, ``gs://``, ``hdfs://``, ``abfs://``, ``file://``),
listed on the driver and read in the decode tasks; FabricScope has no storage
client of its own. A file that cannot be read is an error row, as locally.
(``ray.data.read_binary_files`` is not used: one unreadable object fails the
whole dataset there, and its rows carry rewritten paths.)

Fault tolerance is Ray's: a decode task or an inference actor whose process
dies is restarted and its batch retried (Ray Data's defaults: unbounded
restarts and retries). A batch that failed returns nothing, so no row is lost
or doubled; the driver checks this anyway (each index exactly once, in order).

Ray is imported only when a run starts: this module imports without the
``cluster`` extra.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import pickle
import signal
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import numpy as np

from .decode_pool import Prepared, prepare_file
from .discovery import find_images
from .imaging import MAX_PIXELS, is_image_path
from .inspector import Inspection, Inspector, ModelError
from .pipeline import Scored
from .row_schema import RowSchema
from .thresholds import Thresholds

INSTALL_HINT = "the Ray engine needs the 'cluster' extra: pip install 'fabricscope[cluster]'"

#: Fault injection for tests: "K:MARKER" makes an inference actor exit hard
#: (os._exit, as a crash or an OOM kill would) at its K-th batch, once: the
#: first actor to get there creates the file MARKER, later ones see it and go on.
FAULT_ENV = "FABRICSCOPE_RAY_FAULT"

Input = Path | str  # a local path, or a URI (str)

DECODE_MEMORY = 256 * 2**20  # bytes of memory Ray reserves per decode task


class ClusterError(Exception):
    """Ray is missing, cannot start or reach the cluster, or a run failed there."""


def import_ray() -> ModuleType:
    """``ray`` with Ray Data loaded, or a ClusterError saying how to install it."""
    try:
        import ray
        import ray.data  # loads the Data library onto the ray module
    except ImportError as exc:
        raise ClusterError(f"{INSTALL_HINT} ({exc})") from None
    return ray


# --- inputs -----------------------------------------------------------------------------------


def is_uri(path: Input) -> bool:
    """Whether ``path`` is a URI (``scheme://...``) rather than a local path."""
    return isinstance(path, str) and "://" in path


def find_inputs(paths: Sequence[Input], recursive: bool) -> list[Input]:
    """The files to score, like :func:`discovery.find_images`, URIs allowed.

    Without URIs this is exactly ``discovery.find_images``. A URI folder
    contributes its image files sorted by relative path (hidden names skipped),
    a URI that names a file (or nothing) is kept as given: reading it then says
    what is wrong, in its error row.
    """
    if not any(is_uri(p) for p in paths):
        return list(find_images([Path(p) for p in paths], recursive))
    out: list[Input] = []
    seen: set[str] = set()
    for p in paths:
        found: list[Input] = list_uri(str(p), recursive) if is_uri(p) else list(find_images([Path(p)], recursive))
        for f in found:
            key = f if isinstance(f, str) else os.path.normcase(os.path.realpath(f))
            if key not in seen:
                seen.add(key)
                out.append(f)
    return out


@functools.lru_cache(maxsize=16)
def _filesystem(root: str) -> tuple[Any, str]:
    """pyarrow filesystem and base path for a URI, once per process (S3 looks up a region)."""
    from pyarrow import fs as pafs

    return pafs.FileSystem.from_uri(root)


def list_uri(uri: str, recursive: bool) -> list[str]:
    """Image files under a URI folder, sorted by relative path; a file URI is returned as it is."""
    from pyarrow import fs as pafs

    try:
        filesystem, base = _filesystem(uri)
        info = filesystem.get_file_info(base)
        if info.type != pafs.FileType.Directory:
            return [uri]
        listed = filesystem.get_file_info(pafs.FileSelector(base, recursive=recursive))
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for bad URIs and access errors
        raise ClusterError(f"cannot list {uri}: {exc}") from None
    prefix = base.rstrip("/") + "/"
    rels = []
    for entry in listed:
        if entry.type != pafs.FileType.File or not entry.path.startswith(prefix):
            continue
        rel = entry.path[len(prefix) :]
        if any(part.startswith(".") for part in rel.split("/")) or not is_image_path(Path(rel)):
            continue
        rels.append(rel)
    root = uri.rstrip("/")
    return [f"{root}/{quote(rel, safe='/')}" for rel in sorted(rels)]


def _read_uri(root: str, rel: str) -> bytes:
    from pyarrow import fs as pafs

    filesystem, base = _filesystem(root)
    where = base if not rel else base.rstrip("/") + "/" + rel
    info = filesystem.get_file_info(where)
    if info.type == pafs.FileType.NotFound:
        raise FileNotFoundError(where)
    if info.type == pafs.FileType.Directory:
        raise IsADirectoryError(where)
    with filesystem.open_input_stream(where) as stream:
        return stream.read()


def _root_and_rel(uri: str) -> tuple[str, str]:
    """(filesystem root URI, path below it): one filesystem per scheme and host, opened once per process."""
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}/", unquote(parts.path.lstrip("/"))


def _items(files: Sequence[Input]) -> list[dict[str, Any]]:
    """Rows of the input dataset: index, and either a local path (bytes) or a URI's root + path below it."""
    items = []
    for i, f in enumerate(files):
        if is_uri(f):
            root, rel = _root_and_rel(str(f))
            items.append({"index": i, "local": b"", "root": root, "rel": rel})
        else:
            # Absolute: a worker's current folder is not the driver's. The report keeps the path as given.
            items.append({"index": i, "local": os.fsencode(os.path.abspath(f)), "root": "", "rel": ""})
    return items


# --- the work on the cluster ------------------------------------------------------------------


def _prepare_item(local: bytes, root: str, rel: str, size: int, max_pixels: int) -> Prepared:
    """prepare_file for a local path, or for the bytes of a URI; never raises."""
    if local:
        return prepare_file(Path(os.fsdecode(local)), size, max_pixels=max_pixels)
    name = Path(rel or root)
    try:
        data = _read_uri(root, rel)
    except FileNotFoundError:
        return Prepared(name, None, None, "file not found")
    except IsADirectoryError:
        return Prepared(name, None, None, "is a folder, not an image file")
    except Exception as exc:  # access denied, network: one bad object never stops a batch
        return Prepared(name, None, None, f"cannot read: {type(exc).__name__}: {exc}")
    return prepare_file(name, size, max_pixels=max_pixels, data=data)


def decode_batch(rows: dict[str, np.ndarray], size: int, max_pixels: int) -> dict[str, np.ndarray]:
    """Ray task: read and decode a block of files. Error rows carry a blank image and their reason."""
    n = len(rows["index"])
    arrays = np.zeros((n, size, size, 3), np.uint8)
    sizes = np.full((n, 2), -1, np.int64)
    errors = np.empty(n, dtype=object)
    for i in range(n):
        prep = _prepare_item(bytes(rows["local"][i]), str(rows["root"][i]), str(rows["rel"][i]), size, max_pixels)
        if prep.array is not None and prep.original_size is not None:
            arrays[i] = prep.array
            sizes[i] = prep.original_size
        errors[i] = prep.error.encode("utf-8", "surrogateescape")  # bytes: messages may quote odd file names
    return {"index": rows["index"], "image": arrays, "size": sizes, "error": errors}


class InferenceActor:
    """Ray actor: one ONNX Runtime session, kept for the whole run; decoded blocks in, inspections out."""

    def __init__(self, model: bytes, name: str, provider: str, threads: int | None, fault: str | None) -> None:
        # The model travels as bytes, so worker nodes need no copy of the file.
        with tempfile.TemporaryDirectory(prefix="fabricscope-model-") as tmp:
            path = Path(tmp) / name
            path.write_bytes(model)
            self.inspector = Inspector(path, provider=provider, threads=threads)  # the session holds the graph
        self._fault = fault
        self._calls = 0

    def _maybe_crash(self) -> None:
        if not self._fault:
            return
        at, _, marker = self._fault.partition(":")
        if self._calls == int(at):
            try:
                with open(marker, "x"):
                    pass
            except FileExistsError:
                return
            os._exit(77)

    def __call__(self, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        self._calls += 1
        self._maybe_crash()
        ok = np.array([len(e) == 0 for e in rows["error"]], dtype=bool)
        results: list[Inspection] = []
        if ok.any():
            sizes = [(int(w), int(h)) for w, h in rows["size"][ok]]
            try:
                results = self.inspector.run(np.ascontiguousarray(rows["image"][ok]), sizes)
            except Exception as exc:  # ORT raises several types; said in words, as locally
                raise ModelError(f"the model failed on a batch of {int(ok.sum())} images: {exc}") from None
        found = iter(results)
        inspections = np.empty(len(ok), dtype=object)
        for i, good in enumerate(ok):
            inspections[i] = pickle.dumps(next(found)) if good else b""
        return {"index": rows["index"], "inspection": inspections, "error": rows["error"]}


# --- the driver -------------------------------------------------------------------------------


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail fast on an address nothing listens at (ray.init would retry for minutes)."""
    netloc = urlsplit(address).netloc if "://" in address else address
    host, sep, port = netloc.rpartition(":")
    if not sep or not port.isdigit():
        return  # "auto", or a form Ray resolves itself
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise ClusterError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def ray_session(address: str | None = None, num_cpus: int | None = None) -> Iterator[ModuleType]:
    """Start a local Ray (``address`` None) or join a cluster, and shut down what was started here.

    A Ray already initialised in this process is used as it is and left running.
    Joining a cluster ships this fabricscope package to it (``py_modules``), so
    the workers run the same code as the driver; they need numpy, Pillow and
    onnxruntime installed.
    """
    ray = import_ray()
    started = False
    if not ray.is_initialized():
        # ray.init puts its own SIGTERM handler in (a stack dump, then death); the caller's
        # (the CLI finishes the report on SIGTERM) is put back afterwards.
        main_thread = threading.current_thread() is threading.main_thread()
        sigterm = signal.getsignal(signal.SIGTERM) if main_thread else None
        try:
            if address is None:
                ray.init(
                    num_cpus=num_cpus or os.cpu_count() or 1,
                    include_dashboard=False,
                    logging_level=logging.ERROR,
                    log_to_driver=False,
                )
            else:
                _check_reachable(address)
                package = str(Path(__file__).resolve().parent)
                ray.init(address=address, logging_level=logging.ERROR, runtime_env={"py_modules": [package]})
        except ClusterError:
            raise
        except Exception as exc:  # ConnectionError, RuntimeError, ValueError for bad addresses
            where = f"join the Ray cluster at {address}" if address else "start a local Ray"
            hint = ""
            if address and "RAY_AUTH_MODE" not in os.environ:
                hint = " (a cluster with token authentication needs RAY_AUTH_MODE=token and its token here)"
            raise ClusterError(f"cannot {where}: {exc}{hint}") from None
        started = True
        if sigterm is not None:
            signal.signal(signal.SIGTERM, sigterm)
    logging.getLogger("ray.data").setLevel(logging.WARNING)  # no per-dataset banners on stderr
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # "progress bars disabled": ours show
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


@dataclass
class RayScorer:
    """A :data:`batch.Scorer` that runs on Ray: pass it as ``score_folder(..., scorer=...)``.

    ``inspector``: the model opened on the driver (its spec and file; the actors open their
    own copy with ``provider``). ``thresholds`` judge the rows (default: the shipped ones). ``num_gpus``: GPUs per
    inference actor (Ray's ``num_gpus``, fractions allowed); 0 runs the actors
    on CPU with ``threads`` ONNX Runtime threads each (default: their
    ``actor_cpus``). ``max_actors``: the pool's upper size (default: what the
    cluster's GPUs allow, or half its CPUs, the other half decoding).
    """

    inspector: Inspector
    provider: str = "auto"
    threads: int | None = None
    num_gpus: float = 0.0
    actor_cpus: float = 1.0
    max_actors: int | None = None
    batch_size: int = 16
    max_pixels: int = MAX_PIXELS
    thresholds: Thresholds | None = None

    def __post_init__(self) -> None:
        self.providers_used: set[str] = set()  # what the actors really ran on

    def pool_size(self) -> int:
        if self.max_actors is not None:
            return max(1, self.max_actors)
        resources = import_ray().cluster_resources()
        if self.num_gpus > 0:
            return max(1, int(resources.get("GPU", 0) / self.num_gpus))
        return max(1, int(resources.get("CPU", 1) / 2 / self.actor_cpus))

    def build(self, files: Sequence[Input]) -> Any:
        """The Ray Dataset of scored rows (lazy: nothing runs until it is iterated)."""
        ray = import_ray()
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True  # rows leave in input order, as locally
        ctx.enable_progress_bars = False  # progress is ours (score_folder's on_progress)
        items = _items(files)
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        # Blocks small enough to spread over the decoders, big enough to keep task overhead low.
        block = max(1, min(4 * self.batch_size, -(-len(items) // (2 * cpus))))
        ds = ray.data.from_items(items, override_num_blocks=max(1, -(-len(items) // block)))
        size = self.inspector.input_size
        ds = ds.map_batches(
            decode_batch,
            batch_size=None,
            fn_kwargs={"size": size, "max_pixels": self.max_pixels},
            num_cpus=1,
            # A decode's working set (a large PNG or TIFF decodes at full size). Asking for it
            # also keeps Ray from fusing decoding into the inference actors (it fuses operators
            # with equal resource requests), so files decode in tasks on every CPU of the
            # cluster while the actors only run the model.
            memory=DECODE_MEMORY,
        )
        threads = self.threads or (None if self.num_gpus > 0 else max(1, int(self.actor_cpus)))
        model = self.inspector.path
        return ds.map_batches(
            InferenceActor,
            batch_size=self.batch_size,
            fn_constructor_kwargs={
                "model": model.read_bytes(),
                "name": model.name,
                "provider": self.provider,
                "threads": threads,
                "fault": os.environ.get(FAULT_ENV),
            },
            compute=ray.data.ActorPoolStrategy(min_size=1, max_size=self.pool_size()),
            num_cpus=self.actor_cpus,
            num_gpus=self.num_gpus or None,
        )

    def __call__(self, files: Sequence[Input], should_stop: Callable[[], bool] | None = None) -> Iterator[Scored]:
        files = list(files)
        if not files:
            return
        ray = import_ray()
        schema = RowSchema.of(self.inspector.spec)
        thresholds = self.thresholds if self.thresholds is not None else Thresholds.of(self.inspector.spec)
        expected = 0
        waiting: dict[int, tuple[bytes, bytes]] = {}
        try:
            ds = self.build(files)
            for block in ds.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=2):
                if should_stop is not None and should_stop():
                    return
                for index, blob, error in zip(block["index"], block["inspection"], block["error"], strict=True):
                    i = int(index)
                    if i < expected or i in waiting:  # a doubled row: never written twice
                        continue
                    waiting[i] = (bytes(blob), bytes(error))
                # Rows arrive in order (preserve_order); the buffer only guards that promise.
                while expected in waiting:
                    blob, error = waiting.pop(expected)
                    ins = pickle.loads(blob) if blob else None
                    if ins is not None:
                        self.providers_used.add(ins.provider)
                    path = files[expected]
                    row = schema.row(path, ins, error.decode("utf-8", "surrogateescape"), thresholds)
                    yield Scored(expected, path, row, ins)  # type: ignore[arg-type]
                    expected += 1
        except ray.exceptions.RayError as exc:
            raise ClusterError(f"the Ray run failed after {expected} images: {_first_line(exc)}") from None
        if expected != len(files):
            raise ClusterError(f"Ray returned {expected} of {len(files)} rows in order; the rest were lost")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    # Ray wraps user errors in a traceback; the last line says what went wrong.
    return lines[-1] if lines else type(exc).__name__
