"""ImageNet-D (Rusak, Schneider et al.) built from the DomainNet domains a user has: the reference's 164 classes.

bethgelab/robustness ``examples/imagenet_d/map_files.py`` maps DomainNet's 345 categories onto ImageNet classes with
a run-time regex and hand-written deletions, merges confusable categories (``police_car`` into ``car``, ...) and
symlinks the images. The map it produces ships here as data (``corruptgen/labels/data/imagenet-d.json``: 164
classes, each with the DomainNet folders merged into it), so the build only links files:

    <out>/<domain>/<class>/<file>        for each of clipart, infograph, painting, quickdraw, real, sketch found

by hard link (the default; a copy where the file system refuses), symbolic link or copy (``--link``; a domain
given as its zip, as downloaded, is extracted), with
``manifest.jsonl`` (a row per image: domain, class, source, output, bytes) and ``corruptgen.json`` (what was built,
the per-domain counts). Categories the map leaves out (166 of 345) are skipped and counted. A rerun links only what
is missing. ``classify imagenet-d --src <out>/<domain>`` then scores a domain with the reference's ``full`` rule.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path, PurePosixPath

from corruptgen import __version__
from corruptgen.files import LINK_MODES, atomic_write, contained, link_or_copy
from corruptgen.labels import label_space

from .base import IMAGE_EXTENSIONS, DatasetError, check_generated_out, write_record
from .natural import DOMAINNET_DOMAINS

LINKS = LINK_MODES


def domains_in(src: Path) -> list[str]:
    """The DomainNet domains under ``src``: their folders, or their zips as downloaded (``clipart.zip``), or ``src``
    itself when it is one domain's folder."""
    src = Path(src)
    found = [d for d in DOMAINNET_DOMAINS if (src / d).is_dir() or (src / f"{d}.zip").is_file()]
    if found:
        return found
    if src.name in DOMAINNET_DOMAINS and src.is_dir():
        return [""]
    raise DatasetError(f"{src} holds none of DomainNet's domains ({', '.join(DOMAINNET_DOMAINS)}); give the folder "
                       "holding them: each domain's folder (<domain>/<category>/*.jpg) or its zip as downloaded "
                       "(<domain>.zip).")  # fmt: skip


def _domain_files(src: Path, domain: str) -> dict[str, list]:
    """Each category's image files of one domain, sorted: paths in its folder, or members of its zip."""
    root = src / domain if domain else src
    if root.is_dir():
        return {category.name: sorted(p for p in category.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
                for category in sorted(root.iterdir()) if category.is_dir()}  # fmt: skip
    try:
        archive = zipfile.ZipFile(src / f"{domain}.zip")
    except (OSError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"{src / f'{domain}.zip'} cannot be read as a zip ({exc}).") from None
    files: dict[str, list] = {}
    for info in archive.infolist():
        parts = PurePosixPath(info.filename).parts
        if not info.is_dir() and len(parts) >= 2 and PurePosixPath(parts[-1]).suffix.lower() in IMAGE_EXTENSIONS:
            files.setdefault(parts[-2], []).append((archive, info))
    return {category: sorted(members, key=lambda m: m[1].filename) for category, members in sorted(files.items())}


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
        name = domain or src.name
        kept = skipped = 0
        for category, files in _domain_files(src, domain).items():
            index = space.index(category)
            if index is None:
                skipped += len(files)
                continue
            cls = space.classes[index].folder
            for item in files:
                file_name = item.name if isinstance(item, Path) else PurePosixPath(item[1].filename).name
                relative = f"{name}/{cls}/{file_name}"  # the reference keeps DomainNet's file names (unique per domain)
                if relative in taken:  # two merged categories with one file name: the second keeps its category
                    relative = f"{name}/{cls}/{category}_{file_name}"
                taken.add(relative)
                target = contained(out, relative)
                if isinstance(item, Path):
                    link_or_copy(item, target, link)
                    source, size = item.relative_to(src).as_posix(), item.stat().st_size
                else:  # a zip member: extracted (nothing to link to)
                    if not target.exists():
                        atomic_write(target, item[0].read(item[1]))
                    source, size = f"{domain}.zip:{item[1].filename}", item[1].file_size
                rows.append({"domain": name, "class": cls, "category": category, "source": source, "output": relative,
                             "bytes": size})  # fmt: skip
                kept += 1
        counts[name] = {"images": kept, "skipped": skipped}
    atomic_write(out / "manifest.jsonl", "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows).encode())
    return write_record(out, {"corruptgen_version": __version__, "generated": "imagenet-d", "source": str(src),
                              "link": link, "label_space": space.describe(), "domains": counts})  # fmt: skip
