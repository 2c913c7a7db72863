"""The batch engine: finding files, bad input, order, reports, resume, cancellation, overlays."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from toy_model import fabric_like

from fabricscope.engine import batch, decode_pool, discovery, heatmap_render, pipeline, report, row_schema, speed
from fabricscope.engine.inspector import Inspector
from fabricscope.engine.report import ReportError, ReportWriter
from fabricscope.engine.thresholds import Thresholds


@pytest.fixture(scope="module")
def inspector(toy_model: Path) -> Inspector:
    return Inspector(toy_model, provider="cpu", threads=1)


def save(path: Path, array: np.ndarray, **kw: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **kw)
    return path


def clean_and_holed(folder: Path, n: int, *, holes: tuple[int, ...] = (), size: int = 224) -> list[Path]:
    """``n`` JPEGs; the indices in ``holes`` get a dark hole the toy model flags."""
    return [
        save(folder / f"img_{i:03d}.jpg", fabric_like(i, size=size, hole_at=(i % 7, 2) if i in holes else None))
        for i in range(n)
    ]


@pytest.fixture
def bad_folder(tmp_path: Path) -> Path:
    """A folder with every kind of awkward file the design names."""
    d = tmp_path / "bad"
    d.mkdir()
    good = fabric_like(1)
    save(d / "a_good.jpg", good)
    (d / "b_corrupt.jpg").write_bytes(os.urandom(2000))
    full = (d / "a_good.jpg").read_bytes()
    (d / "c_truncated.jpg").write_bytes(full[: len(full) // 2])
    (d / "d_empty.png").write_bytes(b"")
    save(d / "e_big.png", fabric_like(2, size=300))  # over the low pixel limit the tests use
    save(d / "f_16bit.png", (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16))
    save(d / "g_grey.png", good[:, :, 0])
    Image.fromarray(good).convert("CMYK").save(d / "h_cmyk.jpg")
    save(d / "i_rgba.png", np.dstack([good, np.full(good.shape[:2], 10, np.uint8)]))
    (d / "j_notes.txt").write_text("not picked up by a folder scan")
    (d / "k_fake.png").write_text("a text file wearing an image suffix")
    return d


LIMIT = 250 * 250  # pixel limit that makes e_big.png (300x300) "too large"


def test_every_bad_file_is_one_error_row_and_the_rest_are_scored(inspector: Inspector, bad_folder: Path) -> None:
    files = discovery.find_images([bad_folder], recursive=False)
    assert [f.name for f in files] == [
        "a_good.jpg", "b_corrupt.jpg", "c_truncated.jpg", "d_empty.png", "e_big.png", "f_16bit.png",
        "g_grey.png", "h_cmyk.jpg", "i_rgba.png", "k_fake.png",
    ]  # fmt: skip
    scored = list(pipeline.iter_scores(inspector, files, batch_size=3, workers=2, max_pixels=LIMIT))
    assert [s.index for s in scored] == list(range(len(files)))
    rows = {s.path.name: s.row for s in scored}
    errors = {name: row["error"] for name, row in rows.items() if row["status"] == "error"}
    assert set(errors) == {"b_corrupt.jpg", "c_truncated.jpg", "d_empty.png", "e_big.png", "k_fake.png"}
    assert "empty" in errors["d_empty.png"]
    assert "truncated" in errors["c_truncated.jpg"]
    assert "decompression bomb" in errors["e_big.png"]
    assert "not an image" in errors["k_fake.png"]
    for name in ("a_good.jpg", "f_16bit.png", "g_grey.png", "h_cmyk.jpg", "i_rgba.png"):
        row = rows[name]
        assert row["status"] == "ok" and row["error"] == "", row
        assert 0.0 <= row["hole_prob"] <= 1.0 and isinstance(row["wrinkle_flag"], bool)
    assert (rows["f_16bit.png"]["width"], rows["f_16bit.png"]["height"]) == (64, 64)
    # A greyscale copy, an RGBA copy (alpha dropped) and the original get the same answer.
    for name in ("g_grey.png", "i_rgba.png"):
        assert rows[name]["hole_flag"] is False
    assert rows["i_rgba.png"]["hole_prob"] == pytest.approx(rows["a_good.jpg"]["hole_prob"], abs=0.02)


def test_error_rows_have_only_path_status_and_error(inspector: Inspector) -> None:
    row = row_schema.row_for(Path("x.jpg"), None, "empty file (0 bytes)", inspector.spec)
    assert list(row) == row_schema.columns(inspector.spec)
    assert row["status"] == "error" and row["error"] == "empty file (0 bytes)"
    assert all(row[c] is None for c in row if c not in ("path", "status", "error"))
    assert row_schema.columns(inspector.spec) == [
        "path", "status", "width", "height", "flagged",
        "hole_prob", "hole_flag", "hole_cell", "wrinkle_prob", "wrinkle_flag", "wrinkle_cell", "error",
    ]  # fmt: skip


def test_strongest_cell_and_flags_follow_the_hole(inspector: Inspector, tmp_path: Path) -> None:
    files = clean_and_holed(tmp_path, 4, holes=(3,))
    rows = [s.row for s in pipeline.iter_scores(inspector, files, batch_size=2)]
    assert [r["hole_flag"] for r in rows] == [False, False, False, True]
    assert [r["flagged"] for r in rows] == [False, False, False, True]
    assert rows[3]["hole_cell"] == "3,2"


def test_find_images_order_duplicates_suffixes_and_recursion(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for rel in ("b.jpg", "a.PNG", "sub/c.jpeg", "sub/deeper/d.tif", ".hidden.jpg", "notes.txt", ".git/e.jpg"):
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
    extra = tmp_path / "extra.dat"
    extra.write_bytes(b"x")
    flat = discovery.find_images([root], recursive=False)
    assert [p.relative_to(root).as_posix() for p in flat] == ["a.PNG", "b.jpg"]
    deep = discovery.find_images([root], recursive=True)
    assert [p.relative_to(root).as_posix() for p in deep] == ["a.PNG", "b.jpg", "sub/c.jpeg", "sub/deeper/d.tif"]
    # Argument order is kept; the same file by another path, or twice, is listed once at its first place.
    mixed = discovery.find_images([extra, root / "sub" / ".." / "b.jpg", root, extra], recursive=False)
    assert mixed == [extra, root / "sub" / ".." / "b.jpg", root / "a.PNG"]
    assert discovery.find_images([tmp_path / "missing.jpg"], recursive=False) == [tmp_path / "missing.jpg"]


def test_symlink_loops_are_skipped(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.jpg").write_bytes(b"x")
    (root / "sub" / "loop").symlink_to(root, target_is_directory=True)
    (root / "alias.jpg").symlink_to(root / "sub" / "a.jpg")
    found = discovery.find_images([root], recursive=True)
    assert found == [root / "alias.jpg"]  # sub/a.jpg is the same file, reached second


def test_missing_file_becomes_an_error_row(inspector: Inspector, tmp_path: Path) -> None:
    (row,) = [s.row for s in pipeline.iter_scores(inspector, [tmp_path / "gone.jpg"])]
    assert row["status"] == "error" and "not found" in row["error"]


def test_prepare_file_never_raises_and_fits_the_input(tmp_path: Path) -> None:
    ok = decode_pool.prepare_file(save(tmp_path / "w.jpg", fabric_like(0, size=640)), 224)
    assert ok.array is not None and ok.array.shape == (224, 224, 3) and ok.array.dtype == np.uint8
    assert ok.original_size == (640, 640) and ok.error == ""
    bad = decode_pool.prepare_file(tmp_path, 224)  # a folder
    assert bad.array is None and bad.original_size is None and "folder" in bad.error


def test_should_stop_ends_promptly_and_keeps_yielded_rows(inspector: Inspector, tmp_path: Path) -> None:
    files = clean_and_holed(tmp_path, 20)
    got: list[pipeline.Scored] = []
    for s in pipeline.iter_scores(inspector, files, batch_size=4, should_stop=lambda: len(got) >= 6):
        got.append(s)
    # Checked between batches: the batch in progress finishes, no further batch starts.
    assert [s.index for s in got] == list(range(8))


def test_a_file_that_decodes_too_long_is_given_up_and_the_run_goes_on(
    inspector: Inspector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A decoder stuck on one file (simulated: it sleeps 4 s) costs that file, not the run."""
    files = clean_and_holed(tmp_path, 12)
    slow = files[5]
    release = threading.Event()
    real = decode_pool.prepare_file
    running = 0
    most_running = 0
    lock = threading.Lock()

    def stuck_on_one(path: Path, size: int, **kw: object) -> decode_pool.Prepared:
        nonlocal running, most_running
        with lock:
            running += 1
            most_running = max(most_running, running)
        try:
            if path == slow:
                release.wait(4.0)
            return real(path, size, **kw)  # type: ignore[arg-type]
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(decode_pool, "prepare_file", stuck_on_one)
    rows = list(pipeline.iter_scores(inspector, files, batch_size=4, workers=2, decode_timeout_s=0.5))
    release.set()
    assert [s.index for s in rows] == list(range(12))  # order kept, every file once
    assert [s.row["status"] for s in rows].count("error") == 1
    assert rows[5].row["error"] == "decoding took longer than 0.5 s: given up (file skipped)"
    assert all(s.inspection is not None for k, s in enumerate(rows) if k != 5)
    # The given-up decode ran on beside the others; no more than workers + it at a time.
    assert most_running <= 3


