"""A perturbation sequence as an MP4, as ImageNet-P's release holds one, and back.

``make_imagenet_p.py`` pipes PNG frames through ffmpeg 4.0.2's libx264 at 1 frame per second,
``-preset veryslow``, with ``-tune grain`` (libx264's default CRF, 23) for the noise sequences and
``-crf 20`` for the others; from RGB input ffmpeg encodes 4:4:4 (``yuv444p``). :data:`VIDEO_MODES`:

- ``release``: the same settings through PyAV's libx264 (the package index's wheels bundle it; no
  ffmpeg binary is fetched or run). The codec changes pixels as the release's did: on the
  suite's sequences, a mean 1.4 levels for a rotation, 4.4 for ``-tune grain`` noise (benchmarks.md);
- ``lossless``: libx264rgb at CRF 0 (RGB, no 4:2:x conversion): OpenCV decodes every frame's
  levels exactly, so a model sees what the sequence made.

Bytes are reproducible: one encoder thread (x264's frame threads and lookahead pick different
encodings run to run), FFmpeg's ``bitexact`` flags (no library version in the container), and
x264's macroblock-tree rate control off (``mbtree=0``): with it, the same frames encoded twice in one
process gave different bytes about one time in three under ``veryslow`` (its reference count and
the lookahead it propagates over), so it is the one x264 setting that differs from the release's.
Reading is OpenCV's ``VideoCapture``, BGR to RGB, as the reference's ``VideoFolder`` reads them.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

VIDEO_MODES = ("release", "lossless")

_RELEASE = {"preset": "veryslow", "threads": "1", "x264-params": "threads=1:lookahead-threads=1:mbtree=0"}


def require_av():
    """PyAV, or RuntimeError saying how to install it (an optional extra)."""
    try:
        import av
    except ImportError:
        raise RuntimeError("writing ImageNet-P's MP4s needs PyAV: pip install 'corruptgen[video]' (or pass "
                           "--output-format folder for cifar10, cifar100 and mnist, whose sequences are arrays).") from None
    return av


def encode_mp4(frames: np.ndarray, *, grain: bool, mode: str = "release") -> bytes:
    """``T x H x W x 3`` (or ``x 1``, grey) uint8 frames as H.264 MP4 bytes at 1 frame per second.

    ``grain``: ``-tune grain`` at libx264's default CRF (the release's noise sequences), else CRF 20;
    ``mode`` one of :data:`VIDEO_MODES`.
    """
    if mode not in VIDEO_MODES:
        raise ValueError(f"unknown video mode {mode!r}; valid modes are {', '.join(VIDEO_MODES)}.")
    frames = np.asarray(frames, dtype=np.uint8)
    if frames.ndim == 3:
        frames = frames[..., None]
    if frames.ndim != 4 or frames.shape[3] not in (1, 3):
        raise ValueError(f"frames must be T x H x W x 3 (or x 1) uint8; got shape {frames.shape}.")
    if frames.shape[3] == 1:
        frames = np.repeat(frames, 3, axis=3)
    av = require_av()
    if mode == "lossless":
        codec, pixel_format, options = "libx264rgb", "rgb24", {**_RELEASE, "crf": "0"}
    else:
        codec, pixel_format = "libx264", "yuv444p"
        options = {**_RELEASE, "tune": "grain"} if grain else {**_RELEASE, "crf": "20"}
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream(codec, rate=1, options=options)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = pixel_format
        stream.thread_count = 1
        stream.codec_context.flags |= av.codec.context.Flags.bitexact
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def read_mp4(path: Path) -> np.ndarray:
    """Every frame of an MP4 file, ``T x H x W x 3`` uint8 RGB, read by OpenCV as ImageNet-P's
    ``VideoFolder`` reads them; ValueError naming the file when it holds none."""
    capture = cv2.VideoCapture(str(path))
    frames = []
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(frame[:, :, ::-1])
    finally:
        capture.release()
    if not frames:
        raise ValueError(f"{path} holds no video frame OpenCV can decode.")
    return np.ascontiguousarray(np.stack(frames))


def decode_mp4(data: bytes, display: str = "MP4") -> np.ndarray:
    """:func:`read_mp4` of MP4 bytes (a tar member): OpenCV reads files only, so through a temporary one."""
    handle, path = tempfile.mkstemp(suffix=".mp4")
    try:
        with os.fdopen(handle, "wb") as fh:
            fh.write(data)
        try:
            return read_mp4(Path(path))
        except ValueError:
            raise ValueError(f"{display} holds no video frame OpenCV can decode.") from None
    finally:
        os.unlink(path)
