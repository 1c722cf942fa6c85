"""Data access for the Care Companion trainers.

Everything that touches files lives here: manifest building/reading, the preprocessing spec
"gray-fill-bilinear-instnorm-v1" (mirrors the TypeScript server), an in-memory cache of resized
films, batched augmentation and the source/class-balanced sampler. The training loop
(`train_loop.py`) only sees tensors and DataLoaders, so it can later run under Ray Train.

Manifest CSV columns: path,label,group,split,source
  path   relative to the datasets root (``$CARE_SHARED_DIR/datasets``), e.g. ``chest/kermany/...``
  group  the patient (chest) or Roboflow source stem (bone); never crosses splits
  split  train | val | test | canary | production
"""
from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

PREPROCESSING_ID = "gray-fill-bilinear-instnorm-v1"
SPLITS = ("train", "val", "test", "canary", "production")
CHEST_CLASSES = ["NORMAL", "PNEUMONIA", "TUBERCULOSIS"]
WRIST_CLASSES = ["NO_FRACTURE", "FRACTURE"]


def datasets_root() -> str:
    """Root of the shared datasets (``$CARE_SHARED_DIR/datasets``, default /work/shared/datasets)."""
    return os.path.join(os.environ.get("CARE_SHARED_DIR", "/work/shared"), "datasets")


# --------------------------------------------------------------------------------------------
# Preprocessing spec "gray-fill-bilinear-instnorm-v1" (must match the TypeScript server)
# --------------------------------------------------------------------------------------------

def decode_gray01(data: "str | bytes") -> np.ndarray:
    """Step 1: decode to one grayscale float channel in [0, 1].

    8-bit images: PIL "L" conversion (L = 0.299R + 0.587G + 0.114B) / 255.
    16-bit PNG (PIL modes I;16*, I): / 65535.
    """
    im = Image.open(io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data)
    if im.mode.startswith("I;16") or im.mode == "I":
        arr = np.asarray(im, dtype=np.float64).astype(np.float32) / 65535.0
    else:
        arr = np.asarray(im.convert("L"), dtype=np.float32) / 255.0
    return arr


def resize_bilinear(gray01: np.ndarray, size: int) -> np.ndarray:
    """Step 2: resize to size x size ignoring aspect ratio; PIL bilinear (antialiased) on mode F."""
    f = Image.fromarray(np.ascontiguousarray(gray01, dtype=np.float32), mode="F")
    return np.asarray(f.resize((size, size), Image.BILINEAR), dtype=np.float32)


def instance_normalise(x: np.ndarray) -> np.ndarray:
    """Step 3: (x - mean) / max(std, 1e-6), population std over the whole image."""
    x = x.astype(np.float32)
    m = float(x.mean(dtype=np.float64))
    s = float(x.std(dtype=np.float64))
    return ((x - m) / max(s, 1e-6)).astype(np.float32)


def preprocess(path_or_bytes: "str | bytes", size: int) -> np.ndarray:
    """Full spec: decode -> resize -> instance-normalise -> [1, 1, S, S] float32 (NCHW)."""
    x = instance_normalise(resize_bilinear(decode_gray01(path_or_bytes), size))
    return x[None, None, :, :]


def preprocessing_spec(size: int) -> List[dict]:
    """The spec as named steps with parameters (written into model.json)."""
    return [
        {"name": "decodeGrayscale", "params": {"luma": [0.299, 0.587, 0.114], "scale8bit": 255,
                                                "scale16bit": 65535, "dicom": "window to [0,1]; MONOCHROME1 inverted"}},
        {"name": "resize", "params": {"width": size, "height": size, "keepAspectRatio": False,
                                       "interpolation": "bilinear", "antialias": True}},
        {"name": "instanceNormalize", "params": {"std": "population", "epsilon": 1e-6}},
        {"name": "toTensor", "params": {"dtype": "float32", "layout": "NCHW", "shape": [1, 1, size, size]}},
    ]


def torch_instance_normalise(x: torch.Tensor) -> torch.Tensor:
    """Batched step 3 on [B, 1, S, S]."""
    m = x.mean(dim=(1, 2, 3), keepdim=True)
    s = x.std(dim=(1, 2, 3), keepdim=True, unbiased=False).clamp_min(1e-6)
    return (x - m) / s


# --------------------------------------------------------------------------------------------
# Manifests
# --------------------------------------------------------------------------------------------

@dataclass
class Row:
    path: str
    label: str
    group: str
    split: str
    source: str


def read_manifest(path: str) -> List[Row]:
    with open(path, newline="") as fh:
        rows = [Row(r["path"], r["label"], r["group"], r["split"], r["source"]) for r in csv.DictReader(fh)]
    bad = [r.split for r in rows if r.split not in SPLITS]
    if bad:
        raise ValueError(f"{path}: unknown split names {sorted(set(bad))}")
    check_groups(rows, path)
    return rows