def test_read_ahead_is_bounded(inspector: Inspector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = clean_and_holed(tmp_path, 40)
    started = 0
    lock = threading.Lock()
    real = decode_pool.prepare_file

    def counting(path: Path, size: int, **kw: object) -> decode_pool.Prepared:
        nonlocal started
        with lock:
            started += 1
        return real(path, size, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(decode_pool, "prepare_file", counting)
    worst = 0
    for k, _ in enumerate(pipeline.iter_scores(inspector, files, batch_size=4, workers=2)):
        worst = max(worst, started - k)
    assert started == 40
    assert worst <= 2 * 4 + 2 + 4  # read-ahead plus the batch being handed out


def test_score_folder_summary_and_progress(inspector: Inspector, tmp_path: Path) -> None:
    files = clean_and_holed(tmp_path / "imgs", 10, holes=(1, 7))
    (tmp_path / "imgs" / "zz_bad.jpg").write_bytes(b"junk")
    files.append(tmp_path / "imgs" / "zz_bad.jpg")
    seen: list[batch.Progress] = []
    rows: list[int] = []
    summary = batch.score_folder(
        inspector, files, batch_size=4, on_progress=seen.append, on_row=lambda s: rows.append(s.index)
    )
    assert (summary.total, summary.ok, summary.errors, summary.flagged) == (11, 10, 1, 2)
    assert summary.flagged_per_head == {"hole": 2, "wrinkle": 0}
    assert summary.error_rows[0]["path"].endswith("zz_bad.jpg")
    assert rows == list(range(11)) and not summary.stopped
    assert [p.done for p in seen] == [4, 8, 11] and seen[-1].eta_s == 0
    assert summary.images_per_s > 0 and "11 images: 10 ok, 1 error, 2 flagged" in summary.lines()[0]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".json"])
