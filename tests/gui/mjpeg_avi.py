"""Write a small MJPEG AVI in pure Python (RIFF + JPEG frames from Pillow), for video-source tests."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
from PIL import Image


def _chunk(fourcc: bytes, data: bytes) -> bytes:
    pad = b"\0" if len(data) % 2 else b""
    return fourcc + struct.pack("<I", len(data)) + data + pad


def _list(kind: bytes, data: bytes) -> bytes:
    return b"LIST" + struct.pack("<I", len(data) + 4) + kind + data


def write_mjpeg_avi(path: Path, frames: list[np.ndarray], fps: int = 25) -> Path:
    """Write RGB uint8 frames (all the same size) as an MJPEG AVI; return ``path``."""
    height, width = frames[0].shape[:2]
    jpegs = []
    for f in frames:
        buf = io.BytesIO()
        Image.fromarray(f).save(buf, "JPEG", quality=85)
        jpegs.append(buf.getvalue())
    n = len(jpegs)
    usec = int(1_000_000 / fps)
    biggest = max(len(j) for j in jpegs)
    avih = struct.pack("<IIIIIIIIII4I", usec, biggest * fps, 0, 0x10, n, 0, 1, biggest, width, height, 0, 0, 0, 0)
    strh = struct.pack(
        "<4s4sIHHIIIIIIIIhhhh", b"vids", b"MJPG", 0, 0, 0, 0, 1, fps, 0, n, biggest, 0xFFFFFFFF, 0, 0, 0, width, height
    )
    strf = struct.pack("<IiiHH4sIiiII", 40, width, height, 1, 24, b"MJPG", width * height * 3, 0, 0, 0, 0)
    hdrl = _list(b"hdrl", _chunk(b"avih", avih) + _list(b"strl", _chunk(b"strh", strh) + _chunk(b"strf", strf)))
    movi_body = b""
    index = b""
    offset = 4
    for j in jpegs:
        chunk = _chunk(b"00dc", j)
        index += struct.pack("<4sIII", b"00dc", 0x10, offset, len(j))
        offset += len(chunk)
        movi_body += chunk
    body = b"AVI " + hdrl + _list(b"movi", movi_body) + _chunk(b"idx1", index)
    Path(path).write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return Path(path)