def check_groups(rows: Sequence[Row], where: str = "manifest") -> None:
    """Raise if a group (patient / source stem) appears in more than one split."""
    seen: Dict[str, str] = {}
    for r in rows:
        if seen.setdefault(r.group, r.split) != r.split:
            raise ValueError(f"{where}: group {r.group!r} crosses splits {seen[r.group]} and {r.split}")


def write_manifest(rows: Sequence[Row], path: str) -> str:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["path", "label", "group", "split", "source"])
        for r in rows:
            w.writerow([r.path, r.label, r.group, r.split, r.source])
    return file_sha256(path)


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _carve(rows: List[Row], from_split: str, to_split: str, frac: float, rng: random.Random,
           sources: Optional[Sequence[str]] = None) -> None:
    """Move a fraction of the groups of `from_split` (per source) to `to_split`, in place."""
    by_src: Dict[str, List[str]] = defaultdict(list)
    for r in rows:
        if r.split == from_split and (sources is None or r.source in sources):
            if r.group not in by_src[r.source]:
                by_src[r.source].append(r.group)
    moved = set()
    for src in sorted(by_src):
        groups = sorted(by_src[src])
        rng.shuffle(groups)
        k = max(1, int(round(frac * len(groups))))
        moved.update(groups[:k])
    for r in rows:
        if r.split == from_split and r.group in moved:
            r.split = to_split


def build_chest_manifest(labels_csv: str, out_csv: str, seed: int = 1234,
                         test_frac: float = 0.12, canary_frac: float = 0.01,
                         production_frac: float = 0.01) -> dict:
    """Build the chest manifest from shared/datasets/chest/labels.csv.

    - keeps the given patient-grouped splits;
    - removes byte-identical duplicates (sha256): one copy per hash, preferring test > val > train,
      so no duplicate straddles splits;
    - sources without a test split (nih, indian_da): a `test_frac` of their train *patients* -> test;
    - 1% of train patients -> `canary`, 1% -> `production` (per source).
    """
    root = os.path.dirname(os.path.abspath(labels_csv))
    rel = os.path.relpath(root, datasets_root())
    with open(labels_csv, newline="") as fh:
        src_rows = list(csv.DictReader(fh))
    order = {"test": 0, "val": 1, "train": 2}
    src_rows.sort(key=lambda r: (order.get(r["split"], 3), r["path"]))
    seen_hash: Dict[str, str] = {}
    rows: List[Row] = []
    dropped = []
    for r in src_rows:
        with open(os.path.join(root, r["path"]), "rb") as fh:
            h = hashlib.sha256(fh.read()).hexdigest()
        if h in seen_hash:
            dropped.append((r["path"], seen_hash[h]))
            continue
        seen_hash[h] = r["path"]
        rows.append(Row(f"{rel}/{r['path']}", r["label"], r["patient_id"], r["split"], r["source"]))
    rng = random.Random(seed)
    has_test = {r.source for r in rows if r.split == "test"}
    no_test = sorted({r.source for r in rows} - has_test)
    _carve(rows, "train", "test", test_frac, rng, sources=no_test)
    _carve(rows, "train", "canary", canary_frac, rng)
    _carve(rows, "train", "production", production_frac, rng)
    rows.sort(key=lambda r: (SPLITS.index(r.split), r.source, r.label, r.path))
    check_groups(rows, out_csv)
    sha = write_manifest(rows, out_csv)
    return {"sha256": sha, "duplicatesDropped": len(dropped), "testCarvedFromTrainFor": no_test}