def test_reports_round_trip(inspector: Inspector, tmp_path: Path, suffix: str) -> None:
    files = clean_and_holed(tmp_path / "imgs", 6, holes=(2,))
    (tmp_path / "imgs" / 'bad, "quoted".jpg').write_bytes(b"junk")  # CSV quoting
    files.append(tmp_path / "imgs" / 'bad, "quoted".jpg')
    out = tmp_path / f"report{suffix}"
    expected = []
    batch.score_folder(inspector, files, report=out, batch_size=4, on_row=lambda s: expected.append(s.row))
    assert report.read_rows(out) == expected
    assert not report.sidecar_path(out).exists()
    if suffix == ".json":
        assert json.loads(out.read_text()) == expected


def test_report_folder_must_exist_and_be_writable(inspector: Inspector, tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="does not exist"):
        batch.score_folder(inspector, [], report=tmp_path / "nope" / "r.csv")
    with pytest.raises(ReportError, match="unknown report format"):
        report.check_writable(tmp_path / "r.xlsx")
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        with pytest.raises(ReportError, match="cannot write"):
            report.check_writable(locked / "r.csv")
    elif Path("/proc/self").exists():  # root ignores permissions; /proc refuses new files even to root
        with pytest.raises(ReportError, match="cannot write"):
            report.check_writable(Path("/proc/fabricscope-report.csv"))


