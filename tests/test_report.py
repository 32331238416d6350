"""``corruptgen report``: one HTML page of a built tree and of evaluations of it, read from the
manifests and results files, checked as HTML here and in a real browser (headless Chromium)."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from fixtures import FEW, cli, make_cifar, make_cityscapes, make_mnist, make_voc
from PIL import Image

from corruptgen import __version__
from corruptgen.report.build import read_build
from corruptgen.report.grid import choose_samples

GEOMETRIC = ["--corruptions", "fog,shear,rotate", "--severities", "1,4"]


class Page(HTMLParser):
    """The page's figures (cell, key, image, overlay shapes), table cells with values, and links."""

    def __init__(self, text: str):
        super().__init__()
        self.figures: list[dict] = []
        self.values: list[float] = []
        self.links: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "figure":
            self.figures.append({"cell": a["data-cell"], "key": a["data-key"], "rects": [], "img": None})
        elif tag == "img" and self.figures and self.figures[-1]["img"] is None and a.get("src", "").startswith("data:image/jpeg"):
            self.figures[-1]["img"] = a
        elif tag == "rect" and self.figures:
            self.figures[-1]["rects"].append([float(a[k]) for k in ("x", "y", "width", "height")])
        elif tag == "td" and "data-value" in a:
            self.values.append(float(a["data-value"]))
        elif tag == "a":
            self.links.append(a.get("href", ""))


def assert_same_boxes(drawn: list, expected: list, tolerance: float, where: str) -> None:
    assert len(drawn) == len(expected), where
    if expected:
        np.testing.assert_allclose(sorted(drawn), sorted(expected), atol=tolerance, err_msg=where)


def report(tmp_path, tree, *args, name="report.html") -> tuple[str, Page]:
    out = tmp_path / name
    cli("report", tree, "--out", out, *args)
    text = out.read_text(encoding="utf-8")
    return text, Page(text)


@pytest.fixture(scope="module")
def coco_geo(tmp_path_factory):
    """The bundled sample with fog, shear and rotate at severities 1 and 4, two runs scored on it."""
    root = tmp_path_factory.mktemp("coco")
    tree = root / "coco-c"
    cli("build", "coco", "--out", tree, *GEOMETRIC, "--quiet")
    with pytest.MonkeyPatch.context() as patch:  # the oracle answers with the clean ground truth
        patch.setenv("STANDIN_GT", str(tree / "annotations" / "instances_sample.json"))
        for model, runs in (("brightness_detector", "bright"), ("oracle_detector", "oracle")):
            cli("detect", tree, "--model", f"standin_models:{model}", "--results", root / runs, "--quiet")
            cli("evaluate", tree, "--results", root / runs)
    return root


def test_samples_are_spread_evenly_and_the_same_every_time():
    keys = [f"k{i}" for i in range(10)]
    assert choose_samples(keys, 3) == ["k0", "k5", "k9"] == choose_samples(keys, 3)
    assert choose_samples(keys, 1) == ["k0"] and choose_samples(keys, 20) == keys and choose_samples(keys, 0) == []


def test_report_shows_the_build_and_every_cell_of_chosen_samples(coco_geo, tmp_path):
    tree = coco_geo / "coco-c"
    text, page = report(tmp_path, tree, "--samples", "2")
    state = json.loads((tree / "corruptgen.json").read_text())
    cells = [f"{c}/{s}" for c, s in state["built"]]
    assert len(page.figures) == 2 * (1 + len(cells))
    assert {f["cell"] for f in page.figures} == {"clean", *cells}
    assert all(f["img"] is not None for f in page.figures)  # every thumbnail inlined
    summary = read_build(tree)
    assert summary.total_bytes == sum(json.loads(line)["bytes"] for p in (tree / "manifests").glob("*/*.jsonl")
                                      for line in p.read_text().splitlines())  # fmt: skip
    assert f"{summary.total_bytes / 1e6:.1f} MB" in text and f"corruptgen {__version__}" in text
    for link in page.links:  # every thumbnail links to a full image that exists
        assert (tmp_path / link).is_file(), link


def test_annotations_are_drawn_on_clean_and_moved_cells_where_the_tree_has_them(coco_geo, tmp_path):
    tree = coco_geo / "coco-c"
    _, page = report(tmp_path, tree, "--samples", "4")
    source = json.loads((tree / "annotations" / "instances_sample.json").read_text())
    for figure in page.figures:
        if figure["cell"].startswith("fog/"):
            assert figure["rects"] == []  # nothing moved: drawn on the clean image only
            continue
        doc = source if figure["cell"] == "clean" else json.loads(
            (tree / figure["cell"] / "annotations" / "instances_sample.json").read_text())  # fmt: skip
        image = next(i for i in doc["images"] if i["file_name"] == figure["key"])
        boxes = [a["bbox"] for a in doc["annotations"] if a["image_id"] == image["id"]]
        assert_same_boxes(figure["rects"], boxes, 0.006, figure["cell"])  # drawn to 0.01 px


