"""Batch scoring in a child process: :func:`batch.score_folder` as it is, its rows sent back over a pipe.

Why a process and not a thread: every Python thread of a process shares one GIL. Decoding and
scoring threads hold it between their C calls, and a GUI thread that needs it to paint waits,
worse when those threads run at a lower CPU priority and lose their core while holding it.
Measured on 2 cores (a one-off experiment replaying rows into the Batch tab at a real run's pace,
see docs/RELIABILITY.md §6b): the tab's own work blocks the GUI thread at most 21-29 ms; two busy
*processes* at nice +10 beside it change nothing (26-29 ms); two busy Python *threads* at nice +10
in the same process block it 382-395 ms.
A child process has its own interpreter and GIL. No Qt here: the engine's rules apply.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from fabricscope.engine import batch
from fabricscope.engine.inspector import Inspector

from . import decode_pool


@dataclass(frozen=True)
class ScoringJob:
    model: Path
    provider: str
    threads: int | None
    files: Sequence[Path]
    batch_size: int = 16
    workers: int = 2
    decode_timeout_s: float = decode_pool.DECODE_TIMEOUT_S
    nice: int = 0  # the child's niceness, at least (Unix); it may inherit a higher one from its thread


def _child(job: ScoringJob, conn: Connection, stop: Any) -> None:  # stop: a multiprocessing Event
    """The child's whole life: open the model, score, send ("row" | "progress" | "done" | "failed", payload)."""
    try:
        if job.nice > 0 and hasattr(os, "getpriority"):
            now = os.getpriority(os.PRIO_PROCESS, 0)
            os.setpriority(os.PRIO_PROCESS, 0, min(19, max(now, job.nice)))
        inspector = Inspector(job.model, provider=job.provider, threads=job.threads)
        summary = batch.score_folder(
            inspector,
            job.files,
            batch_size=job.batch_size,
            workers=job.workers,
            decode_timeout_s=job.decode_timeout_s,
            should_stop=stop.is_set,
            on_row=lambda scored: _send(conn, "row", scored),
            on_progress=lambda progress: _send(conn, "progress", progress),
        )
        _send(conn, "done", summary)
    except Exception as exc:  # said to the parent in words; the parent decides what the user sees
        _send(conn, "failed", f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()


KINDS = ("row", "progress", "done", "failed")


def _encode(kind: str, payload: object) -> bytes:
    """One message: a byte for its kind, then the pickled payload (see :func:`decode`)."""
    return bytes([KINDS.index(kind)]) + pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)


def _send(conn: Connection, kind: str, payload: object) -> None:
    conn.send_bytes(_encode(kind, payload))


def decode(data: bytes) -> Any:  # whatever the child sent
    """The payload of a raw message (see :meth:`ScoringProcess.raw_messages`)."""
    return pickle.loads(data[1:])


class ScoringProcess:
    """Runs one :class:`ScoringJob` in a spawned child; read its messages with :meth:`raw_messages`
    (what the Batch tab does) or, unpickled at once, :meth:`messages`."""

    def __init__(self, job: ScoringJob) -> None:
        ctx = mp.get_context("spawn")  # never fork a process that runs Qt and ONNX Runtime threads
        self._stop = ctx.Event()
        self._recv, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_child, args=(job, send, self._stop), name="fabricscope-scoring", daemon=True)
        self._proc.start()
        send.close()  # the child holds the only writing end: end of data means the child is gone

    def cancel(self) -> None:
        """Ask the child to stop before its next batch; rows scored so far still arrive."""
        self._stop.set()

    def raw_messages(self, poll_s: float = 0.1) -> Iterator[tuple[str, bytes] | None]:
        """(kind, still-pickled message) in order; None every ``poll_s`` without one (to check for a
        cancel); ends when the child has closed its end, with a "failed" message if it went without
        saying "done" or "failed". Left pickled so that a reading thread keeps no Python objects
        alive: objects piling up on a thread set off the garbage collector *there*, and a collection
        off the GUI thread that finalises Qt objects can deadlock with it (seen in our tests).
        Unpickle with :func:`decode` on the thread that uses them."""
        while True:
            if not self._recv.poll(poll_s):
                yield None
                continue
            try:
                data = self._recv.recv_bytes()
            except EOFError:
                self._proc.join(5)
                note = f"the scoring process ended unexpectedly (exit code {self._proc.exitcode})"
                yield ("failed", _encode("failed", note))
                return
            kind = KINDS[data[0]]
            yield (kind, data)
            if kind in ("done", "failed"):
                return

    def messages(self, poll_s: float = 0.1) -> Iterator[tuple[str, Any] | None]:
        """As :meth:`raw_messages`, unpickled."""
        for message in self.raw_messages(poll_s):
            yield None if message is None else (message[0], decode(message[1]))

    def close(self, timeout_s: float = 5.0) -> None:
        """Wait for the child to exit (after done/failed/cancel), killing it if it will not."""
        self._proc.join(timeout_s)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(timeout_s)
        self._recv.close()