def _tear_last_line(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: data.rstrip(b"\n").rfind(b"\n") + 12])  # keep 11 bytes of the last row


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_resume_after_a_torn_write_scores_each_file_once(inspector: Inspector, tmp_path: Path, suffix: str) -> None:
    files = clean_and_holed(tmp_path / "imgs", 9, holes=(4,))
    full = tmp_path / f"full{suffix}"
    batch.score_folder(inspector, files, report=full, batch_size=4)
    part = tmp_path / f"part{suffix}"
    with pytest.raises(KeyboardInterrupt):

        def interrupt(s: pipeline.Scored) -> None:
            if s.index == 5:
                raise KeyboardInterrupt

        batch.score_folder(inspector, files, report=part, batch_size=4, on_row=interrupt)
    assert len(report.read_rows(part)) == 6  # the row in hand when Ctrl-C came was already written
    _tear_last_line(part)
    assert len(report.read_rows(part)) == 5  # the torn row is dropped ...
    summary = batch.score_folder(inspector, files, report=part, resume=True, batch_size=4)
    assert (summary.resumed, summary.scored, summary.ok) == (5, 4, 9)  # ... and its image scored again
    assert report.read_rows(part) == report.read_rows(full)
    assert part.read_text().count(str(files[5])) == 1


def test_json_report_survives_a_kill_through_its_sidecar(inspector: Inspector, tmp_path: Path) -> None:
    files = clean_and_holed(tmp_path / "imgs", 7)
    out = tmp_path / "r.json"
    writer = ReportWriter(out, row_schema.columns(inspector.spec))
    for s in pipeline.iter_scores(inspector, files[:3]):
        writer.write(s.row)
    # No close(): as after SIGKILL. The rows are in the sidecar, the array is not written yet.
    assert not out.exists() and len(report.read_rows(out)) == 3
    summary = batch.score_folder(inspector, files, report=out, resume=True)
    assert (summary.resumed, summary.scored) == (3, 4)
    rows = json.loads(out.read_text())
    assert [r["path"] for r in rows] == [str(f) for f in files]
    assert not report.sidecar_path(out).exists()