def build_wrist_manifest(labels_csv: str, out_csv: str, seed: int = 1234, test_frac: float = 0.12,
                         canary_frac: float = 0.01, production_frac: float = 0.01) -> dict:
    """Build the wrist manifest from shared/datasets/bone/labels.csv.

    Label: FRACTURE iff has_boxes == "boxes" (MURA-style "abnormal per Roboflow boxes", any upper-limb
    region, includes hardware; NOT a verified fracture), else NO_FRACTURE (empty label file, not a
    verified negative). Group = roboflow_source_stem; a stem seen in several splits goes to the most
    held-out one. `valid` -> val; test carved from train groups.
    """
    root = os.path.dirname(os.path.abspath(labels_csv))
    rel = os.path.relpath(root, datasets_root())
    with open(labels_csv, newline="") as fh:
        src_rows = list(csv.DictReader(fh))
    split_of_stem: Dict[str, str] = {}
    rank = {"valid": 0, "test": 0, "train": 1}
    for r in src_rows:
        s = r["roboflow_source_stem"]
        cur = split_of_stem.get(s)
        if cur is None or rank[r["split"]] < rank[cur]:
            split_of_stem[s] = r["split"]
    seen_hash = set()
    rows: List[Row] = []
    for r in sorted(src_rows, key=lambda r: r["path"]):
        with open(os.path.join(root, r["path"]), "rb") as fh:
            h = hashlib.sha256(fh.read()).hexdigest()
        if h in seen_hash:
            continue
        seen_hash.add(h)
        sp = {"valid": "val", "test": "val", "train": "train"}[split_of_stem[r["roboflow_source_stem"]]]
        label = "FRACTURE" if r["has_boxes"] == "boxes" else "NO_FRACTURE"
        rows.append(Row(f"{rel}/{r['path']}", label, r["roboflow_source_stem"], sp, "roboflow_bone"))
    rng = random.Random(seed)
    _carve(rows, "train", "test", test_frac, rng)
    _carve(rows, "train", "canary", canary_frac, rng)
    _carve(rows, "train", "production", production_frac, rng)
    rows.sort(key=lambda r: (SPLITS.index(r.split), r.label, r.path))
    check_groups(rows, out_csv)
    sha = write_manifest(rows, out_csv)
    return {"sha256": sha}


def manifest_counts(rows: Sequence[Row]) -> dict:
    by_split = Counter(r.split for r in rows)
    by_split_label = defaultdict(Counter)
    by_split_source_label = defaultdict(lambda: defaultdict(Counter))
    for r in rows:
        by_split_label[r.split][r.label] += 1
        by_split_source_label[r.split][r.source][r.label] += 1
    return {
        "total": len(rows),
        "bySplit": dict(by_split),
        "bySplitLabel": {k: dict(v) for k, v in by_split_label.items()},
        "bySplitSourceLabel": {k: {s: dict(c) for s, c in v.items()} for k, v in by_split_source_label.items()},
    }


# --------------------------------------------------------------------------------------------
# Image cache (resized, pre-normalisation [0,1] films) and datasets
# --------------------------------------------------------------------------------------------

def _load_one(args):
    path, size = args
    return resize_bilinear(decode_gray01(os.path.join(datasets_root(), path)), size)


def _cached_films(paths: Sequence[str], size: int, cache_dir: Optional[str], name: str, contract: str, load_one,
                  workers: int, chunksize: int) -> np.ndarray:
    """`load_one((path, size))` of every path stacked to float32 [N, S, S], cached on disk as
    <cache_dir>/<name>_<size>_<hash of the paths, size and contract>.npy."""
    key = hashlib.sha256(("\n".join(paths) + f"|{size}|{contract}").encode()).hexdigest()[:16]
    cache = os.path.join(cache_dir, f"{name}_{size}_{key}.npy") if cache_dir else None
    if cache and os.path.exists(cache):
        return np.load(cache)
    jobs = [(p, size) for p in paths]
    if workers > 1:
        import multiprocessing as mp
        with mp.Pool(workers) as pool:
            arrs = pool.map(load_one, jobs, chunksize=chunksize)
    else:
        arrs = [load_one(j) for j in jobs]
    out = np.stack(arrs).astype(np.float32) if arrs else np.zeros((0, size, size), np.float32)
    if cache:
        os.makedirs(cache_dir, exist_ok=True)
        np.save(cache + ".tmp.npy", out)
        os.replace(cache + ".tmp.npy", cache)
    return out


def load_images(paths: Sequence[str], size: int, cache_dir: Optional[str] = None,
                workers: int = 2) -> np.ndarray:
    """Decode + resize (spec steps 1-2) all `paths` to a float32 [N, S, S] array, cached on disk."""
    return _cached_films(paths, size, cache_dir, "imgs", PREPROCESSING_ID, _load_one, workers, 32)


class FilmDataset(torch.utils.data.Dataset):
    """In-memory films: returns (image [1,S,S] in [0,1], label index, source index)."""

    def __init__(self, images: np.ndarray, labels: Sequence[int], sources: Sequence[int]):
        self.images = torch.from_numpy(images)
        self.labels = torch.as_tensor(list(labels), dtype=torch.long)
        self.sources = torch.as_tensor(list(sources), dtype=torch.long)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        return self.images[i].unsqueeze(0), self.labels[i], self.sources[i]


