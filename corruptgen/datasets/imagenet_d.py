"""ImageNet-D (Rusak, Schneider et al.) built from the DomainNet domains a user has: the reference's 164 classes.

bethgelab/robustness ``examples/imagenet_d/map_files.py`` maps DomainNet's 345 categories onto ImageNet classes with
a run-time regex and hand-written deletions, merges confusable categories (``police_car`` into ``car``, ...) and
symlinks the images. The map it produces ships here as data (``corruptgen/labels/data/imagenet-d.json``: 164
classes, each with the DomainNet folders merged into it), so the build only links files:

    <out>/<domain>/<class>/<file>        for each of clipart, infograph, painting, quickdraw, real, sketch found

by hard link (the default; a copy where the file system refuses), symbolic link or copy (``--link``), with
``manifest.jsonl`` (a row per image: domain, class, source, output, bytes) and ``corruptgen.json`` (what was built,
the per-domain counts). Categories the map leaves out (166 of 345) are skipped and counted. A rerun links only what
is missing. ``classify imagenet-d --src <out>/<domain>`` then scores a domain with the reference's ``full`` rule.
"""

from __future__ import annotations

import json
from pathlib import Path

from corruptgen import __version__
from corruptgen.files import LINK_MODES, atomic_write, contained, link_or_copy
from corruptgen.labels import label_space

from .base import IMAGE_EXTENSIONS, DatasetError, check_generated_out, write_record
from .natural import DOMAINNET_DOMAINS

LINKS = LINK_MODES


def domains_in(src: Path) -> list[str]:
    """The DomainNet domain folders under ``src`` (or ``src`` itself when it is one)."""
    src = Path(src)
    found = [d for d in DOMAINNET_DOMAINS if (src / d).is_dir()]
    if found:
        return found
    if src.name in DOMAINNET_DOMAINS and src.is_dir():
        return [""]
    raise DatasetError(f"{src} holds none of DomainNet's domain folders ({', '.join(DOMAINNET_DOMAINS)}); give the folder "
                       "holding them (each extracted from its .zip: <domain>/<category>/*.jpg).")  # fmt: skip


def build_imagenet_d(src: Path, out: Path, link: str = "hardlink") -> dict:
    """Link every image of the 164 classes from ``src``'s domains into ``out``; returns the record written."""
    if link not in LINKS:
        raise DatasetError(f"--link {link}: valid ones are {', '.join(LINKS)}.")
    src, out = Path(src), Path(out)
    if out.resolve() == src.resolve() or src.resolve() in out.resolve().parents:
        raise DatasetError(f"--out {out} is inside --src {src}; choose an output folder outside the source.")
    check_generated_out(out)
    space = label_space("imagenet-d")
    rows, counts, taken = [], {}, set()
    for domain in domains_in(src):
        root = src / domain if domain else src
        name = domain or src.name
        kept = skipped = 0
        for category in sorted(p.name for p in root.iterdir() if p.is_dir()):
            files = sorted(p for p in (root / category).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
            index = space.index(category)
            if index is None:
                skipped += len(files)
                continue
            cls = space.classes[index].folder
            for path in files:
                relative = f"{name}/{cls}/{path.name}"  # the reference keeps DomainNet's file names (unique per domain)
                if relative in taken:  # two merged categories with one file name: the second keeps its category
                    relative = f"{name}/{cls}/{category}_{path.name}"
                taken.add(relative)
                target = contained(out, relative)
                link_or_copy(path, target, link)
                rows.append({"domain": name, "class": cls, "category": category, "source": path.relative_to(src).as_posix(),
                             "output": relative, "bytes": path.stat().st_size})  # fmt: skip
                kept += 1
        counts[name] = {"images": kept, "skipped": skipped}
    atomic_write(out / "manifest.jsonl", "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows).encode())
    return write_record(out, {"corruptgen_version": __version__, "generated": "imagenet-d", "source": str(src),
                              "link": link, "label_space": space.describe(), "domains": counts})  # fmt: skip