def test_results_of_two_runs_are_side_by_side_with_their_numbers(coco_geo, tmp_path):
    text, page = report(tmp_path, coco_geo / "coco-c", "--results", coco_geo / "bright", "--results",
                        coco_geo / "oracle", "--samples", "0")  # fmt: skip
    docs = [json.loads((coco_geo / r / "results.json").read_text()) for r in ("bright", "oracle")]
    for doc in docs:
        values = [doc["P"], doc["mPC"], doc["rPC"]] + [v for row in doc["cells"].values() for v in row.values()]
        for value in values:
            assert value in page.values if value is not None else True  # rPC is undefined where P is 0
    assert "bright" in text and "oracle" in text and "Worst cells" in text and 'class="curves"' in text
    assert not page.figures


@pytest.mark.parametrize("kind", ["webdataset", "mnist-c", "cifar10"])
def test_every_kind_of_tree_gets_its_thumbnails(tmp_path, kind):
    if kind == "webdataset":
        tree = tmp_path / "wds"
        cli("build", "coco", "--out", tree, *GEOMETRIC, "--output-format", "webdataset", "--quiet")
    elif kind == "mnist-c":
        tree = tmp_path / "mnist-c"
        cli("build", "mnist", "--src", make_mnist(tmp_path / "src"), "--profile", "mnist-c", "--out", tree, "--quiet")
    else:
        tree = tmp_path / "cifar"
        cli("build", "cifar10", "--src", make_cifar(tmp_path / "src"), "--out", tree, *FEW, "--quiet")
    state = json.loads((tree / "corruptgen.json").read_text())
    _, page = report(tmp_path, tree, "--samples", "2")
    assert len(page.figures) == 2 * (1 + len(state["built"]))
    assert all(f["img"] is not None for f in page.figures)
    for link in page.links:  # inside a tar or an array: written beside the report
        assert (tmp_path / link).is_file() and link.startswith("report_files/"), link


@pytest.mark.parametrize("dataset", ["voc", "cityscapes"])
def test_voc_and_cityscapes_boxes_are_drawn_on_clean_and_moved_cells(tmp_path, dataset):
    src = (make_voc if dataset == "voc" else make_cityscapes)(tmp_path / "src")
    for ids in src.glob("gtFine/*/*/*_instanceIds.png"):  # one car away from the centre: a rotation moves its box
        car = np.zeros((32, 64), np.uint16)
        car[4:14, 6:26] = 26001
        Image.fromarray(car).save(ids)
    tree = tmp_path / "tree"
    cli("build", dataset, "--src", src, "--out", tree, "--corruptions", "fog,rotate", "--severities", "3", "--quiet")
    _, page = report(tmp_path, tree, "--samples", "2")
    drawn = {f["cell"]: f["rects"] for f in page.figures if f["key"] == page.figures[0]["key"]}
    assert drawn["fog/3"] == [] and len(drawn["clean"]) == len(drawn["rotate/3"]) == 1
    assert drawn["rotate/3"] != drawn["clean"]  # moved with the pixels


def test_damaged_manifests_and_failed_outputs_are_listed_not_raised(tmp_path):
    tree = tmp_path / "coco-c"
    cli("build", "coco", "--out", tree, *FEW, "--quiet")
    manifest = tree / "manifests" / "fog" / "3.jsonl"
    lines = manifest.read_text().splitlines()
    failed = {**json.loads(lines[1]), "status": "error", "error": "astronaut.png: an example failure"}
    failed.pop("bytes", None)
    manifest.write_text("\n".join([lines[0], json.dumps(failed, sort_keys=True), lines[2][:40]] + lines[3:]) + "\n")
    text, _ = report(tmp_path, tree, "--samples", "1")
    assert "an example failure" in text and f"{manifest}, line 3, is damaged" in text


@pytest.mark.parametrize("setup,message", [
    (lambda root: (root / "runs").mkdir(), "holds no results.json; give the folder `corruptgen evaluate` wrote"),
    (lambda root: ((root / "runs").mkdir(), (root / "runs" / "clean.json").write_text("[]")),
     "holds no results.json; run `corruptgen evaluate TREE --results"),
    (lambda root: ((root / "runs").mkdir(), (root / "runs" / "results.json").write_text("{")), "is not valid JSON"),
])  # fmt: skip
def test_results_that_are_not_a_summary_get_one_sentence(tmp_path, setup, message):
    tree = tmp_path / "coco-c"
    cli("build", "coco", "--out", tree, "--corruptions", "fog", "--severities", "1", "--quiet")
    setup(tmp_path)
    result = cli("report", tree, "--results", tmp_path / "runs", "--out", tmp_path / "r.html", expect=1)
    assert message in result.output and "Traceback" not in result.output and not (tmp_path / "r.html").exists()


def test_a_folder_that_is_not_a_build_gets_one_sentence(tmp_path):
    result = cli("report", tmp_path, "--out", tmp_path / "r.html", expect=1)
    assert "holds no corruptgen.json" in result.output and "Traceback" not in result.output


# ---- in a real browser ----

def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    return path


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        yield launched
        launched.close()