def balanced_weights(labels: Sequence[int], sources: Sequence[int]) -> torch.Tensor:
    """Sampling weights: every class equally likely; within a class, every source equally likely.

    This removes the "source = class" shortcut from the sampled label distribution: the model sees
    as many NIH/Indian-DA normals as Kermany (child) normals, and as many Indian-DA TB as TBX11K TB.
    """
    cell = Counter(zip(labels, sources))
    srcs_per_class = defaultdict(set)
    for (c, s) in cell:
        srcs_per_class[c].add(s)
    n_classes = len(srcs_per_class)
    w = [1.0 / n_classes / len(srcs_per_class[c]) / cell[(c, s)] for c, s in zip(labels, sources)]
    return torch.tensor(w, dtype=torch.double)


def make_train_loader(ds: FilmDataset, batch_size: int, samples_per_epoch: int, seed: int):
    g = torch.Generator()
    g.manual_seed(seed)
    sampler = torch.utils.data.WeightedRandomSampler(
        balanced_weights(ds.labels.tolist(), ds.sources.tolist()), samples_per_epoch,
        replacement=True, generator=g)
    return torch.utils.data.DataLoader(ds, batch_size=batch_size, sampler=sampler, drop_last=True)


def make_eval_loader(ds: FilmDataset, batch_size: int = 128):
    return torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=False)


# --------------------------------------------------------------------------------------------
# Batched augmentation (on [B,1,S,S] in [0,1]); ends with instance normalisation
# --------------------------------------------------------------------------------------------

@dataclass
class AugConfig:
    scale: tuple = (0.80, 1.25)        # zoom (random-resized-crop-like)
    aspect: tuple = (0.85, 1.18)       # x/y stretch: Kermany was squashed by its uploader
    rotate_deg: float = 10.0
    translate: float = 0.08
    shear: float = 0.05
    hflip: float = 0.5
    vflip: float = 0.0
    gamma: tuple = (0.7, 1.5)
    contrast: tuple = (0.75, 1.3)
    brightness: float = 0.08
    blur_p: float = 0.3
    blur_sigma: tuple = (0.3, 1.3)
    lowres_p: float = 0.25
    lowres_scale: tuple = (0.4, 0.8)
    noise_p: float = 0.4
    noise_std: tuple = (0.005, 0.03)


def augment(x: torch.Tensor, cfg: AugConfig, gen: Optional[torch.Generator] = None,
            masks: Optional[torch.Tensor] = None):
    """Random geometry + intensity augmentation, then instance normalisation. x: [B,1,S,S] in [0,1].

    masks: [B,C,h,w] maps over the same field of view (any resolution), moved by the same geometry and
    nothing else; then (images, masks) are returned. The random draws are the same with or without them."""
    B, _, S, _ = x.shape

    def U(lo, hi, n=B):
        return lo + (hi - lo) * torch.rand(n, generator=gen)

    scale = torch.exp(U(math.log(cfg.scale[0]), math.log(cfg.scale[1])))
    aspect = torch.exp(U(math.log(cfg.aspect[0]), math.log(cfg.aspect[1])))
    sx, sy = 1.0 / (scale * aspect.sqrt()), 1.0 / (scale / aspect.sqrt())
    ang = U(-cfg.rotate_deg, cfg.rotate_deg) * math.pi / 180
    sh = U(-cfg.shear, cfg.shear)
    fx = torch.where(torch.rand(B, generator=gen) < cfg.hflip, -1.0, 1.0)
    fy = torch.where(torch.rand(B, generator=gen) < cfg.vflip, -1.0, 1.0)
    cos, sin = torch.cos(ang), torch.sin(ang)
    theta = torch.zeros(B, 2, 3)
    theta[:, 0, 0] = cos * sx * fx
    theta[:, 0, 1] = (-sin + sh) * sy
    theta[:, 1, 0] = sin * sx * fx
    theta[:, 1, 1] = cos * sy * fy
    theta[:, 0, 2] = U(-cfg.translate, cfg.translate) * 2
    theta[:, 1, 2] = U(-cfg.translate, cfg.translate) * 2
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if masks is not None:
        mgrid = F.affine_grid(theta, list(masks.shape), align_corners=False)
        masks = F.grid_sample(masks, mgrid, mode="bilinear", padding_mode="zeros", align_corners=False)

    # low resolution (resample down and up)
    if cfg.lowres_p > 0:
        m = torch.rand(B, generator=gen) < cfg.lowres_p
        if m.any():
            s = int(S * float(U(*cfg.lowres_scale, n=1)))
            small = F.interpolate(x[m], size=(s, s), mode="bilinear", align_corners=False, antialias=True)
            x = x.clone()
            x[m] = F.interpolate(small, size=(S, S), mode="bilinear", align_corners=False)

    # gaussian blur with per-sample sigma (grouped conv)
    if cfg.blur_p > 0:
        m = torch.rand(B, generator=gen) < cfg.blur_p
        if m.any():
            sig = U(*cfg.blur_sigma, n=int(m.sum()))
            r = torch.arange(-2, 3, dtype=torch.float32)
            k1 = torch.exp(-(r[None, :] ** 2) / (2 * sig[:, None] ** 2))
            k1 = k1 / k1.sum(1, keepdim=True)
            k2 = (k1[:, :, None] * k1[:, None, :]).unsqueeze(1)
            xb = x[m].transpose(0, 1)
            xb = F.conv2d(F.pad(xb, (2, 2, 2, 2), mode="replicate"), k2, groups=k2.shape[0])
            x = x.clone()
            x[m] = xb.transpose(0, 1)

    # gamma / contrast / brightness, with clipping (instnorm alone would undo linear changes)
    x = x.clamp(0, 1) ** torch.exp(U(math.log(cfg.gamma[0]), math.log(cfg.gamma[1])))[:, None, None, None]
    mu = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mu) * U(*cfg.contrast)[:, None, None, None] + mu + U(-cfg.brightness, cfg.brightness)[:, None, None, None]
    x = x.clamp(0, 1)

    if cfg.noise_p > 0:
        m = (torch.rand(B, generator=gen) < cfg.noise_p).float()[:, None, None, None]
        std = U(*cfg.noise_std)[:, None, None, None]
        x = x + m * std * torch.randn(x.shape, generator=gen)
    x = torch_instance_normalise(x)
    return x if masks is None else (x, masks)


