"""The report as one HTML page: inline CSS, thumbnails and charts as data URIs, annotations as inline
SVG over their thumbnails; no script, no network. Every value from a file is escaped."""

from __future__ import annotations

import base64
import io
import json
from html import escape

from corruptgen import __version__
from corruptgen.corruptions.sequences import P_PROFILES

from .build import BuildSummary
from .grid import THUMB_SIDE, Thumb
from .runs import Run

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.bad { color: #b00020; font-weight: 600; }
.grid td { padding: 2px; text-align: center; }
figure.thumb { position: relative; margin: 0; display: inline-block; line-height: 0; }
figure.thumb img { display: block; image-rendering: pixelated; }
img.curves { max-width: 100%; }
figure.thumb svg { position: absolute; left: 0; top: 0; width: 100%; height: 100%; pointer-events: none; }
svg .box { fill: none; stroke: #00e5ff; stroke-width: 2; vector-effect: non-scaling-stroke; }
svg .outline { fill: rgba(0, 229, 255, 0.15); stroke: #ff4081; stroke-width: 1; vector-effect: non-scaling-stroke; }
.problem { display: inline-block; width: 128px; font-size: 11px; color: #b00020; line-height: 1.2; }
.note { color: #555; }
.side { display: flex; gap: 2em; align-items: flex-start; flex-wrap: wrap; }
.side h3 { margin-top: 0.5em; }
"""


def _fmt(value, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return ""


def _table(header: list[str] | None, rows: list[list[str]], cls: str = "") -> str:
    head = "" if header is None else "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    thead = f"<thead><tr>{head}</tr></thead>" if head else ""
    return f'<table class="{cls}">{thead}<tbody>{body}</tbody></table>'


def _td(text: str, cls: str = "", value=None) -> str:
    data = "" if value is None else f' data-value="{value!r}"'
    return f'<td class="{cls}"{data}>{escape(str(text))}</td>'


def cell_words(profile: str | None) -> tuple[str, str]:
    """What a build's two axes are called: corruption and severity, or a perturbation build's
    perturbation and difficulty."""
    return ("perturbation", "difficulty") if profile in P_PROFILES else ("corruption", "severity")


def build_section(build: BuildSummary) -> str:
    state, ident = build.state, build.identity
    options = state.get("options", {})
    counts = state.get("counts", {})
    timing = state.get("timing", {})
    kind, level = cell_words(ident.get("profile"))
    if ident.get("profile") in P_PROFILES:
        encoding = [("video", ident.get("video"))]
    else:
        encoding = [("image format", ident.get("image_format")), ("JPEG quality", ident.get("jpeg_quality"))]
    facts = [
        ("dataset", ident.get("dataset")), ("source", ident.get("source")), ("split", ident.get("split")),
        ("seed", ident.get("seed")), ("profile", ident.get("profile")),
        ("built by", f"corruptgen {state.get('corruptgen_version')}"), ("status", state.get("status")),
        ("output format", options.get("output_format") or "folder"), *encoding,
        ("preprocessing", ident.get("preprocessing") or "none"),
        *([] if kind == "perturbation" else
          [("annotations moved through elastic_transform", "yes" if options.get("warp_annotations") else "no")]),
        ("samples", counts.get("samples")), ("outputs", counts.get("outputs")), ("ok", counts.get("ok")),
        ("failed", counts.get("failed")), ("missing", counts.get("missing")),
        ("on disk (from the manifests)", _size(build.total_bytes)),
        ("build time", f"{timing['seconds']:.1f} s, finished {timing.get('finished', '')}" if "seconds" in timing else None),
    ]  # fmt: skip
    rows = [[f"<th>{escape(k)}</th>", _td("" if v is None else v)] for k, v in facts]
    every = escape(json.dumps(options, indent=1, sort_keys=True))
    rows.append(["<th>options</th>", f"<td><details><summary>as recorded</summary><pre>{every}</pre></details></td>"])
    parts = ['<section id="build"><h2>The build</h2><div class="side">', _table(None, rows, "facts")]
    severities = sorted({s for _, s in build.cells})
    names = list(dict.fromkeys(c for c, _ in build.cells))
    grid_rows = []
    for name in names:
        line = [_td(name)]
        for s in severities:
            cell = build.cells.get((name, s))
            if cell is None:
                line.append(_td("", "num"))
            else:
                text = f"{cell.ok}" + (f" + {cell.failed} failed" if cell.failed else "")
                line.append(_td(text, "num bad" if cell.failed else "num", cell.ok))
        grid_rows.append(line)
    parts += [f"<div><h3>Outputs per {kind} and {level}</h3>",
              _table([kind, *map(str, severities)], grid_rows, "counts"), "</div></div>"]  # fmt: skip
    problems = [str(p) for p in state.get("problems") or []] + build.damaged
    if problems:
        parts += ["<h3>Problems</h3><ul>", *(f"<li>{escape(p)}</li>" for p in problems), "</ul>"]
    failures = build.failures
    if failures:
        shown = failures[:50]
        parts += [f"<h3>Failed outputs ({len(failures)})</h3>",
                  _table(["cell", "sample", "error"], [[_td(f"{c}/{s}"), _td(row.get("key", "")), _td(row.get("error", ""))]
                                                      for (c, s), row in shown]),  # fmt: skip
                  "" if len(failures) <= 50 else f'<p class="note">and {len(failures) - 50} more, in the manifests.</p>']
    parts.append("</section>")
    return "\n".join(parts)


def _thumb_html(thumb: Thumb, key: str) -> str:
    if thumb.data_uri is None:
        return f'<span class="problem">{escape(thumb.problem or "not built")}</span>'
    scale = THUMB_SIDE / max(thumb.width, thumb.height)
    w, h = round(thumb.width * scale), round(thumb.height * scale)
    cell = "clean" if thumb.cell is None else f"{thumb.cell[0]}/{thumb.cell[1]}"
    overlay = ""
    if thumb.shapes is not None:
        shapes = []
        for shape in thumb.shapes:
            for polygon in shape.polygons:
                points = " ".join(f"{x:.2f},{y:.2f}" for x, y in zip(polygon[::2], polygon[1::2]))
                shapes.append(f'<polygon class="outline" points="{points}"/>')
            x, y, bw, bh = shape.box
            shapes.append(f'<rect class="box" x="{x:.2f}" y="{y:.2f}" width="{bw:.2f}" height="{bh:.2f}"'
                          f' data-label="{escape(shape.label)}"/>')  # fmt: skip
        overlay = (f'<svg viewBox="0 0 {thumb.width} {thumb.height}" preserveAspectRatio="none" '
                   f'xmlns="http://www.w3.org/2000/svg">{"".join(shapes)}</svg>')  # fmt: skip
    title = escape(f"{key}, {cell} ({thumb.width} x {thumb.height})")
    return (f'<a href="{escape(thumb.href or "")}"><figure class="thumb" data-cell="{escape(cell)}" data-key="{escape(key)}">'
            f'<img src="{thumb.data_uri}" width="{w}" height="{h}" alt="{title}" title="{title}">{overlay}</figure></a>')


def grid_section(samples: list[tuple[str, list[Thumb]]], cells: list[tuple[str, int]], notes: list[str],
                 profile: str | None = None) -> str:  # fmt: skip
    severities = sorted({s for _, s in cells})
    names = list(dict.fromkeys(c for c, _ in cells))
    kind, _ = cell_words(profile)
    if kind == "perturbation":
        parts = ['<section id="grid"><h2>What the perturbation sequences look like</h2>',
                 f'<p class="note">{len(samples)} samples spread over the build; each sequence shows its first, middle '
                 "and last frames and links to its file.</p>"]  # fmt: skip
    else:
        parts = ['<section id="grid"><h2>What the corruptions look like</h2>',
                 f'<p class="note">{len(samples)} samples spread over the build; each thumbnail links to its full image. '
                 "Boxes and outlines: the annotations each image is scored against (the clean image's, and the moved "
                 "ones on every cell whose corruption moved them).</p>"]  # fmt: skip
    parts += [f'<p class="note">{escape(n)}</p>' for n in notes]
    for key, thumbs in samples:
        by_cell = {t.cell: t for t in thumbs}
        rows = []
        for i, name in enumerate(names):
            line = [f"<th>{escape(name)}</th>"]
            if i == 0:
                line.append(f'<td rowspan="{len(names)}">{_thumb_html(by_cell[None], key)}</td>')
            for s in severities:
                thumb = by_cell.get((name, s))
                line.append(f"<td>{'' if thumb is None else _thumb_html(thumb, key)}</td>")
            rows.append(line)
        parts += [f"<h3>{escape(key)}</h3>", _table([kind, "clean", *map(str, severities)], rows, "grid")]
    parts.append("</section>")
    return "\n".join(parts)


def _curves_png(runs: list[Run]) -> str:
    """Per-corruption curves over severity (clean at 0), one line per run, as a data URI."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(c for run in runs for c in run.cells))
    columns = min(5, max(1, len(names)))
    rows = (len(names) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(2.4 * columns, 2.0 * rows), dpi=90, squeeze=False, sharey=True)
    for ax, name in zip(axes.ravel(), names):
        for i, run in enumerate(runs):
            row = run.cells.get(name, {})
            xs = ([0] if run.clean is not None else []) + sorted(row)
            ys = ([run.clean] if run.clean is not None else []) + [row[s] for s in sorted(row)]
            ax.plot(xs, ys, marker="o", markersize=2.5, linewidth=1.2, color=f"C{i}", label=run.label)
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(names):]:
        ax.axis("off")
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(4, len(runs)), fontsize=8, frameon=False)
    fig.supxlabel("severity (0: clean)", fontsize=8, y=0.06 if rows > 1 else 0.12)
    fig.supylabel(runs[0].metric, fontsize=8)
    fig.tight_layout(rect=(0, 0.08 if rows > 1 else 0.15, 1, 1))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _stability_results(runs: list[Run], labels: list[str]) -> list[str]:
    """ImageNet-P's table as ``corruptgen evaluate`` prints it: FP and T5D per perturbation (and the rates
    against each run's baseline where it has one), mFR / mT5D with their normalisation, and why a value
    is empty."""
    fp, t5d = "flip probability", "top-5 distance"
    summary = [("mFP (unnormalised mean FP, %)", "mFP"), ("mean T5D (unnormalised)", "mT5D_raw"),
               ("mFR (%)", "mFR"), ("mT5D (%)", "mT5D")]  # fmt: skip
    rows = [[f"<th>{escape(name)}</th>"] + [_td(_fmt(run.doc.get(key)), "num", run.doc.get(key)) for run in runs]
            for name, key in summary]  # fmt: skip
    rows.append(["<th>normalised by</th>"] + [_td(run.doc.get("normalisation") or "") for run in runs])
    parts = [_table(["", *labels], rows, "summary")]
    notes = [f"{label}: {escape(name)} is empty: {escape(why)}." for run, label in zip(runs, labels)
             for name, why in (run.doc.get("why_null") or {}).items()]  # fmt: skip
    parts += [f'<p class="note">{note}</p>' for note in notes]
    rated = any(run.doc.get("FR") for run in runs)
    columns = ["FP (%)", "T5D"] + (["FR (%)", "T5D rel. (%)"] if rated else [])
    head = ('<thead><tr><th rowspan="2">perturbation</th>'
            + "".join(f'<th colspan="{len(columns)}">{label}</th>' for label in labels) + "</tr><tr>"
            + "".join(f'<th class="num">{c}</th>' for c in columns) * len(runs) + "</tr></thead>")  # fmt: skip
    names = list(dict.fromkeys(name for run in runs for name in run.doc.get("perturbations") or run.doc.get("cells") or {}))
    body = []
    for name in names:
        line = [_td(name)]
        for run in runs:
            values = (run.doc.get("cells") or {}).get(name, {})
            shown = [values.get(fp), values.get(t5d)]
            if rated:
                shown += [(run.doc.get("FR") or {}).get(name), (run.doc.get("T5D_rate") or {}).get(name)]
            line += [_td(_fmt(v), "num", v) for v in shown]
        body.append("<tr>" + "".join(line) + "</tr>")
    parts += ["<h3>Per perturbation</h3>", f'<table class="cells">{head}<tbody>{"".join(body)}</tbody></table>']
    return parts


def results_section(runs: list[Run]) -> str:
    labels = [escape(run.label) for run in runs]
    if runs[0].stability:
        parts = ['<section id="results"><h2>Stability</h2>',
                 '<p class="note">ImageNet-P\'s flip probability (FP) and top-5 distance (T5D) per perturbation '
                 "sequence, from each run's results.json (corruptgen evaluate); lower is better. mFR and mT5D divide "
                 "by a baseline's (evaluate --baseline), as the paper divides by AlexNet's.</p>"]  # fmt: skip
        parts += _stability_results(runs, labels)
        parts.append("<h3>Worst sequences</h3>")
        for run, label in zip(runs, labels):
            worst = [[_td(c), _td(_fmt(v), "num", v)] for c, _, v in run.worst(10)]
            parts += [f"<h4>{label}</h4>", _table(["perturbation", "FP (%)"], worst, "worst")]
        parts.append("</section>")
        return "\n".join(parts)
    parts = ['<section id="results"><h2>Robustness</h2>',
             f'<p class="note">{escape(runs[0].metric)}, from each run\'s results.json (corruptgen evaluate); '
             + ("higher is better" if runs[0].higher_is_better else "lower is better") + ".</p>"]  # fmt: skip
    summary_rows = []
    for i, (name, _) in enumerate(runs[0].headline):
        values = [run.headline[i][1] for run in runs]
        summary_rows.append([f"<th>{escape(name)}</th>"] + [_td(_fmt(v), "num", v) for v in values])
    parts.append(_table(["", *labels], summary_rows, "summary"))
    parts += [f'<p class="note">{label}: {escape(run.doc["coverage"]["note"])}</p>' for run, label in zip(runs, labels)
              if run.doc.get("coverage")]  # fmt: skip
    names = list(dict.fromkeys(c for run in runs for c in run.cells))
    severities = sorted({s for run in runs for row in run.cells.values() for s in row})
    with_ce = not runs[0].higher_is_better and any(run.doc.get("normalisation") != "unnormalised" for run in runs)
    span = len(severities) + 1 + with_ce
    second = ("".join(f'<th class="num">{s}</th>' for s in severities) + '<th class="num">mean</th>'
              + ('<th class="num">CE</th>' if with_ce else ""))  # fmt: skip
    kind, level = cell_words(runs[0].doc.get("profile"))
    head = (f'<thead><tr><th rowspan="2">{kind}</th>' + "".join(f'<th colspan="{span}">{label}</th>' for label in labels)
            + "</tr><tr>" + second * len(runs) + "</tr></thead>")  # fmt: skip
    body = []
    for name in names:
        line = [_td(name)]
        for run in runs:
            row = run.cells.get(name, {})
            mean = sum(row.values()) / len(row) if row else None
            line += [_td(_fmt(row.get(s)), "num", row.get(s)) for s in severities] + [_td(_fmt(mean), "num mean")]
            if with_ce:
                ce = (run.doc.get("CE") or {}).get(name)
                line.append(_td(_fmt(ce), "num", ce))
        body.append("<tr>" + "".join(line) + "</tr>")
    cells_table = f'<table class="cells">{head}<tbody>{"".join(body)}</tbody></table>'
    parts += [f"<h3>Per {kind} and {level}</h3>", cells_table]
    parts += ["<h3>Curves</h3>", f'<img class="curves" src="{_curves_png(runs)}" alt="per-corruption curves">']
    parts.append("<h3>Worst cells</h3>")
    for run, label in zip(runs, labels):
        worst = [[_td(c), _td(s, "num"), _td(_fmt(v), "num", v)] for c, s, v in run.worst(10)]
        parts += [f"<h4>{label}</h4>", _table([kind, level, escape(run.metric)], worst, "worst")]
    parts.append("</section>")
    return "\n".join(parts)


def page(title: str, sections: list[str]) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<meta name="generator" content="corruptgen {__version__}"><style>{STYLE}</style></head>\n<body>'
            f"<h1>{escape(title)}</h1>\n" + "\n".join(sections) + "\n</body></html>\n")  # fmt: skip