def test_resume_refuses_a_report_with_other_columns(inspector: Inspector, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    out.write_text("path,status,colour\nx.jpg,ok,red\n")
    with pytest.raises(ReportError, match="other columns"):
        batch.score_folder(inspector, [], report=out, resume=True)


def test_heatmap_overlays_are_written_for_ok_rows(inspector: Inspector, tmp_path: Path) -> None:
    files = clean_and_holed(tmp_path / "imgs" / "a", 3, holes=(1,))
    (tmp_path / "imgs" / "b").mkdir()
    files.append(save(tmp_path / "imgs" / "b" / "img_000.jpg", fabric_like(9)))  # same name, other folder
    files.append(tmp_path / "imgs" / "broken.jpg")
    files[-1].write_bytes(b"junk")
    out = tmp_path / "heat"
    summary = batch.score_folder(inspector, files, heatmaps=out, heatmap_format="png")
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert written == ["a/img_000.jpg.heatmap.png", "a/img_001.jpg.heatmap.png", "a/img_002.jpg.heatmap.png",
                       "b/img_000.jpg.heatmap.png"]  # fmt: skip
    assert summary.heatmaps_written == 4 and summary.heatmap_errors == []
    with Image.open(out / "a/img_001.jpg.heatmap.png") as img:
        title, header, footer, _ = heatmap_render.layout(320)
        assert img.size == (2 * 320 + heatmap_render.PANEL_GAP, title + header + 320 + footer)
    flagged_only = tmp_path / "heat2"
    batch.score_folder(inspector, files, heatmaps=flagged_only, heatmaps_for="flagged")
    assert [p.name for p in flagged_only.rglob("*.jpg")] == ["img_001.jpg.heatmap.jpg"]


def test_overlay_is_smooth_and_hottest_where_the_hole_is(inspector: Inspector) -> None:
    frame = fabric_like(4, hole_at=(5, 1))
    ins = inspector.inspect(frame)
    up = heatmap_render.upsample(ins.head("hole").cells, 224, 224)
    assert up.shape == (224, 224)
    row, col = np.unravel_index(np.argmax(up), up.shape)
    assert row // 32 == 5 and col // 32 == 1
    assert np.abs(np.diff(up, axis=1)).max() < np.ptp(up) / 4  # no blocky 7x7 jumps
    picture = heatmap_render.render_overlay(frame, ins, Thresholds.of(inspector.spec), height=160)
    title, header, footer, _ = heatmap_render.layout(160)
    panel = heatmap_render.MIN_PANEL_WIDTH  # a 160-px image is centred in a panel wide enough for its text
    assert picture.shape == (title + header + 160 + footer, 2 * panel + heatmap_render.PANEL_GAP, 3)
    lut = heatmap_render.colormap()
    assert lut.shape == (256, 3) and lut.dtype == np.uint8 and lut[0].sum() < lut[-1].sum()


def _badge_pixels(picture: np.ndarray, panel: int, colour: tuple[int, int, int]) -> int:
    """Pixels of exactly ``colour`` in the header of panel ``panel`` (0-based), where the verdict badge sits."""
    title, header, _, _ = heatmap_render.layout(320)
    width = (picture.shape[1] + heatmap_render.PANEL_GAP) // 2
    area = picture[title : title + header, panel * width : (panel + 1) * width - heatmap_render.PANEL_GAP]
    return int(np.all(area == colour, axis=-1).sum())


def test_overlay_verdict_follows_the_threshold(inspector: Inspector) -> None:
    """PASS or FAIL per head is chosen from P against that head's threshold, and drawn in its colour."""
    ins = inspector.inspect(fabric_like(4, hole_at=(2, 5)))
    p = ins.head("hole").prob
    fail = Thresholds.from_mapping({"hole": max(p - 0.05, 0.01), "wrinkle": 0.99})
    passed = Thresholds.from_mapping({"hole": min(p + 0.05, 0.99), "wrinkle": 0.99})
    hole = ins.head("hole")
    assert heatmap_render.verdict(hole, fail["hole"]) == "FAIL"
    assert heatmap_render.verdict(hole, passed["hole"]) == "PASS"
    assert ">= threshold" in heatmap_render._caption(hole, fail["hole"])
    assert "< threshold" in heatmap_render._caption(hole, passed["hole"])
    frame = fabric_like(4, hole_at=(2, 5))
    red, green = heatmap_render.FAIL_COLOUR, heatmap_render.PASS_COLOUR
    pic = heatmap_render.render_overlay(frame, ins, fail)
    assert _badge_pixels(pic, 0, red) > 200 and _badge_pixels(pic, 0, green) == 0
    assert _badge_pixels(pic, 1, green) > 200 and _badge_pixels(pic, 1, red) == 0  # wrinkle passes at 0.99
    pic = heatmap_render.render_overlay(frame, ins, passed)
    assert _badge_pixels(pic, 0, green) > 200 and _badge_pixels(pic, 0, red) == 0


def test_overlay_has_the_map_grid_and_a_colour_bar(inspector: Inspector) -> None:
    frame = np.full((224, 224, 3), 60, np.uint8)
    ins = inspector.inspect(frame)
    pic = heatmap_render.render_overlay(frame, ins, Thresholds.of(inspector.spec), height=320).astype(int)
    title, header, _, _ = heatmap_render.layout(320)
    image = pic[title + header : title + header + 320, :320]  # the first panel's image
    brightness = image.sum(axis=-1)
    for k in range(1, 7):  # a light line at each of the 6 inner cell boundaries, both ways
        x = round(k * 320 / 7)
        assert (brightness[:, x] - brightness[:, x - 2]).mean() > 40, x
        assert (brightness[x, :] - brightness[x - 2, :]).mean() > 40, x
    assert (brightness[:, 20] - brightness[:, 18]).std() < 5  # and none inside a cell
    # The colour bar: the colour map's ends, left to right, somewhere in the footer.
    lut = heatmap_render.colormap().astype(int)
    foot = pic[title + header + 320 :, :320]
    rows = [r for r in foot if np.abs(r[20] - lut[round(255 * 12 / 303)]).sum() < 20]
    assert rows, "no colour bar in the footer"
    bar = rows[len(rows) // 2]
    assert np.abs(bar[9] - lut[0]).sum() < 20 and np.abs(bar[320 - 10] - lut[255]).sum() < 20


def test_overlay_title_is_the_file_name_and_long_names_are_cut(inspector: Inspector, tmp_path: Path) -> None:
    frame = fabric_like(1)
    ins = inspector.inspect(frame)
    shipped = Thresholds.of(inspector.spec)
    small = heatmap_render.render_overlay(frame, ins, shipped, height=100, title="x" * 500)  # never loops or overflows
    assert small.shape[1] == 2 * heatmap_render.MIN_PANEL_WIDTH + heatmap_render.PANEL_GAP
    src = save(tmp_path / "tall.png", np.asarray(Image.fromarray(frame).resize((60, 400))))
    out = heatmap_render.write_overlay(src, ins, Thresholds.of(inspector.spec), tmp_path / "o.png")
    with Image.open(out) as img:
        assert img.width == 2 * heatmap_render.MIN_PANEL_WIDTH + heatmap_render.PANEL_GAP


def test_measure_model_speed(inspector: Inspector) -> None:
    result = speed.measure_model_speed(inspector, batch_sizes=(1, 4), seconds=0.05)
    assert result.latency_ms > 0 and set(result.images_per_s) == {1, 4}
    assert result.best_batch in (1, 4) and result.best_images_per_s > 0 and result.provider == "cpu"


def test_resume_rewrites_overlays_a_kill_left_unwritten(inspector: Inspector, tmp_path: Path) -> None:
    files = clean_and_holed(tmp_path / "imgs", 4, holes=(2,))
    out, heat = tmp_path / "r.csv", tmp_path / "heat"
    batch.score_folder(inspector, files, report=out, heatmaps=heat)
    before = report.read_rows(out)
    lost = heat / "img_002.jpg.heatmap.jpg"
    lost.unlink()
    summary = batch.score_folder(inspector, files, report=out, heatmaps=heat, resume=True)
    assert lost.exists() and summary.heatmaps_written == 1 and summary.scored == 0
    assert report.read_rows(out) == before


def test_heatmap_folder_that_cannot_be_made_is_refused_before_scoring(inspector: Inspector, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    out = tmp_path / "r.csv"
    with pytest.raises(ReportError, match="cannot create the heatmap folder"):
        batch.score_folder(inspector, [tmp_path / "x.jpg"], report=out, heatmaps=tmp_path / "afile" / "heat")
    assert not out.exists()


def test_a_model_failure_mid_run_keeps_the_rows_so_far(
    inspector: Inspector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fabricscope.engine.inspector import ModelError

    files = clean_and_holed(tmp_path / "imgs", 6)
    real_run, calls = inspector.run, []

    def failing_second_batch(*args: object, **kw: object) -> list:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("device lost")
        return real_run(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(inspector, "run", failing_second_batch)
    out = tmp_path / "r.jsonl"
    with pytest.raises(ModelError, match="device lost"):
        batch.score_folder(inspector, files, report=out, batch_size=3)
    assert [Path(r["path"]).name for r in report.read_rows(out)] == [f.name for f in files[:3]]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".json"])
def test_a_file_name_that_is_not_utf8_round_trips(inspector: Inspector, tmp_path: Path, suffix: str) -> None:
    folder = tmp_path / "imgs"
    folder.mkdir()
    odd = Path(os.fsdecode(bytes(folder) + b"/caf\xe9.jpg"))  # Latin-1 bytes in a name
    save(odd, fabric_like(0))
    out = tmp_path / f"r{suffix}"
    batch.score_folder(inspector, [odd], report=out)
    (row,) = report.read_rows(out)
    assert row["path"] == str(odd) and row["status"] == "ok"
    assert batch.score_folder(inspector, [odd], report=out, resume=True).resumed == 1