# --------------------------------------------------------------------------------------------
# Preprocessing spec "gray-fill-bilinear-histeq-instnorm-v2" (chest v2; mirrors the TypeScript server)
# --------------------------------------------------------------------------------------------

PREPROCESSING_ID_V2 = "gray-fill-bilinear-histeq-instnorm-v2"
EQUALIZE_BINS = 256


def equalize_np(x: np.ndarray, bins: int = EQUALIZE_BINS) -> np.ndarray:
    """Histogram equalisation of a [0,1] image: each pixel -> the mid-point CDF of its bin.

    bin(v) = min(bins-1, floor(clamp(v,0,1) * bins)); out = (count(bins < b) + count(b) / 2) / n.
    Removes the scanner's and the uploader's tone curve (windowing, gamma, contrast); a constant
    image maps to 0.5. The TypeScript `equalizeHistogram` implements the same formula.
    """
    flat = np.clip(x.astype(np.float64).ravel(), 0, 1)
    idx = np.minimum(bins - 1, np.floor(flat * bins).astype(np.int64))
    counts = np.bincount(idx, minlength=bins).astype(np.float64)
    below = np.cumsum(counts) - counts
    lut = (below + counts / 2) / flat.size
    return lut[idx].reshape(x.shape).astype(np.float32)


COLOUR_CHROMA_LIMIT = 8.0


def chroma(path: str) -> float:
    """Mean |R-G| + |G-B| (8-bit units) of the image at 64x64: 0 for every radiograph here, > 10 for colour
    photos. The server refuses an image above COLOUR_CHROMA_LIMIT as NOT_A_RADIOGRAPH before any model."""
    im = Image.open(path)
    if im.mode in ("L", "I", "F") or im.mode.startswith("I;16") or im.mode == "LA":
        return 0.0
    a = np.asarray(im.convert("RGB").resize((64, 64), Image.BILINEAR), dtype=np.float64)
    return float(np.abs(a[..., 0] - a[..., 1]).mean() + np.abs(a[..., 1] - a[..., 2]).mean())


def torch_equalize(x: torch.Tensor, bins: int = EQUALIZE_BINS) -> torch.Tensor:
    """Batched `equalize_np` on [B,1,S,S] (float32 counts are exact below 2^24 pixels)."""
    B = x.shape[0]
    flat = x.reshape(B, -1).clamp(0, 1)
    n = flat.shape[1]
    idx = (flat * bins).floor().long().clamp_max(bins - 1)
    counts = torch.zeros(B, bins, dtype=torch.float64).scatter_add_(1, idx, torch.ones_like(flat, dtype=torch.float64))
    lut = ((counts.cumsum(1) - counts) + counts / 2) / n
    return lut.gather(1, idx).to(x.dtype).reshape(x.shape)


def preprocess_v2(path_or_bytes: "str | bytes", size: int) -> np.ndarray:
    """Full v2 spec: decode -> resize -> histogram-equalise -> instance-normalise -> [1,1,S,S]."""
    x = instance_normalise(equalize_np(resize_bilinear(decode_gray01(path_or_bytes), size)))
    return x[None, None, :, :]