def open_page(browser, path: Path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: errors.append(f"request failed: {request.url}"))
    page.goto(path.resolve().as_uri(), wait_until="load")
    return page, errors


def test_in_a_browser_the_page_loads_cleanly_and_its_numbers_are_results_json(coco_geo, tmp_path, browser):
    out = tmp_path / "report.html"
    cli("report", coco_geo / "coco-c", "--results", coco_geo / "bright", "--results", coco_geo / "oracle",
        "--samples", "2", "--out", out)  # fmt: skip
    page, errors = open_page(browser, out)
    assert errors == []
    images = page.evaluate("[...document.images].map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
    assert len(images) > 2 * 7 and all(done and w > 0 and h > 0 for done, w, h in images)
    shown = page.evaluate("""[...document.querySelectorAll('#results td[data-value]')]
                             .map(td => [Number(td.dataset.value), td.textContent])""")
    docs = [json.loads((coco_geo / r / "results.json").read_text()) for r in ("bright", "oracle")]
    expected = [v for doc in docs for v in (doc["P"], doc["mPC"], doc["rPC"]) if v is not None]
    assert docs[1]["P"] == pytest.approx(100) and len(expected) >= 4  # the oracle's, at least, are all defined
    for value in expected:
        assert [value, f"{value:.1f}"] in shown
    heads = page.evaluate("[...document.querySelectorAll('#results table.summary td')].map(td => td.textContent)")
    assert heads == ["" if docs[i][metric] is None else f"{docs[i][metric]:.1f}" for metric in ("P", "mPC", "rPC") for i in (0, 1)]
    page.close()


def test_in_a_browser_boxes_sit_on_the_moved_annotations(coco_geo, tmp_path, browser):
    out = tmp_path / "report.html"
    cli("report", coco_geo / "coco-c", "--samples", "4", "--out", out)
    page, errors = open_page(browser, out)
    drawn = page.evaluate("""[...document.querySelectorAll('figure.thumb')].filter(f => f.querySelector('rect')).map(f => {
        const img = f.querySelector('img').getBoundingClientRect();
        const svg = f.querySelector('svg').viewBox.baseVal;
        return {cell: f.dataset.cell, key: f.dataset.key, rects: [...f.querySelectorAll('rect')].map(r => {
            const b = r.getBoundingClientRect();
            return [(b.left - img.left) * svg.width / img.width, (b.top - img.top) * svg.height / img.height,
                    b.width * svg.width / img.width, b.height * svg.height / img.height];
        })};
    })""")
    assert errors == [] and any(d["cell"].startswith(("shear/", "rotate/")) for d in drawn)
    tree = coco_geo / "coco-c"
    for figure in drawn:
        where = tree / "annotations" if figure["cell"] == "clean" else tree / figure["cell"] / "annotations"
        doc = json.loads((where / "instances_sample.json").read_text())
        image = next(i for i in doc["images"] if i["file_name"] == figure["key"])
        boxes = [a["bbox"] for a in doc["annotations"] if a["image_id"] == image["id"]]
        scale = max(image["width"], image["height"]) / 128  # one thumbnail pixel in image pixels
        assert_same_boxes(figure["rects"], boxes, scale, figure["cell"])
    page.close()


def test_the_html_has_no_script_and_reaches_nothing_outside(coco_geo, tmp_path):
    text, _ = report(tmp_path, coco_geo / "coco-c", "--results", coco_geo / "oracle", "--samples", "1")
    assert "<script" not in text.lower()
    sources = re.findall(r'src="([^"]*)"', text)
    assert sources and all(s.startswith("data:image/") for s in sources)


def test_in_a_browser_the_face_examples_report_opens_cleanly(tmp_path, browser, monkeypatch):
    """The issue's check: the face example's tree, its detector's results scored by evaluate, reported."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(root)  # --model examples.faces.detector:load is importable from the repository root
    subprocess.run([sys.executable, "examples/faces/make_coco.py", "--out", str(tmp_path / "faces"), "--images", "2"], check=True)
    tree, runs, out = tmp_path / "faces-c", tmp_path / "runs", tmp_path / "faces-c.html"
    cli("build", "coco", "--src", tmp_path / "faces", "--split", "val", "--out", tree, "--corruptions", "defocus_blur,shear",
        "--severities", "3", "--quiet")  # fmt: skip
    cli("detect", tree, "--model", "examples.faces.detector:load", "--results", runs, "--quiet")
    cli("evaluate", tree, "--results", runs)
    cli("report", tree, "--results", runs, "--out", out)
    page, errors = open_page(browser, out)
    assert errors == []
    assert all(w > 0 for w in page.evaluate("[...document.images].map(i => i.naturalWidth)"))
    doc = json.loads((runs / "results.json").read_text())
    shown = page.evaluate("[...document.querySelectorAll('#results table.summary td')].map(td => Number(td.dataset.value))")
    assert shown == [doc["P"], doc["mPC"], doc["rPC"]]
    assert page.evaluate("document.querySelectorAll('figure[data-cell=\"shear/3\"] rect').length") > 0  # moved faces drawn
    page.close()
