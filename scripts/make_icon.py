"""Draw the app icon, resources/fabricscope.png (256x256): ``python scripts/make_icon.py``.

``python scripts/make_icon.py --platform-icons`` instead converts that PNG into build/fabricscope.ico
(Windows) and build/fabricscope.icns (macOS), which packaging/fabricscope.spec uses when present.

A dark rounded tile with a woven swatch, a 7x7 grid over it, one hot cell at a hole: the app in one picture.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 256
OUT = Path(__file__).resolve().parent.parent / "resources" / "fabricscope.png"


def draw(size: int = SIZE) -> Image.Image:
    scale = 4  # draw large, shrink: smooth edges without an antialiasing renderer
    s = size * scale
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((0, 0, s - 1, s - 1), radius=s // 6, fill=(32, 33, 36, 255))
    pad = s // 8
    x0, y0, x1, y1 = pad, pad, s - pad, s - pad
    d.rectangle((x0, y0, x1, y1), fill=(176, 142, 96, 255))
    threads = 14
    step = (x1 - x0) / threads
    for i in range(threads):  # a plain weave: warp over weft on alternate squares
        for j in range(threads):
            over = (i + j) % 2 == 0
            colour = (214, 182, 132, 255) if over else (150, 118, 76, 255)
            a, b = x0 + i * step, y0 + j * step
            inset = step * 0.12
            if over:
                d.rectangle((a + inset, b, a + step - inset, b + step), fill=colour)
            else:
                d.rectangle((a, b + inset, a + step, b + step - inset), fill=colour)
    cx, cy, r = x0 + (x1 - x0) * 0.64, y0 + (y1 - y0) * 0.36, (x1 - x0) * 0.085
    cell = (x1 - x0) / 7
    ci, cj = int((cx - x0) // cell), int((cy - y0) // cell)
    heat = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    h = ImageDraw.Draw(heat)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            alpha = 110 if (di, dj) == (0, 0) else 55
            a, b = x0 + (ci + di) * cell, y0 + (cj + dj) * cell
            h.rectangle((a, b, a + cell, b + cell), fill=(239, 68, 68, alpha))
    img = Image.alpha_composite(img, heat)
    d = ImageDraw.Draw(img)
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(24, 24, 27, 255))  # the hole
    for k in range(8):  # the 7x7 map grid
        p = x0 + k * cell
        d.line((p, y0, p, y1), fill=(232, 234, 237, 200), width=scale * 2)
        q = y0 + k * cell
        d.line((x0, q, x1, q), fill=(232, 234, 237, 200), width=scale * 2)
    a, b = x0 + ci * cell, y0 + cj * cell
    d.rectangle((a, b, a + cell, b + cell), outline=(255, 214, 10, 255), width=scale * 4)
    return img.resize((size, size), Image.Resampling.LANCZOS)


def platform_icons(build: Path = OUT.parent.parent / "build") -> list[Path]:
    """The committed PNG as a Windows .ico and a macOS .icns under ``build``."""
    build.mkdir(parents=True, exist_ok=True)
    ico, icns = build / "fabricscope.ico", build / "fabricscope.icns"
    with Image.open(OUT) as png:
        png.save(ico, sizes=[(256, 256), (64, 64), (48, 48), (32, 32), (16, 16)])
        png.save(icns)
    return [ico, icns]


if __name__ == "__main__":
    if "--platform-icons" in sys.argv[1:]:
        for path in platform_icons():
            print(f"wrote {path}")
    else:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        draw().save(OUT, optimize=True)
        print(f"wrote {OUT}")