def preprocessing_spec_v2(size: int) -> List[dict]:
    steps = preprocessing_spec(size)
    steps.insert(2, {"name": "equalizeHistogram", "params": {
        "bins": EQUALIZE_BINS, "bin": "min(bins-1, floor(clamp(v,0,1)*bins))",
        "value": "(pixels in lower bins + pixels in the same bin / 2) / pixels"}})
    return steps


def occlude(x: torch.Tensor, gen: Optional[torch.Generator] = None, p_side: float = 0.25, max_frac: float = 0.14,
            p_marks: float = 0.5, max_marks: int = 4) -> torch.Tensor:
    """Hide what a hospital leaves on the film's edges: collimation strips and burned-in text markers.

    Each side independently (probability p_side) gets a strip of up to max_frac of the side filled with
    black, white or a random grey; with probability p_marks per mark (up to max_marks), bright blocky 'text'
    marks land away from the film's centre. x: [B,1,S,S] in [0,1]. Vectorised over the batch.
    """
    B, _, S, _ = x.shape
    r = lambda *shape: torch.rand(*shape, generator=gen)  # noqa: E731
    idx = torch.arange(S, dtype=torch.float32)
    rows, cols = idx.view(1, 1, S, 1), idx.view(1, 1, 1, S)
    out = x.clone()
    for side in range(4):
        on = (r(B) < p_side).float().view(B, 1, 1, 1)
        w = (r(B) * max_frac * S).clamp_min(1.0).view(B, 1, 1, 1) * on
        u = r(B)
        v = torch.where(u < 0.4, torch.zeros(B), torch.where(u < 0.6, torch.ones(B), r(B))).view(B, 1, 1, 1)
        if side == 0:
            m = rows < w
        elif side == 1:
            m = rows >= S - w
        elif side == 2:
            m = cols < w
        else:
            m = cols >= S - w
        out = torch.where(m, v, out)
    cell = max(2, S // 48)
    n_cells = (S + cell - 1) // cell
    for _ in range(max_marks):
        on = r(B) < p_marks / max_marks * 2
        h = (S * (0.03 + 0.05 * r(B))).view(B, 1, 1, 1)
        w = (S * (0.05 + 0.15 * r(B))).view(B, 1, 1, 1)
        y0 = (r(B).view(B, 1, 1, 1) * (S - h))
        x0 = (r(B).view(B, 1, 1, 1) * (S - w))
        cy, cx = y0 + h / 2, x0 + w / 2
        central = ((cy - S / 2).abs() < S / 5) & ((cx - S / 2).abs() < S / 5)
        on = on.view(B, 1, 1, 1) & ~central
        rect = (rows >= y0) & (rows < y0 + h) & (cols >= x0) & (cols < x0 + w)
        pat = (r(B, 1, n_cells, n_cells) < 0.55).repeat_interleave(cell, 2).repeat_interleave(cell, 3)[:, :, :S, :S]
        val = (0.85 + 0.15 * r(B)).view(B, 1, 1, 1)
        out = torch.where(on & rect & pat, val, out)
    return out


def tempered_weights(labels: Sequence[int], sources: Sequence[int], power: float = 0.5) -> torch.Tensor:
    """Class-balanced sampling; within a class a source's share grows as n_source^power (0: equal shares
    as in `balanced_weights`, 1: proportional). 0.5 keeps a 37-film source from being repeated 30 times
    an epoch while still stopping the largest source from defining the class."""
    cell = Counter(zip(labels, sources))
    by_class: Dict[int, Dict[int, int]] = defaultdict(dict)
    for (c, s), n in cell.items():
        by_class[c][s] = n
    share = {}
    for c, srcs in by_class.items():
        tot = sum(n ** power for n in srcs.values())
        for s, n in srcs.items():
            share[(c, s)] = (n ** power) / tot
    n_classes = len(by_class)
    w = [share[(c, s)] / n_classes / cell[(c, s)] for c, s in zip(labels, sources)]
    return torch.tensor(w, dtype=torch.double)


CHILD_CHEST_SOURCES = frozenset({"kermany"})  # labels.csv age "child" (1-5 y); every other chest source is adult


def age_stratified_weights(labels: Sequence[int], sources: Sequence[int], child: Sequence[bool],
                           power: float = 0.5, normal: int = 0) -> torch.Tensor:
    """Sampling weights under which age says nothing about disease: children and adults get equal shares,
    normal and abnormal equal shares within each age group (when both are present), abnormal classes equal
    shares within it, and sources within an (age, class) cell n_source^power shares.

    With class balancing alone, the only adult normals of a fold can be a few dozen films against thousands of
    adult TB and pneumonia films, so "adult" itself predicts "abnormal"; this removes that prior."""
    cell = Counter(zip(child, labels, sources))
    tree: Dict[bool, Dict[bool, Dict[int, Dict[int, int]]]] = {}
    for (a, c, s), n in cell.items():
        tree.setdefault(a, {}).setdefault(c != normal, {}).setdefault(c, {})[s] = n
    share = {}
    for a, by_abn in tree.items():
        for abn, by_cls in by_abn.items():
            for c, srcs in by_cls.items():
                tot = sum(n ** power for n in srcs.values())
                for s, n in srcs.items():
                    share[(a, c, s)] = (1 / len(tree)) * (1 / len(by_abn)) * (1 / len(by_cls)) * (n ** power) / tot
    w = [share[k] / cell[k] for k in zip(child, labels, sources)]
    return torch.tensor(w, dtype=torch.double)


def augment_v2(x: torch.Tensor, cfg: AugConfig, gen: Optional[torch.Generator] = None,
               equalize: bool = True, occlusion: bool = True, masks: Optional[torch.Tensor] = None):
    """v2 augmentation: occlusion of edges/markers, the v1 geometry and tone changes (which then stand
    for scanner differences), histogram equalisation as at inference, instance normalisation. With
    masks (see `augment`), returns (images, masks moved by the same geometry)."""
    if occlusion:
        x = occlude(x, gen)
    # augment ends instance-normalised; undo to [0,1] range before equalising
    if masks is not None:
        x, masks = augment(x, cfg, gen, masks)
    else:
        x = augment(x, cfg, gen)
    if equalize:
        lo = x.amin(dim=(1, 2, 3), keepdim=True)
        hi = x.amax(dim=(1, 2, 3), keepdim=True)
        x = torch_equalize((x - lo) / (hi - lo).clamp_min(1e-6))
        x = torch_instance_normalise(x)
    return x if masks is None else (x, masks)


# --------------------------------------------------------------------------------------------
# Preprocessing spec "gray-tissuecrop-bilinear-histeq-instnorm-v3" (wrist v2; mirrors the TypeScript
# server's `tissueCropBox` / `cropToTissue` in src/imaging/preprocessing/tissue-crop.ts)
# --------------------------------------------------------------------------------------------

PREPROCESSING_ID_V3 = "gray-tissuecrop-bilinear-histeq-instnorm-v3"
PREPROCESSING_ID_V3_NOEQ = "gray-tissuecrop-bilinear-instnorm-v3"  # the same crop without histogram equalisation


@dataclass(frozen=True)
class TissueCrop:
    """Constants of the tissue crop (written into model.json; the TypeScript side reads the same numbers)."""
    grid: int = 64                  # thumbnail side (bilinear, aspect ignored) on which the box is found
    rank: float = 0.85              # bright pixels: equalised value >= rank (the brightest 15%)
    flat_bin_fraction: float = 0.02  # ...in a histogram bin holding at most this share of the thumbnail (flat
                                    # panels, saturated bands and collimation are one bin; bone is spread out)
    edge_cells: int = 5             # thumbnail cells along each edge ignored (bands, labels, cassette edges)
    base_quantile: float = 0.1      # profile background level
    top_quantile: float = 0.9       # profile tissue level (a quantile, not the maximum: one bright band must not set it)
    keep: float = 0.15              # keep rows/columns whose count > base + keep * (top - base)
    margin_cells: int = 3
    min_cells: int = 26             # at least 40% of each side
    min_aspect: float = 0.5         # the short side is at least half the long side (limits the stretch)


TISSUE_CROP = TissueCrop()


def profile_quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile, written out so that the TypeScript port does the same float operations."""
    s = sorted(float(v) for v in values)
    pos = q * (len(s) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def _axis_span(counts: Sequence[int], c: TissueCrop) -> "tuple[int, int]":
    g = c.grid
    base = profile_quantile(counts, c.base_quantile)
    top = profile_quantile(counts, c.top_quantile)
    if not top > base:
        return 0, g
    cut = base + c.keep * (top - base)
    keep = [i for i, v in enumerate(counts) if v > cut]
    if not keep:
        return 0, g
    lo, hi = keep[0], keep[-1] + 1
    if lo <= c.edge_cells + 1:
        lo = 0
    if hi >= g - c.edge_cells - 1:
        hi = g
    lo, hi = max(0, lo - c.margin_cells), min(g, hi + c.margin_cells)
    if hi - lo < c.min_cells:
        lo = min(max((lo + hi - c.min_cells) // 2, 0), g - c.min_cells)
        hi = lo + c.min_cells
    return lo, hi


def _widen(a0: int, a1: int, need: int, limit: int) -> "tuple[int, int]":
    """Grow [a0, a1) to `need` pixels around its centre, shifted back inside [0, limit)."""
    if need >= limit:
        return 0, limit
    a0 -= (need - (a1 - a0)) // 2
    a1 = a0 + need
    if a0 < 0:
        a1, a0 = a1 - a0, 0
    if a1 > limit:
        a0, a1 = a0 - (a1 - limit), limit
    return a0, a1


def tissue_crop_box(gray01: np.ndarray, c: TissueCrop = TISSUE_CROP) -> dict:
    """The crop box of a film: {x0, y0, x1, y1 (pixels, end exclusive), transpose}.

    On a grid x grid thumbnail: equalised value >= rank, in a bin that is not flat, away from the edges;
    count bright cells per column and per row; keep the columns/rows above base + keep (top - base) of their
    profile (quantiles), plus a margin; a side that reaches near an edge runs to it; at least min_cells; then
    in pixels the short side is widened to min_aspect of the long side; transpose when the box is wider
    than tall (the long bones stand upright for the model).
    """
    g = c.grid
    H, W = gray01.shape
    thumb = resize_bilinear(gray01, g).astype(np.float64)
    flat = np.clip(thumb.ravel(), 0, 1)
    idx = np.minimum(EQUALIZE_BINS - 1, np.floor(flat * EQUALIZE_BINS).astype(np.int64))
    counts = np.bincount(idx, minlength=EQUALIZE_BINS).astype(np.float64)
    lut = ((np.cumsum(counts) - counts) + counts / 2) / flat.size
    bright = (lut[idx] >= c.rank) & (counts[idx] <= c.flat_bin_fraction * flat.size)
    m = bright.reshape(g, g).copy()
    e = c.edge_cells
    m[:e, :] = False
    m[g - e:, :] = False
    m[:, :e] = False
    m[:, g - e:] = False
    cx0, cx1 = _axis_span(m.sum(axis=0).tolist(), c)
    cy0, cy1 = _axis_span(m.sum(axis=1).tolist(), c)
    x0, x1 = (cx0 * W) // g, -((-cx1 * W) // g)
    y0, y1 = (cy0 * H) // g, -((-cy1 * H) // g)
    bw, bh = x1 - x0, y1 - y0
    if bw < c.min_aspect * bh:
        x0, x1 = _widen(x0, x1, int(math.ceil(c.min_aspect * bh)), W)
    elif bh < c.min_aspect * bw:
        y0, y1 = _widen(y0, y1, int(math.ceil(c.min_aspect * bw)), H)
    return {"x0": int(x0), "y0": int(y0), "x1": int(x1), "y1": int(y1), "transpose": bool((x1 - x0) > (y1 - y0))}


def crop_to_tissue(gray01: np.ndarray, c: TissueCrop = TISSUE_CROP) -> np.ndarray:
    """Steps 1b of v3: the film cut to its tissue box (transposed when wider than tall)."""
    b = tissue_crop_box(gray01, c)
    out = gray01[b["y0"]:b["y1"], b["x0"]:b["x1"]]
    return np.ascontiguousarray(out.T if b["transpose"] else out)


def preprocess_v3(path_or_bytes: "str | bytes", size: int, equalize: bool = True) -> np.ndarray:
    """Full v3 spec: decode -> tissue crop -> resize -> [histogram-equalise] -> instance-normalise -> [1,1,S,S]."""
    x = resize_bilinear(crop_to_tissue(decode_gray01(path_or_bytes)), size)
    x = instance_normalise(equalize_np(x) if equalize else x)
    return x[None, None, :, :]


def preprocessing_spec_v3(size: int, c: TissueCrop = TISSUE_CROP, equalize: bool = True) -> List[dict]:
    steps = preprocessing_spec_v2(size) if equalize else preprocessing_spec(size)
    steps.insert(1, {"name": "cropToTissue", "params": {
        "grid": c.grid, "rank": c.rank, "flatBinFraction": c.flat_bin_fraction, "edgeCells": c.edge_cells,
        "baseQuantile": c.base_quantile, "topQuantile": c.top_quantile, "keep": c.keep,
        "marginCells": c.margin_cells, "minCells": c.min_cells, "minAspect": c.min_aspect,
        "transpose": "when the box is wider than tall"}})
    return steps


def _load_one_v3(args):
    path, size = args
    return resize_bilinear(crop_to_tissue(decode_gray01(os.path.join(datasets_root(), path))), size)


def load_images_v3(paths: Sequence[str], size: int, cache_dir: Optional[str] = None, workers: int = 2) -> np.ndarray:
    """`load_images` for the v3 contract: decode -> tissue crop -> resize (spec steps before equalisation)."""
    return _cached_films(paths, size, cache_dir, "imgs_v3", f"{PREPROCESSING_ID_V3}|{TISSUE_CROP}", _load_one_v3, workers, 16)
