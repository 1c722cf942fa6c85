"""Wrist v2 (issue 17): a per-view fracture reader trained on FracAtlas radiologists' labels, shipped as an
ensemble of cross-fitted members whose out-of-fold scores set the operating point.

  P=/usr/bin/python3; W=src/training/python/wrist_v2.py; R=.cache/wrist-v2/runs/final
  $P $W manifest --out .cache/wrist-v2/manifest.csv
  # a backbone from bone/ (weak 'has a box' labels) and other body parts, never a FracAtlas hand film (15 min)
  $P $W pretrain --out .cache/wrist-v2/pretrain/bone.pt --threads 1
  # one member per fold (each trained without its fold's films, from that backbone); two at a time on two cores
  $P $W member --manifest .cache/wrist-v2/manifest.csv --run $R --fold 0 --threads 1 \
      --init .cache/wrist-v2/pretrain/bone.pt   # ... --fold 4
  # WRONG_BODY_PART: one dedicated body-part network per fold (same folds; 60 epochs on the input pooled 2x, ~10 min each)
  $P $W bodypart --manifest .cache/wrist-v2/manifest.csv --run $R/bodypart --fold 0 --threads 1 --epochs 60   # ... --fold 4
  $P $W bodypart-report --manifest .cache/wrist-v2/manifest.csv --run $R/bodypart     # its gate alone, out of fold
  # ensemble -> temperature and threshold on out-of-fold films -> gate -> metrics -> ONNX -> model.json + card
  # (--gate-bone-train: bone/ 'train' wrist/finger/forearm films are a third class of the distance gate, as shipped)
  $P $W ship --manifest .cache/wrist-v2/manifest.csv --run $R --bodypart-run $R/bodypart --gate-bone-train --out models/wrist/v2 --parent v1
  # the shipped members back as member_<fold>.pt (e.g. to export them again with new body-part networks)
  $P $W unpack --model-dir models/wrist/v2 --run .cache/wrist-v2/runs/shipped

Design (see models/wrist/v2/MODEL_CARD.md for the measured story):
- input contract `gray-tissuecrop-bilinear-histeq-instnorm-v3` (or `...-instnorm-v3` without equalisation): the
  film is cut to its tissue box before resizing, so the forearm fills the frame instead of a fifth of it;
- train+val films (882) are split into K folds stratified by label and view; member k trains on the other folds
  with films of other body parts (chest, FracAtlas leg/hip/shoulder 'fit' part) for its body-part head;
- every train+val film gets an out-of-fold (OOF) score from the one member that never saw it: temperature and the
  99%-recall conformal threshold are fitted on those (256 positives), and the shipped score is the members' mean;
- the FracAtlas test split, the 'held' part of FracAtlas leg/hip/shoulder, chest val/test films, the photos and
  bone/ are never trained on: they are the reported checks.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import math
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import calibrate as cal  # noqa: E402
import data  # noqa: E402
import export  # noqa: E402
import models  # noqa: E402
import train_loop  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
NOTICE = "AI assistance; requires clinician review"
CLASSES = data.WRIST_CLASSES
TARGET_RECALL = 0.99
MAX_WRIST_REFUSED = 0.02  # promotion: at most this share of the FracAtlas test wrist films refused by the gate
VIEWS = ("frontal", "lateral", "oblique", "multiview")
NOT_TARGET = "not_target_logit"
OTHER = 2  # label of a film of another body part (body-part head only)


def log(*a):
    print(f"[{dt.datetime.utcnow():%H:%M:%S}]", *a, flush=True)


def r4(x):
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 4)


def _hash(s: str, seed: int = 0) -> int:
    return int(hashlib.sha256(f"{seed}:{s}".encode()).hexdigest()[:12], 16)


# ------------------------------------------------------------------------------------------------
# Manifest, folds and the other-body-part sets
# ------------------------------------------------------------------------------------------------

def view_of(v: str) -> str:
    return v if v in ("frontal", "lateral", "oblique") else "multiview"


def build_manifest(out_csv: str) -> dict:
    """FracAtlas hand/wrist/forearm films with FracAtlas' own splits; source = fracatlas_<view> (multiview: a film
    holding several views); group = the film (FracAtlas has no patient ids)."""
    root = os.path.join(data.datasets_root(), "fracatlas_hand")
    with open(os.path.join(root, "labels.csv"), newline="") as fh:
        src = list(csv.DictReader(fh))
    rows = [data.Row(f"fracatlas_hand/{r['path']}", r["label"], r["patient_id"], r["split"], f"fracatlas_{view_of(r['view'])}")
            for r in src]
    rows.sort(key=lambda r: (data.SPLITS.index(r.split), r.source, r.label, r.path))
    data.check_groups(rows, out_csv)
    sha = data.write_manifest(rows, out_csv)
    return {"sha256": sha, "counts": data.manifest_counts(rows)}


def folds_of(rows: List[data.Row], k: int, seed: int) -> np.ndarray:
    """Fold index of each train/val film (-1 for test): stratified by label and view, order by a seeded hash."""
    fold = np.full(len(rows), -1)
    cells: Dict[tuple, List[int]] = {}
    for i, r in enumerate(rows):
        if r.split in ("train", "val"):
            cells.setdefault((r.label, r.source), []).append(i)
    offset = 0
    for key in sorted(cells):
        idx = sorted(cells[key], key=lambda i: _hash(rows[i].path, seed))
        for j, i in enumerate(idx):
            fold[i] = (j + offset) % k
        offset += len(idx)
    return fold


def other_sets(seed: int = 17) -> Dict[str, List[str]]:
    """Films of other body parts. FracAtlas leg/hip/shoulder: 2/3 'fit' (body-part head), 1/3 'held' (never
    trained on; the WRONG_BODY_PART check). Chest: a source-stratified sample of the train split for the head;
    every val and test film (none of them trained on) for the check."""
    root = data.datasets_root()
    with open(os.path.join(root, "fracatlas_other", "labels.csv")) as fh:
        other = [r for r in csv.DictReader(fh)]
    fit, held = [], []
    for r in sorted(other, key=lambda r: _hash(r["path"], seed)):
        (held if _hash(r["path"], seed + 1) % 3 == 0 else fit).append(f"fracatlas_other/{r['path']}")
    with open(os.path.join(root, "chest", "labels.csv")) as fh:
        chest = list(csv.DictReader(fh))
    by_src: Dict[str, List[str]] = {}
    for r in chest:
        if r["split"] == "train":
            by_src.setdefault(r["source"], []).append(f"chest/{r['path']}")
    chest_fit = []
    for s in sorted(by_src):
        paths = sorted(by_src[s], key=lambda p: _hash(p, seed))
        chest_fit += paths[:200]
    chest_check = sorted(f"chest/{r['path']}" for r in chest if r["split"] in ("val", "test"))
    with open(os.path.join(root, "ood", "labels.csv")) as fh:
        ood = [f"ood/{r['path']}" for r in csv.DictReader(fh)]
    with open(os.path.join(root, "bone", "labels.csv")) as fh:
        bone = [f"bone/{r['path']}" for r in csv.DictReader(fh)]
    graz = sorted(f"wrist_grazpedwri_metadata/sample_images/{f}" for f in
                  os.listdir(os.path.join(root, "wrist_grazpedwri_metadata", "sample_images")) if not f.startswith("pred_"))
    return {"other_fit": fit, "other_held": held, "chest_fit": chest_fit, "chest_check": chest_check, "ood": ood,
            "bone": bone, "graz": graz}


def other_fold(k: int, seed: int) -> np.ndarray:
    """Fold of each leg/hip/shoulder film, in `other_sets()` order ('fit' films, then 'held'), for body-part
    networks cross-fitted on all of them (`bodypart --cross-fit-other`): a seeded hash, stratified by body part."""
    sets, meta = other_sets(), other_meta()
    paths = sets["other_fit"] + sets["other_held"]
    fold = np.zeros(len(paths), int)
    for part in sorted({meta[p] for p in paths}):
        idx = sorted((i for i, p in enumerate(paths) if meta[p] == part), key=lambda i: _hash(paths[i], seed + 3))
        for j, i in enumerate(idx):
            fold[i] = j % k
    return fold


def other_meta() -> Dict[str, str]:
    with open(os.path.join(data.datasets_root(), "fracatlas_other", "labels.csv")) as fh:
        return {f"fracatlas_other/{r['path']}": r["body_part"] for r in csv.DictReader(fh)}


def bone_labels() -> Dict[str, dict]:
    with open(os.path.join(data.datasets_root(), "bone", "labels.csv")) as fh:
        return {f"bone/{r['path']}": r for r in csv.DictReader(fh)}


def chest_sources() -> Dict[str, str]:
    with open(os.path.join(data.datasets_root(), "chest", "labels.csv")) as fh:
        return {f"chest/{r['path']}": r["source"] for r in csv.DictReader(fh)}


# ------------------------------------------------------------------------------------------------
# One member
# ------------------------------------------------------------------------------------------------

@dataclass
class MemberConfig:
    size: int = 256
    widths: tuple = (16, 32, 64, 128)
    stem: int = 16
    equalize: bool = True
    occlusion: bool = True
    epochs: int = 30
    samples_per_epoch: int = 1200
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 0.02
    label_smoothing: float = 0.05
    other_share: float = 0.2        # share of sampled films from other body parts
    other_fracatlas: float = 0.5    # ...of which FracAtlas leg/hip/shoulder films (the rest chest films)
    body_part_weight: float = 0.5
    dropout: float = 0.2
    lse_r: float = 0.0              # fracture logits by log-sum-exp pooling of the class map (0: global average)
    init: Optional[str] = None      # a ViewNet / ChestNet checkpoint whose backbone starts the member
    init_full: bool = False         # ...or a member of the same fold whose whole network starts it (fine-tuning, e.g. at a larger size)
    aug: dict = field(default_factory=lambda: dict(scale=(0.85, 1.2), aspect=(0.9, 1.12), rotate_deg=15.0, translate=0.06,
                                                     shear=0.04, hflip=0.5, vflip=0.5, gamma=(0.75, 1.35),
                                                     contrast=(0.8, 1.25), brightness=0.06, blur_p=0.2,
                                                     blur_sigma=(0.3, 1.0), lowres_p=0.15, lowres_scale=(0.6, 0.9),
                                                     noise_p=0.3, noise_std=(0.005, 0.02)))


def preprocessing_id(mc: MemberConfig) -> str:
    return data.PREPROCESSING_ID_V3 if mc.equalize else data.PREPROCESSING_ID_V3_NOEQ


def model_input(x: torch.Tensor, equalize: bool) -> torch.Tensor:
    """Clean preprocessing of cached crops [B,1,S,S] in [0,1]: the spec's steps after resize."""
    if equalize:
        x = data.torch_equalize(x)
    return data.torch_instance_normalise(x)


def make_net(mc: MemberConfig) -> models.ViewNet:
    return models.ViewNet(len(CLASSES), widths=tuple(mc.widths), stem=mc.stem, dropout=mc.dropout, lse_r=mc.lse_r)


def member_step(augment, mc: MemberConfig):
    def step(model, batch):
        x, y, _ = batch
        logits, _, _, bp = model(augment(x))
        wrist = y < OTHER
        loss = F.binary_cross_entropy_with_logits(bp, (y == OTHER).float()) * mc.body_part_weight
        if bool(wrist.any()):
            loss = loss + F.cross_entropy(logits[wrist], y[wrist], label_smoothing=mc.label_smoothing)
        return loss
    return step


@torch.no_grad()
def score(net: models.ViewNet, images: np.ndarray, equalize: bool, batch: int = 64) -> Dict[str, np.ndarray]:
    net.eval()
    L, E, B = [], [], []
    for i in range(0, len(images), batch):
        x = model_input(torch.from_numpy(np.ascontiguousarray(images[i:i + batch])).unsqueeze(1), equalize)
        lo, em, _, bp = net(x)
        L.append(lo.numpy())
        E.append(em.numpy())
        B.append(bp.numpy())
    if not L:
        d = net.backbone.out_channels
        return {"logits": np.zeros((0, 2), np.float32), "emb": np.zeros((0, d), np.float32), "bp": np.zeros(0, np.float32)}
    return {"logits": np.concatenate(L), "emb": np.concatenate(E), "bp": np.concatenate(B)}


def fracture_logit(logits: np.ndarray) -> np.ndarray:
    return logits[:, 1] - logits[:, 0]


SET_NAMES = ("other_fit", "chest_fit", "other_held", "chest_check", "ood", "bone", "graz")


def load_sets(rows, size: int, cache_dir: str, names=SET_NAMES) -> Dict[str, np.ndarray]:
    sets = other_sets()
    out = {"wrist": data.load_images_v3([r.path for r in rows], size, cache_dir)}
    for k in names:
        out[k] = data.load_images_v3(sets[k], size, cache_dir)
    return out


def train_member(a) -> None:
    torch.set_num_threads(a.threads)
    mc = MemberConfig(**json.loads(a.config)) if a.config else MemberConfig()
    if a.epochs:
        mc.epochs = a.epochs
    for k in ("size", "equalize", "init", "init_full"):
        v = getattr(a, k, None)
        if v is not None:
            setattr(mc, k, v)
    rows = data.read_manifest(a.manifest)
    fold = folds_of(rows, a.k, a.fold_seed)
    t0 = time.time()
    imgs = load_sets(rows, mc.size, a.cache_dir, ("other_fit", "chest_fit", "other_held"))
    log(f"images loaded in {time.time() - t0:.0f}s: " + ", ".join(f"{k} {len(v)}" for k, v in imgs.items()))
    y = np.array([CLASSES.index(r.label) for r in rows])
    views = sorted({r.source for r in rows})
    s = np.array([views.index(r.source) for r in rows])
    tr_m = (fold >= 0) & (fold != a.fold)
    ho_m = fold == a.fold
    neg = np.concatenate([imgs["other_fit"], imgs["chest_fit"]])
    n_of, n_cf = len(imgs["other_fit"]), len(imgs["chest_fit"])
    x_tr = np.concatenate([imgs["wrist"][tr_m], neg])
    y_tr = np.concatenate([y[tr_m], np.full(len(neg), OTHER)])
    s_tr = np.concatenate([s[tr_m], np.full(n_of, len(views)), np.full(n_cf, len(views) + 1)])
    n_w = int(tr_m.sum())
    w = np.concatenate([np.full(n_w, (1 - mc.other_share) / n_w), np.full(n_of, mc.other_share * mc.other_fracatlas / n_of),
                        np.full(n_cf, mc.other_share * (1 - mc.other_fracatlas) / n_cf)])
    log(f"fold {a.fold}/{a.k}: train {n_w} wrist films ({int(y[tr_m].sum())} fractures) + {len(neg)} other; held-out {int(ho_m.sum())}")
    torch.manual_seed(a.seed + a.fold)
    ds = data.FilmDataset(x_tr, y_tr, s_tr)
    g = torch.Generator().manual_seed(a.seed + a.fold)
    sampler = torch.utils.data.WeightedRandomSampler(torch.as_tensor(w, dtype=torch.double), mc.samples_per_epoch,
                                                     replacement=True, generator=g)
    loader = torch.utils.data.DataLoader(ds, batch_size=mc.batch_size, sampler=sampler, drop_last=True)
    net = make_net(mc)
    if mc.init and mc.init_full:
        ck = torch.load(mc.init, map_location="cpu")
        if ck.get("fold") != a.fold or ck.get("k") != a.k or ck.get("fold_seed") != a.fold_seed:
            raise SystemExit(f"{mc.init}: a whole-network start must be a member of fold {a.fold} of the same folds "
                             f"(found fold {ck.get('fold')}, k {ck.get('k')}, fold seed {ck.get('fold_seed')}): "
                             "anything else has seen this fold's films")
        net.load_state_dict(ck["state_dict"])
        log(f"whole network from {mc.init} (fold {a.fold}, {ck.get('epochs_run')} epochs at size {ck['config'].get('size')})")
    elif mc.init:
        ck = torch.load(mc.init, map_location="cpu")
        sd = ck["members"][0] if "members" in ck else ck["state_dict"]
        missing = net.backbone.load_state_dict({k[len("backbone."):]: v for k, v in sd.items() if k.startswith("backbone.")})
        log(f"backbone from {mc.init}: {missing}")
    gen = torch.Generator().manual_seed(a.seed + 100 + a.fold)
    aug_cfg = data.AugConfig(**mc.aug)
    augment = lambda x: data.augment_v2(x, aug_cfg, gen, equalize=mc.equalize, occlusion=mc.occlusion)  # noqa: E731
    x_ho, y_ho = imgs["wrist"][ho_m], y[ho_m]

    def evaluate(model):
        o = score(model, x_ho, mc.equalize)
        ob = score(model, imgs["other_held"], mc.equalize)["bp"]
        return {"heldout_auroc": round(cal.auroc(fracture_logit(o["logits"]), y_ho == 1), 4),
                "bodypart_auroc": round(cal.auroc(np.r_[o["bp"], ob], np.r_[np.zeros(len(o["bp"])), np.ones(len(ob))]), 4),
                "score": 0.0}
    lc = train_loop.LoopConfig(epochs=mc.epochs, lr=mc.lr, weight_decay=mc.weight_decay,
                               time_budget_s=a.time_budget_min * 60 if a.time_budget_min else None, seed=a.seed + a.fold,
                               log_every=100)
    res = train_loop.train(net, loader, member_step(augment, mc), lc,
                           evaluate=evaluate if a.monitor_every else None, report=lambda r: log(r))
    # the LAST weights are the member (no selection on held-out films: they calibrate the ensemble)
    net.eval()
    o = score(net, x_ho, mc.equalize)
    os.makedirs(a.run, exist_ok=True)
    tmp = os.path.join(a.run, f"member_{a.fold}.pt.tmp")
    torch.save({"state_dict": net.state_dict(), "config": asdict(mc), "fold": a.fold, "k": a.k, "fold_seed": a.fold_seed,
                "epochs_run": res.epochs_run, "seconds": res.seconds, "history": res.history,
                "heldout_paths": [r.path for r, m in zip(rows, ho_m) if m], "heldout_logits": o["logits"],
                "heldout_auroc": cal.auroc(fracture_logit(o["logits"]), y_ho == 1)}, tmp)
    os.replace(tmp, os.path.join(a.run, f"member_{a.fold}.pt"))
    log(f"fold {a.fold}: {res.epochs_run} epochs in {res.seconds:.0f}s; held-out AUROC "
        f"{cal.auroc(fracture_logit(o['logits']), y_ho == 1):.4f} (n={len(y_ho)}, {int(y_ho.sum())} fractures)")


def bone_boxes(path: str) -> List[tuple]:
    """The boxes of a bone/ film, (x0, y0, x1, y1) as fractions of the stored image: the bounds of each YOLO
    line's points (the export holds polygons: class, then x y pairs; a plain box is class cx cy w h)."""
    lab = os.path.splitext(os.path.join(data.datasets_root(), path).replace("/images/", "/labels/"))[0] + ".txt"
    out = []
    if not os.path.exists(lab):
        return out
    with open(lab) as fh:
        for line in fh:
            v = [float(t) for t in line.split()[1:]]
            if len(v) == 4:
                cx, cy, w, h = v
                out.append((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
            elif len(v) >= 6 and len(v) % 2 == 0:
                xs, ys = v[0::2], v[1::2]
                out.append((min(xs), min(ys), max(xs), max(ys)))
    return out


def _box_mask_one(args) -> np.ndarray:
    """A bone/ film's boxes drawn on the model's field of view (after the tissue crop, transposed like the film),
    as the covered share of each cell of an R x R grid."""
    path, r = args
    g = data.decode_gray01(os.path.join(data.datasets_root(), path))
    H, W = g.shape
    b = data.tissue_crop_box(g)
    fine = 4 * r
    m = np.zeros((fine, fine), np.float32)
    for x0, y0, x1, y1 in bone_boxes(path):
        u0, u1 = (x0 * W - b["x0"]) / (b["x1"] - b["x0"]), (x1 * W - b["x0"]) / (b["x1"] - b["x0"])
        v0, v1 = (y0 * H - b["y0"]) / (b["y1"] - b["y0"]), (y1 * H - b["y0"]) / (b["y1"] - b["y0"])
        if b["transpose"]:
            u0, u1, v0, v1 = v0, v1, u0, u1
        c0, c1 = int(np.clip(np.floor(u0 * fine), 0, fine)), int(np.clip(np.ceil(u1 * fine), 0, fine))
        r0, r1 = int(np.clip(np.floor(v0 * fine), 0, fine)), int(np.clip(np.ceil(v1 * fine), 0, fine))
        m[r0:r1, c0:c1] = 1.0
    return m.reshape(r, 4, r, 4).mean(axis=(1, 3))


def bone_box_masks(paths: List[str], r: int, cache_dir: str) -> np.ndarray:
    """[N, r, r] box coverage of bone/ films on the tissue-cropped field of view (cached like the films)."""
    return data._cached_films(paths, r, cache_dir, "bonebox", f"yolo-bounds|{data.TISSUE_CROP}", _box_mask_one, 2, 16)


def pretrain_step(augment, mc: MemberConfig, masks: torch.Tensor, seg: torch.nn.Module, box_weight: float):
    """`member_step` plus, on bone/ films, where the boxes are: a 1 x 1 convolution on the backbone's feature map
    against each cell's box coverage (binary cross-entropy; films without boxes count as no box anywhere)."""
    def step(model, batch):
        x, y, idx = batch
        xa, ma = augment(x, masks[idx])
        logits, _, f, bp = model(xa)
        wrist = y < OTHER
        loss = F.binary_cross_entropy_with_logits(bp, (y == OTHER).float()) * mc.body_part_weight
        if bool(wrist.any()):
            loss = loss + F.cross_entropy(logits[wrist], y[wrist], label_smoothing=mc.label_smoothing)
            t = F.adaptive_avg_pool2d(ma[wrist], f.shape[-2:]).clamp(0, 1)
            loss = loss + box_weight * F.binary_cross_entropy_with_logits(seg(f[wrist]), t)
        return loss
    return step


def pretrain(a) -> None:
    """A backbone for the members to start from, trained on the Roboflow bone/ films only (never on FracAtlas, so
    out-of-fold scores stay out of fold): 'has a box' (weak, MURA-style abnormal) on the fracture head, and bone
    films vs chest and FracAtlas leg/hip/shoulder 'fit' films on the body-part head. With --box-weight, the backbone
    also learns where the boxes are (`pretrain_step`; the box head is not kept)."""
    torch.set_num_threads(a.threads)
    mc = MemberConfig(**json.loads(a.config)) if a.config else MemberConfig()
    if a.epochs:
        mc.epochs = a.epochs
    sets = other_sets()
    bl = bone_labels()
    bone = data.load_images_v3(sets["bone"], mc.size, a.cache_dir)
    yb = np.array([1 if bl[p]["has_boxes"] == "boxes" else 0 for p in sets["bone"]])
    neg = np.concatenate([data.load_images_v3(sets["other_fit"], mc.size, a.cache_dir),
                          data.load_images_v3(sets["chest_fit"], mc.size, a.cache_dir)])
    x = np.concatenate([bone, neg])
    y = np.concatenate([yb, np.full(len(neg), OTHER)])
    w = np.concatenate([np.full(len(bone), (1 - mc.other_share) / len(bone)), np.full(len(neg), mc.other_share / len(neg))])
    ds = data.FilmDataset(x, y, np.arange(len(y)) if a.box_weight else np.zeros(len(y), int))
    g = torch.Generator().manual_seed(a.seed)
    loader = torch.utils.data.DataLoader(ds, batch_size=mc.batch_size, drop_last=True, sampler=torch.utils.data.WeightedRandomSampler(
        torch.as_tensor(w, dtype=torch.double), mc.samples_per_epoch, replacement=True, generator=g))
    net = make_net(mc)
    gen = torch.Generator().manual_seed(a.seed + 1)
    aug_cfg = data.AugConfig(**mc.aug)
    lc = train_loop.LoopConfig(epochs=mc.epochs, lr=mc.lr, weight_decay=mc.weight_decay, seed=a.seed, log_every=100,
                               time_budget_s=a.time_budget_min * 60 if a.time_budget_min else None)
    if a.box_weight:
        r = 32
        bm = bone_box_masks(sets["bone"], r, a.cache_dir)
        log(f"box masks: {int((bm.reshape(len(bm), -1).max(1) > 0).sum())} of {len(bm)} bone films with a box in view; "
            f"mean coverage of those {bm[bm.reshape(len(bm), -1).max(1) > 0].mean():.3f}")
        masks = torch.from_numpy(np.concatenate([bm, np.zeros((len(neg), r, r), np.float32)])).unsqueeze(1)
        seg = torch.nn.Conv2d(net.backbone.out_channels, 1, 1)
        augment_m = lambda t, m: data.augment_v2(t, aug_cfg, gen, equalize=mc.equalize, occlusion=mc.occlusion,  # noqa: E731
                                                 masks=m)
        res = train_loop.train(net, loader, pretrain_step(augment_m, mc, masks, seg, a.box_weight), lc,
                               report=lambda r: log(r), extra_params=list(seg.parameters()))
    else:
        augment = lambda t: data.augment_v2(t, aug_cfg, gen, equalize=mc.equalize, occlusion=mc.occlusion)  # noqa: E731
        res = train_loop.train(net, loader, member_step(augment, mc), lc, report=lambda r: log(r))
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    torch.save({"state_dict": net.state_dict(), "config": asdict(mc), "epochs_run": res.epochs_run, "seconds": res.seconds,
                "box_weight": a.box_weight,
                "data": "bone/ (has a box" + (", and where" if a.box_weight else "") +
                        ") + chest and FracAtlas leg/hip/shoulder fit films as other body parts"}, a.out)
    log(f"pretrained {res.epochs_run} epochs in {res.seconds:.0f}s -> {a.out}")


# ------------------------------------------------------------------------------------------------
# A dedicated body-part network (WRONG_BODY_PART), cross-fitted like the members
# ------------------------------------------------------------------------------------------------

BONE_TARGET = ("wrist", "fingers", "forearm")   # bone/ box classes that show the target body part
BONE_OTHER = ("shoulder", "humerus")             # ... and those that show another one (elbow: FracAtlas hand has some)


def bone_parts(split: str) -> Dict[str, List[str]]:
    """bone/ films of one split (Roboflow 'train' or 'valid') that show the target part or another part."""
    bl, out = bone_labels(), {"target": [], "other": []}
    for p in other_sets()["bone"]:
        r = bl[p]
        if r["split"] != split:
            continue
        if any(t in r["box_classes"] for t in BONE_TARGET):
            out["target"].append(p)
        elif any(t in r["box_classes"] for t in BONE_OTHER):
            out["other"].append(p)
    return out


def bodypart_input(x: torch.Tensor, pool: int) -> torch.Tensor:
    """The body-part network sees the members' preprocessed input averaged down by `pool` (anatomy, not cortex)."""
    return F.avg_pool2d(x, pool) if pool > 1 else x


def train_bodypart(a) -> None:
    """Fold k: a ViewNet trained on its body-part head only. Target = FracAtlas hand films outside fold k (+ bone/
    'train' wrist/finger/forearm films); other = FracAtlas leg/hip/shoulder 'fit' films, chest 'fit' films and bone/
    'train' shoulder/humerus films, sampled half and half. Out-of-fold logits of the fold's wrist films set the
    threshold as the members' did."""
    torch.set_num_threads(a.threads)
    mc = MemberConfig(widths=(16, 32, 64, 128), epochs=a.epochs or 60, other_share=0.5, body_part_weight=1.0, occlusion=False)
    rows = data.read_manifest(a.manifest)
    fold = folds_of(rows, a.k, a.fold_seed)
    imgs = load_sets(rows, mc.size, a.cache_dir, ("other_fit", "chest_fit", "other_held"))
    if a.cross_fit_other:  # every leg/hip/shoulder film in one of the k folds; this network trains on the others
        of = other_fold(a.k, a.fold_seed)
        both = np.concatenate([imgs["other_fit"], imgs["other_held"]])
        imgs["other_fit"], imgs["other_held"] = both[of != a.fold], both[of == a.fold]
    bt = bone_parts("train")
    b_tg = data.load_images_v3(bt["target"], mc.size, a.cache_dir)
    b_ot = data.load_images_v3(bt["other"], mc.size, a.cache_dir)
    tr_m, ho_m = (fold >= 0) & (fold != a.fold), fold == a.fold
    pos = np.concatenate([imgs["wrist"][tr_m], b_tg])
    groups = [imgs["other_fit"], imgs["chest_fit"], b_ot]
    share = [0.6, 0.25, 0.15]  # of the 'other' half: FracAtlas legs first (the films most like hands)
    x = np.concatenate([pos] + groups)
    yv = np.concatenate([np.zeros(len(pos), int)] + [np.full(len(g), OTHER) for g in groups])
    n_w = int(tr_m.sum())
    w = np.concatenate([np.full(n_w, 0.5 * 0.8 / n_w), np.full(len(b_tg), 0.5 * 0.2 / max(1, len(b_tg)))]
                       + [np.full(len(g), 0.5 * s_ / len(g)) for g, s_ in zip(groups, share)])
    log(f"body part fold {a.fold}: target {n_w} FracAtlas + {len(b_tg)} bone/; other " + ", ".join(str(len(g)) for g in groups))
    torch.manual_seed(a.seed + a.fold)
    g = torch.Generator().manual_seed(a.seed + a.fold)
    loader = torch.utils.data.DataLoader(data.FilmDataset(x, yv, np.zeros(len(yv), int)), batch_size=mc.batch_size, drop_last=True,
                                         sampler=torch.utils.data.WeightedRandomSampler(torch.as_tensor(w, dtype=torch.double),
                                                                                        mc.samples_per_epoch, replacement=True, generator=g))
    net = make_net(mc)
    gen = torch.Generator().manual_seed(a.seed + 100 + a.fold)
    aug_cfg = data.AugConfig(**mc.aug)
    pool = a.pool

    def step(model, batch):
        xb, yb, _ = batch
        _, _, _, bp = model(bodypart_input(data.augment_v2(xb, aug_cfg, gen, equalize=mc.equalize, occlusion=False), pool))
        return F.binary_cross_entropy_with_logits(bp, (yb == OTHER).float())

    def bp_of(model, images):
        return score_bodypart(model, images, mc.equalize, pool)

    def evaluate(model):  # logged only: the last weights are kept whatever these say (the held films are a check set)
        wh, lh = bp_of(model, imgs["wrist"][ho_m]), bp_of(model, imgs["other_held"])
        t = float(np.quantile(wh, 0.99))
        return {"bodypart_auroc": round(cal.auroc(np.r_[wh, lh], np.r_[np.zeros(len(wh)), np.ones(len(lh))]), 4),
                "legs_refused_at_q99": round(float((lh > t).mean()), 4), "score": 0.0}
    lc = train_loop.LoopConfig(epochs=mc.epochs, lr=mc.lr, weight_decay=mc.weight_decay, seed=a.seed + a.fold, log_every=100,
                               time_budget_s=a.time_budget_min * 60 if a.time_budget_min else None)
    res = train_loop.train(net, loader, step, lc, evaluate=evaluate, report=lambda r: log(r))
    net.eval()
    os.makedirs(a.run, exist_ok=True)
    tmp = os.path.join(a.run, f"bodypart_{a.fold}.pt.tmp")
    torch.save({"state_dict": net.state_dict(), "config": asdict(mc), "pool": pool, "fold": a.fold, "k": a.k,
                "fold_seed": a.fold_seed, "epochs_run": res.epochs_run, "seconds": res.seconds, "history": res.history,
                "crossFitOther": bool(a.cross_fit_other)}, tmp)
    os.replace(tmp, os.path.join(a.run, f"bodypart_{a.fold}.pt"))
    log(f"body part fold {a.fold}: {res.epochs_run} epochs in {res.seconds:.0f}s")


@torch.no_grad()
def score_bodypart(net: models.ViewNet, images: np.ndarray, equalize: bool, pool: int, batch: int = 64) -> np.ndarray:
    net.eval()
    out = [net(bodypart_input(model_input(torch.from_numpy(np.ascontiguousarray(images[i:i + batch])).unsqueeze(1), equalize),
                              pool))[3].numpy() for i in range(0, len(images), batch)]
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def refuse_cross_fitted(cks) -> None:
    """`ship` and `bodypart-report` judge the gate on the 'held' leg/hip/shoulder films as never trained on, which
    networks trained with --cross-fit-other saw (four of five): their check would need out-of-fold scores."""
    if any(ck.get("crossFitOther") for ck in cks):
        raise SystemExit("body-part networks trained with --cross-fit-other saw the 'held' leg/hip/shoulder films; "
                         "ship and bodypart-report check on those films, so they take only networks trained without it")


def load_bodypart(run: str):
    files = sorted(f for f in os.listdir(run) if f.startswith("bodypart_") and f.endswith(".pt"))
    cks = [torch.load(os.path.join(run, f), map_location="cpu") for f in files]
    nets = []
    for ck in cks:
        n = make_net(MemberConfig(**{k: (tuple(v) if k == "widths" else v) for k, v in ck["config"].items()}))
        n.load_state_dict(ck["state_dict"])
        nets.append(n.eval())
    return cks, nets


def unpack(a) -> None:
    """Writes the members of a shipped version back as member_<fold>.pt (its folds, training record and held-out AUROC
    from model.json), so `ship` can export it again, e.g. with new body-part networks, without retraining."""
    ck = torch.load(os.path.join(a.model_dir, "model.pt"), map_location="cpu")
    with open(os.path.join(a.model_dir, "model.json")) as fh:
        mj = json.load(fh)
    tr = mj["training"]
    os.makedirs(a.run, exist_ok=True)
    for sd, rec in zip(ck["members"], tr["members"]):
        torch.save({"state_dict": {k: v.float() if v.is_floating_point() else v for k, v in sd.items()}, "config": ck["config"],
                    "fold": rec["fold"], "k": tr["hyperparameters"]["members"], "fold_seed": a.fold_seed,
                    "epochs_run": rec["epochs"], "seconds": rec["seconds"], "history": [rec["last"]] if rec.get("last") else [],
                    "heldout_auroc": rec["heldoutAuroc"]}, os.path.join(a.run, f"member_{rec['fold']}.pt"))
    bp, bp_rec = ck.get("bodyPart"), tr.get("bodyPart")
    if bp and bp_rec:  # the dedicated body-part networks, one per fold in fold order, into <run>/bodypart
        os.makedirs(os.path.join(a.run, "bodypart"), exist_ok=True)
        for k, sd in enumerate(bp["members"]):
            torch.save({"state_dict": {n: v.float() if v.is_floating_point() else v for n, v in sd.items()}, "config": bp["config"],
                        "pool": bp["pool"], "fold": k, "k": len(bp["members"]), "fold_seed": a.fold_seed,
                        "epochs_run": bp_rec["epochs"], "seconds": bp_rec["seconds"] / len(bp["members"]), "history": []},
                       os.path.join(a.run, "bodypart", f"bodypart_{k}.pt"))
    if tr.get("pretraining"):  # the backbone checkpoint itself is not shipped; its record is
        with open(os.path.join(a.run, "pretraining.json"), "w") as fh:
            json.dump(tr["pretraining"], fh, indent=1)
    log(f"unpacked {len(ck['members'])} members" + (f" and {len(bp['members'])} body-part networks" if bp and bp_rec else "")
        + f" of {a.model_dir} into {a.run}")


def bodypart_report(a) -> dict:
    """Out-of-fold threshold (the `--probe-quantile` of the train+val wrist films' logits, each from the network that
    never saw the film) and the checks: FracAtlas test wrist films, held-out leg/hip/shoulder films, chest val/test
    films, bone/ 'valid' wrist/finger/forearm films (never trained on)."""
    torch.set_num_threads(a.threads)
    cks, nets = load_bodypart(a.run)
    refuse_cross_fitted(cks)
    rows = data.read_manifest(a.manifest)
    fold = folds_of(rows, cks[0]["k"], cks[0]["fold_seed"])
    eq, pool = cks[0]["config"]["equalize"], cks[0]["pool"]
    imgs = load_sets(rows, cks[0]["config"]["size"], a.cache_dir, ("other_held", "chest_check"))
    imgs["bone_valid_target"] = data.load_images_v3(bone_parts("valid")["target"], cks[0]["config"]["size"], a.cache_dir)
    per = {k: np.stack([score_bodypart(n, v, eq, pool) for n in nets]) for k, v in imgs.items()}
    oof = np.zeros(len(rows), np.float32)
    for ck, row in zip(cks, per["wrist"]):
        oof[fold == ck["fold"]] = row[fold == ck["fold"]]
    cv = fold >= 0
    thr = float(np.sort(oof[cv])[int(math.ceil(a.probe_quantile * int(cv.sum()))) - 1])
    split = np.array([r.split for r in rows])
    part = np.array([other_meta()[p] for p in other_sets()["other_held"]])
    ens = {k: v.mean(0) for k, v in per.items()}
    out = {"threshold": round(thr, 4), "probeQuantile": a.probe_quantile,
           "wristOutOfFoldRefused": r4((oof[cv] > thr).mean()), "wristTestRefused": r4((ens["wrist"][split == "test"] > thr).mean()),
           "otherHeldRefused": r4((ens["other_held"] > thr).mean()),
           "otherHeldByPart": {p: r4((ens["other_held"][part == p] > thr).mean()) for p in sorted(set(part))},
           "chestCheckRefused": r4((ens["chest_check"] > thr).mean()),
           "boneValidTargetRefused": r4((ens["bone_valid_target"] > thr).mean()), "nBoneValidTarget": len(imgs["bone_valid_target"])}
    log("body part", json.dumps(out))
    with open(os.path.join(a.run, "bodypart-report.json"), "w") as fh:
        json.dump(out, fh, indent=1)
    return out


# ------------------------------------------------------------------------------------------------
# Ship: ensemble, calibration on out-of-fold films, gate, metrics, export
# ------------------------------------------------------------------------------------------------

def load_members(run: str):
    files = sorted(f for f in os.listdir(run) if f.startswith("member_") and f.endswith(".pt"))
    cks = [torch.load(os.path.join(run, f), map_location="cpu") for f in files]
    nets = []
    for ck in cks:
        mc = MemberConfig(**{k: (tuple(v) if k == "widths" else v) for k, v in ck["config"].items()})
        n = make_net(mc)
        n.load_state_dict(ck["state_dict"])
        nets.append(n.eval())
    return cks, nets


def v1_scores(paths: List[str], cache_dir: str) -> np.ndarray:
    """Wrist v1 (two-view pair model) on single films: the same film as PA and lateral, as its own evaluation."""
    ck = torch.load(os.path.join(REPO, "models", "wrist", "v1", "model.pt"), map_location="cpu")
    net = models.WristNet(len(ck["classes"]), **(ck.get("arch_kwargs") or {})).eval()
    net.load_state_dict(ck["state_dict"])
    with open(os.path.join(REPO, "models", "wrist", "v1", "model.json")) as fh:
        T = json.load(fh)["temperature"]
    x = data.load_images(paths, ck["size"], cache_dir)
    out = []
    with torch.no_grad():
        for i in range(0, len(x), 64):
            xn = data.torch_instance_normalise(torch.from_numpy(x[i:i + 64]).unsqueeze(1))
            out.append(net(xn, xn)[0].numpy())
    return cal.softmax(np.concatenate(out), T)[:, 1]


def per_group(p, y, flag, groups, nb, names=None) -> Dict[str, dict]:
    out = {}
    for gname in (names or sorted(set(groups))):
        m = groups == gname
        if not m.any():
            continue
        pp, yy, ff = p[m], y[m], flag[m]
        e = {"n": int(m.sum()), "fractures": int(yy.sum())}
        if (yy == 1).any() and (yy == 0).any():
            e["auroc"] = cal.bootstrap_ci(lambda i: cal.auroc(pp[i], yy[i] == 1), len(yy), nb)
        if (yy == 1).any():
            e["recall"] = cal.bootstrap_ci(lambda i: cal.binary_stats(ff[i], yy[i] == 1)["recall"], len(yy), nb)
        if (yy == 0).any():
            e["specificity"] = cal.bootstrap_ci(lambda i: cal.binary_stats(ff[i], yy[i] == 1)["specificity"], len(yy), nb)
        e["counts"] = {k: v for k, v in cal.binary_stats(ff, yy == 1).items() if k in ("tp", "fn", "tn", "fp")}
        out[gname] = e
    return out


def study_simulation(p_front, y_front, p_lat, y_lat, t, one_view_share, seed=0, n=20000) -> dict:
    """Two-view studies simulated from single films (FracAtlas has no pairs): a fracture study pairs a fractured
    film of one view with a fractured film of the other view, or, for the share seen in only one view
    (GRAZPEDWRI-DX), with a non-fractured film of the other view; a normal study pairs two non-fractured films.
    Views drawn independently, so this ignores that one wrist's two films are alike."""
    rng = np.random.default_rng(seed)
    fp, fn_ = p_front[y_front == 1], p_front[y_front == 0]
    lp, ln = p_lat[y_lat == 1], p_lat[y_lat == 0]
    res = {}
    for rule in ("max", "mean", "noisy-or"):
        def fuse(a, b):
            return {"max": np.maximum(a, b), "mean": (a + b) / 2, "noisy-or": 1 - (1 - a) * (1 - b)}[rule]
        pos_both = fuse(rng.choice(fp, n), rng.choice(lp, n))
        only_lat = fuse(rng.choice(fn_, n), rng.choice(lp, n))
        only_front = fuse(rng.choice(fp, n), rng.choice(ln, n))
        s_lat, s_front = one_view_share["lateralOnly"], one_view_share["frontalOnly"]
        recall = (1 - s_lat - s_front) * (pos_both >= t).mean() + s_lat * (only_lat >= t).mean() + s_front * (only_front >= t).mean()
        neg = fuse(rng.choice(fn_, n), rng.choice(ln, n))
        pos = np.concatenate([pos_both[: int(n * (1 - s_lat - s_front))], only_lat[: int(n * s_lat)], only_front[: int(n * s_front)]])
        res[rule] = {"recall": r4(recall), "specificity": r4((neg < t).mean()),
                     "auroc": r4(cal.auroc(np.r_[pos, neg], np.r_[np.ones(len(pos)), np.zeros(len(neg))]))}
    return res


def grazpedwri_views() -> dict:
    """In GRAZPEDWRI-DX two-view studies (PA + lateral), how often a fracture is visible in one view only."""
    path = os.path.join(data.datasets_root(), "wrist_grazpedwri_metadata", "dataset.csv")
    with open(path, encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    st: Dict[tuple, list] = {}
    for r in rows:
        st.setdefault((r["patient_id"], r["study_number"], r["laterality"]), []).append(r)
    c = {"both": 0, "frontalOnly": 0, "lateralOnly": 0, "neither": 0}
    for v in st.values():
        pa = [r for r in v if r["projection"] == "1"]
        la = [r for r in v if r["projection"] == "2"]
        if not pa or not la:
            continue
        f, l_ = any(r["fracture_visible"] == "1" for r in pa), any(r["fracture_visible"] == "1" for r in la)
        c["both" if f and l_ else "frontalOnly" if f else "lateralOnly" if l_ else "neither"] += 1
    nf = c["both"] + c["frontalOnly"] + c["lateralOnly"]
    return {"twoViewStudies": sum(c.values()), "fractureStudies": nf, **c,
            "frontalOnlyShare": round(c["frontalOnly"] / nf, 4), "lateralOnlyShare": round(c["lateralOnly"] / nf, 4)}


def ship(a) -> None:
    torch.set_num_threads(a.threads)
    cks, nets = load_members(a.run)
    for n in nets:  # float16-representable weights: model.pt stores them in half the bytes, the ONNX graph holds the same values
        n.load_state_dict({k: v.half().float() if v.is_floating_point() else v for k, v in n.state_dict().items()})
    mc = MemberConfig(**{k: (tuple(v) if k == "widths" else v) for k, v in cks[0]["config"].items()})
    K = cks[0]["k"]
    if len(nets) != K or sorted(ck["fold"] for ck in cks) != list(range(K)):
        raise SystemExit(f"{a.run}: need members 0..{K - 1}, found folds {sorted(ck['fold'] for ck in cks)}")
    version = a.version or os.path.basename(os.path.normpath(a.out))
    rows = data.read_manifest(a.manifest)
    manifest_sha = data.file_sha256(a.manifest)
    fold = folds_of(rows, K, cks[0]["fold_seed"])
    imgs = load_sets(rows, mc.size, a.cache_dir)
    sets = other_sets()
    y = np.array([CLASSES.index(r.label) for r in rows])
    view = np.array([r.source.replace("fracatlas_", "") for r in rows])
    split = np.array([r.split for r in rows])
    te_m, cv_m = split == "test", fold >= 0
    log(f"{K} members; scoring {sum(len(v) for k, v in imgs.items() if k != 'chest_fit')} films")
    per = {k: [score(n, v, mc.equalize) for n in nets] for k, v in imgs.items() if k != "chest_fit"}
    bp_cks, bp_nets = load_bodypart(a.bodypart_run) if a.bodypart_run else ([], [])
    refuse_cross_fitted(bp_cks)
    if bp_nets:  # the dedicated body-part network of fold k stands in for member k's head (same folds)
        if sorted(c["fold"] for c in bp_cks) != list(range(K)) or any(c["k"] != K or c["fold_seed"] != cks[0]["fold_seed"] for c in bp_cks):
            raise SystemExit(f"{a.bodypart_run}: need body-part networks for folds 0..{K - 1} of the members' folds")
        bp_nets = [n for _, n in sorted(zip([c["fold"] for c in bp_cks], bp_nets), key=lambda t: t[0])]
        bp_pool = bp_cks[0]["pool"]
        for key, outs in per.items():
            for j, o in enumerate(outs):
                o["bp_joint"], o["bp_dedicated"] = o["bp"], score_bodypart(bp_nets[j], imgs[key], mc.equalize, bp_pool)
        # each score standardised on the out-of-fold train+val wrist films, then summed (linear: the ensemble's
        # score is the same sum over the member means)
        oof_j, oof_d = np.zeros(len(rows), np.float32), np.zeros(len(rows), np.float32)
        for k in range(K):
            oof_j[fold == k] = per["wrist"][k]["bp_joint"][fold == k]
            oof_d[fold == k] = per["wrist"][k]["bp_dedicated"][fold == k]
        bp_norm = [float(oof_j[fold >= 0].mean()), float(oof_j[fold >= 0].std()), float(oof_d[fold >= 0].mean()),
                   float(oof_d[fold >= 0].std())]
        bp_weights = (1.0, 1.0) if a.bodypart_mode == "sum" else (0.0, 1.0)
        for outs in per.values():
            for o in outs:
                o["bp"] = (bp_weights[0] * (o["bp_joint"] - bp_norm[0]) / bp_norm[1]
                           + bp_weights[1] * (o["bp_dedicated"] - bp_norm[2]) / bp_norm[3])

    def ens(key, what):
        arr = np.stack([o[what] for o in per[key]])
        return arr.mean(0) if what != "emb" else np.concatenate(list(arr), axis=1)

    # ---------------------------------------------------------------- out-of-fold scores (one member per film)
    oof_logits = np.zeros((len(rows), 2), np.float32)
    oof_bp = np.zeros(len(rows), np.float32)
    for k in range(K):
        m = fold == k
        oof_logits[m] = per["wrist"][k]["logits"][m]
        oof_bp[m] = per["wrist"][k]["bp"][m]
    T = cal.fit_temperature(oof_logits[cv_m], y[cv_m])
    p_oof = cal.softmax(oof_logits, T)[:, 1]
    ens_logits = ens("wrist", "logits")
    p_ens = cal.softmax(ens_logits, T)[:, 1]
    yc, yt = y[cv_m], y[te_m]
    pos = p_oof[cv_m & (y == 1)]
    conf = cal.conformal_recall_threshold(pos, TARGET_RECALL)
    t = conf["value"]
    flag_oof, flag_te = p_oof >= t, p_ens >= t
    nb = a.n_boot
    member_test_auroc = [r4(cal.auroc(fracture_logit(o["logits"][te_m]), yt == 1)) for o in per["wrist"]]
    d_max = np.stack([fracture_logit(o["logits"]) for o in per["wrist"]]).max(0)
    p_max = 1 / (1 + np.exp(-d_max / T))
    calib = {"temperature": round(T, 4), "calibrationSet": f"out-of-fold scores of the {int(cv_m.sum())} train+val films "
             f"(each scored by the member that never saw it; {K} folds stratified by label and view)",
             "nCalibration": int(cv_m.sum()), "eceBins": 15,
             "eceCalibrationBefore": r4(cal.ece(cal.softmax(oof_logits[cv_m]), yc)),
             "eceCalibrationAfter": r4(cal.ece(cal.softmax(oof_logits[cv_m], T), yc)),
             "eceTestBefore": r4(cal.ece(cal.softmax(ens_logits[te_m]), yt)),
             "eceTestAfter": r4(cal.ece(cal.softmax(ens_logits[te_m], T), yt))}
    n_pos = len(pos)
    thresholds = {"FRACTURE": {
        "value": round(float(t), 6), "targetRecall": TARGET_RECALL,
        "method": "conformal order statistic on out-of-fold scores: the floor(alpha (n+1))-th smallest calibrated "
                  "P(FRACTURE) among the n train+val fractures, each scored by the ensemble member that did not train on it "
                  "(alpha = 1 - targetRecall)",
        "nCalibrationPositives": n_pos, "orderStatisticK": conf["k"],
        "guarantee": (f"E[recall] >= 1 - k/(n+1) = {1 - conf['k'] / (n_pos + 1):.4f} (k={conf['k']}, n={n_pos}) for a fractured film "
                      "exchangeable with the FracAtlas calibration fractures, scored by one member; the shipped score is the "
                      "members' mean, whose recall at this point is measured, not guaranteed (internal test and out-of-fold below)"),
        "calibrationRecall": r4(flag_oof[cv_m & (y == 1)].mean()),
        "calibrationSpecificity": r4(1 - flag_oof[cv_m & (y == 0)].mean()),
        "testRecall": r4(flag_te[te_m & (y == 1)].mean()), "testSpecificity": r4(1 - flag_te[te_m & (y == 0)].mean()),
        "appliesTo": "softmax(logits / temperature)[1] >= value (per view)",
    }}
    log("thresholds", json.dumps(thresholds))

    # ---------------------------------------------------------------- gate
    emb_cv = ens("wrist", "emb")[cv_m]
    dims = [o["emb"].shape[1] for o in per["wrist"]]
    cuts = np.cumsum([0] + dims)
    # the distance's classes: FracAtlas train+val fracture / no fracture, and (--gate-bone-train) other hospitals' bone/
    # 'train' wrist/finger/forearm films as a third, so the distance does not learn FracAtlas' look as "a radiograph"
    gate_bone = np.isin(sets["bone"], bone_parts("train")["target"]) if a.gate_bone_train else np.zeros(len(sets["bone"]), bool)
    fits = [cal.fit_mahalanobis(np.r_[o["emb"][cv_m], ob["emb"][gate_bone]], np.r_[y[cv_m], np.full(int(gate_bone.sum()), 2)])
            for o, ob in zip(per["wrist"], per["bone"])]
    shrink = float(np.mean([f[2] for f in fits]))

    def dist(e):
        return np.mean([cal.mahalanobis_np(e[:, cuts[j]:cuts[j + 1]], f[0], f[1]) for j, f in enumerate(fits)], axis=0)
    d_cv = dist(emb_cv)
    kq = int(math.ceil(a.gate_quantile * len(d_cv))) - 1
    d_thr = float(np.sort(d_cv)[kq]) * a.ood_margin
    l_thr = float(np.sort(oof_bp[cv_m])[int(math.ceil(a.probe_quantile * int(cv_m.sum()))) - 1])

    def verdicts(key, mask=None):
        d, l_ = dist(ens(key, "emb")), ens(key, "bp")
        if mask is not None:
            d, l_ = d[mask], l_[mask]
        v = np.where(d > d_thr, "NOT_A_RADIOGRAPH", np.where(l_ > l_thr, "WRONG_BODY_PART", "ACCEPTED"))
        return v, d, l_

    def rates(v) -> dict:
        n = len(v)
        return {"n": int(n), "refused": r4((v != "ACCEPTED").mean()) if n else None,
                "wrongBodyPart": r4((v == "WRONG_BODY_PART").mean()) if n else None,
                "notARadiograph": r4((v == "NOT_A_RADIOGRAPH").mean()) if n else None}
    v_te, d_te, l_te = verdicts("wrist", te_m)
    v_cv, _, _ = verdicts("wrist", cv_m)
    v_oh, d_oh, l_oh = verdicts("other_held")
    v_of, _, _ = verdicts("other_fit")
    v_ch, d_ch, l_ch = verdicts("chest_check")
    v_ood, d_ood, _ = verdicts("ood")
    v_bone, _, _ = verdicts("bone")
    v_graz, _, _ = verdicts("graz")
    colour = np.array([data.chroma(os.path.join(data.datasets_root(), p)) > data.COLOUR_CHROMA_LIMIT for p in sets["ood"]])
    ood_final = np.where(colour, "NOT_A_RADIOGRAPH", v_ood)
    om = other_meta()
    part = np.array([om[p] for p in sets["other_held"]])
    cs = chest_sources()
    csrc = np.array([cs[p] for p in sets["chest_check"]])
    bl = bone_labels()
    bone_wrist = np.array([bl[p]["wrist_positive"] == "1" or "wrist" in bl[p]["box_classes"] or "fingers" in bl[p]["box_classes"]
                           or "forearm" in bl[p]["box_classes"] for p in sets["bone"]])
    # the dedicated body-part networks trained on bone/ 'train' films: the bone/ checks use its 'valid' films only
    bone_check = np.array([not bp_nets or bl[p]["split"] == "valid" for p in sets["bone"]])
    gate = {
        "signal": "ood_distance",
        "method": "NOT_A_RADIOGRAPH: mean over members of the Mahalanobis distance of each member's embedding to the train+val "
                  "wrist films (class means, shared Ledoit-Wolf covariance" + (
                      f"; bone/ 'train' wrist/finger/forearm films of other hospitals ({int(gate_bone.sum())}) as a third class"
                      if gate_bone.any() else "") + "); WRONG_BODY_PART: " + (
                      ("the sum of two standardised scores (not_target_logit): the members' body-part head (trained with chest films "
                       "and FracAtlas leg/hip/shoulder 'fit' films as other body parts) and " if a.bodypart_mode == "sum" else
                       "not_target_logit, standardised: ") +
                      f"{K} dedicated body-part networks (one per fold, on the input averaged down {bp_pool}x; target: FracAtlas hand "
                      "films + bone/ 'train' wrist/finger/forearm films; other: FracAtlas leg/hip/shoulder 'fit', chest 'fit' and bone/ "
                      "'train' shoulder/humerus films), each averaged and scaled by its out-of-fold mean and spread on train+val "
                      "wrist films; " if bp_nets else
                      "the members' body-part head (trained with chest films and FracAtlas leg/hip/shoulder 'fit' films as other body "
                      "parts), averaged (not_target_logit); ") + "colour pictures are refused before the model",
        "oodDistanceThreshold": round(d_thr, 4), "notTargetLogitThreshold": round(l_thr, 4),
        "rejectIf": "ood_distance > oodDistanceThreshold (NOT_A_RADIOGRAPH), else not_target_logit > notTargetLogitThreshold (WRONG_BODY_PART)",
        "thresholdRule": f"distance: {a.ood_margin} x its {a.gate_quantile} quantile on train+val wrist films; body part: the "
                         f"{a.probe_quantile} quantile of the out-of-fold " + ("body-part scores (each from the networks of the fold "
                         "that never saw the film)" if bp_nets else "member logits") + " of the train+val wrist films",
        "shrinkage": round(shrink, 4), "embeddingDim": int(emb_cv.shape[1]), "memberEmbeddingDims": dims,
        "keptValidation": r4((v_cv == "ACCEPTED").mean()), "keptTest": r4((v_te == "ACCEPTED").mean()),
        "aurocNotRadiograph": r4(cal.auroc(np.r_[d_te, d_ood], np.r_[np.zeros(len(d_te)), np.ones(len(d_ood))])),
        "aurocWrongBodyPart": r4(cal.auroc(np.r_[l_te, l_oh, l_ch], np.r_[np.zeros(len(l_te)), np.ones(len(l_oh) + len(l_ch))])),
        "rejectedNotRadiograph": r4((ood_final != "ACCEPTED").mean()),
        "notRadiographAnsweredNotARadiograph": r4((ood_final == "NOT_A_RADIOGRAPH").mean()),
        "rejectedWrongBodyPart": r4((v_oh != "ACCEPTED").mean()),
        "checkSets": "gate-check.csv beside model.json (path,set; paths under the shared datasets folder); wrist test films: manifest.csv",
        "checks": {
            "wristTest": rates(v_te), "wristTrainVal": rates(v_cv),
            "legHipShoulderHeld": rates(v_oh),
            "legHipShoulderHeldByPart": {pp: rates(v_oh[part == pp]) for pp in sorted(set(part))},
            "legHipShoulderFit (trained on)": rates(v_of),
            "chestValTest": rates(v_ch), "chestBySource": {s_: rates(v_ch[csrc == s_]) for s_ in sorted(set(csrc))},
            "photos": {**rates(ood_final), "colourRuleRefused": r4(colour.mean()), "byModel": rates(v_ood)},
            "boneUpperLimb": rates(v_bone[bone_check]), "boneWristFingersForearmBoxes": rates(v_bone[bone_wrist & bone_check]),
            "boneSplit": "valid" if bp_nets else "all",
            "grazpedwriSamples": {**rates(v_graz), "verdicts": v_graz.tolist()},
        },
    }
    log("gate", json.dumps(gate))

    # ---------------------------------------------------------------- metrics
    groups = view[te_m]
    metrics = {
        "set": "FracAtlas hand/wrist/forearm test split (never trained on, never used for choices)",
        "n": int(te_m.sum()), "bootstrap": {"resamples": nb, "ci": "percentile 95%"},
        "aurocPerClass": {"FRACTURE": cal.bootstrap_ci(lambda i: cal.auroc(p_ens[te_m][i], yt[i] == 1), len(yt), nb)},
        "atThresholds": {"FRACTURE": {
            key: cal.bootstrap_ci(lambda i, key=key: cal.binary_stats(flag_te[te_m][i], yt[i] == 1)[key], len(yt), nb)
            for key in ("recall", "specificity", "ppv", "npv")} | {
            "counts": {k: v for k, v in cal.binary_stats(flag_te[te_m], yt == 1).items() if k in ("tp", "fn", "tn", "fp")}}},
        "ece": {"before": r4(cal.ece(cal.softmax(ens_logits[te_m]), yt)), "after": r4(cal.ece(cal.softmax(ens_logits[te_m], T), yt))},
        "perSource": {f"fracatlas_{k}": v for k, v in per_group(p_ens[te_m], yt, flag_te[te_m], groups, nb, list(VIEWS)).items()},
        "outOfFold": {
            "note": "each train+val film scored by the one member that never saw it (single member, not the ensemble)",
            "n": int(cv_m.sum()), "fractures": int(yc.sum()),
            "auroc": cal.bootstrap_ci(lambda i: cal.auroc(p_oof[cv_m][i], yc[i] == 1), len(yc), nb),
            "recall": r4(flag_oof[cv_m][yc == 1].mean()), "specificity": r4(1 - flag_oof[cv_m][yc == 0].mean()),
            "ece": r4(cal.ece(cal.softmax(oof_logits[cv_m], T), yc)),
            "perView": per_group(p_oof[cv_m], yc, flag_oof[cv_m], view[cv_m], nb, list(VIEWS)),
            "perFold": {str(k): r4(cal.auroc(p_oof[fold == k], y[fold == k] == 1)) for k in range(K)},
        },
        "ensemble": {"members": K, "memberTestAuroc": member_test_auroc,
                     "meanTestAuroc": r4(cal.auroc(p_ens[te_m], yt == 1)),
                     "maxTestAuroc": r4(cal.auroc(p_max[te_m], yt == 1))},
    }
    # the backbone the members started from (wrist_v2.py pretrain): what it saw decides which checks stay out of sample
    pretraining = None
    record = os.path.join(a.run, "pretraining.json")
    if mc.init and mc.init_full:  # members fine-tuned from earlier members of their folds: those members' backbone record
        record = os.path.join(os.path.dirname(mc.init), "pretraining.json")
        if not os.path.exists(record):
            raise SystemExit(f"the members were fine-tuned from {os.path.dirname(mc.init)}, which has no pretraining.json")
        with open(record) as fh:
            earlier = [torch.load(os.path.join(os.path.dirname(mc.init), f"member_{k}.pt"), map_location="cpu") for k in range(K)]
            pretraining = {**json.load(fh), "fineTunedFrom": {
                "members": os.path.relpath(os.path.dirname(mc.init), REPO), "size": earlier[0]["config"].get("size"),
                "lseR": earlier[0]["config"].get("lse_r", 0.0), "epochs": [e["epochs_run"] for e in earlier],
                "seconds": round(float(sum(e["seconds"] for e in earlier)), 1),
                "heldoutAuroc": [r4(e["heldout_auroc"]) for e in earlier],
                "note": "each member started from the earlier member of its own fold (whole network), so it never saw its fold"}}
    elif mc.init and not os.path.exists(mc.init) and os.path.exists(record):  # members unpacked from a shipped version
        with open(record) as fh:
            pretraining = json.load(fh)
    elif mc.init:
        if not os.path.exists(mc.init):
            raise SystemExit(f"the members started from {mc.init}, which is gone: its record belongs in model.json")
        pk = torch.load(mc.init, map_location="cpu")
        pretraining = {"data": pk.get("data"), "epochs": pk.get("epochs_run"), "seconds": round(float(pk.get("seconds", 0)), 1),
                       "sha256": data.file_sha256(mc.init), "checkpoint": "not shipped (the members hold its weights, fine-tuned)",
                       "fracAtlasHandFilms": 0,
                       "note": "no FracAtlas hand/wrist/forearm film was used, so out-of-fold and test scores stay out of sample; "
                               "bone/ films were (weak 'has a box' labels), so the bone/ check below is not"}
    # weak external check: Roboflow bone/ (MURA-like 'has a box' labels, other hospitals)
    bone_p = cal.softmax(ens("bone", "logits"), T)[:, 1]
    bone_y = np.array([bl[p]["has_boxes"] == "boxes" for p in sets["bone"]])
    bone_f = bone_p >= t
    metrics["boneWeakCheck"] = {
        "set": "shared/datasets/bone: 1237 upper-limb films, label = has a Roboflow box (MURA-style abnormal incl. hardware, not verified)",
        "auroc": cal.bootstrap_ci(lambda i: cal.auroc(bone_p[i], bone_y[i]), len(bone_y), nb),
        "recall": r4(bone_f[bone_y].mean()), "specificity": r4(1 - bone_f[~bone_y].mean()),
        "wristFingersForearmBoxesVsEmpty": r4(cal.auroc(bone_p[bone_wrist | ~bone_y], bone_y[bone_wrist | ~bone_y])),
        **({"outOfSample": False, "note": "the members' backbone was pretrained on these films (their 'has a box' labels): not an external "
                                          "check for this version"} if pretraining else {"outOfSample": True}),
    }
    # parent on the same films
    te_paths = [r.path for r, m in zip(rows, te_m) if m]
    p_v1 = v1_scores(te_paths, a.cache_dir)
    with open(os.path.join(REPO, "models", "wrist", "v1", "model.json")) as fh:
        v1_t = json.load(fh)["thresholds"]["FRACTURE"]["value"]
    v1_auc = cal.bootstrap_ci(lambda i: cal.auroc(p_v1[i], yt[i] == 1), len(yt), nb)
    v1_bone = v1_scores(sets["bone"], a.cache_dir)
    metrics["parentOnSameTest"] = {"version": a.parent, "auroc": v1_auc,
                                   "recall": r4((p_v1 >= v1_t)[yt == 1].mean()), "specificity": r4(1 - (p_v1 >= v1_t)[yt == 0].mean()),
                                   "boneAuroc": r4(cal.auroc(v1_bone, bone_y)),
                                   "note": "v1 reads pairs: each film given as both PA and lateral, at v1's own threshold; "
                                           "v1 was trained on most bone/ films, so its bone AUROC is not out of sample"}
    diff = cal.bootstrap_ci(lambda i: cal.auroc(p_ens[te_m][i], yt[i] == 1) - cal.auroc(p_v1[i], yt[i] == 1), len(yt), nb)
    # Promoted only when it beats v1 on the same films AND its gate keeps real wrist films (issue 17: <= 2% of the
    # test split refused): a reader that refuses in-scope films is not one a department should get by default.
    beats = bool(metrics["aurocPerClass"]["FRACTURE"]["value"] > v1_auc["value"])
    kept = bool(gate["checks"]["wristTest"]["refused"] <= MAX_WRIST_REFUSED)
    promotion = {"metric": "FRACTURE AUROC on the FracAtlas hand test split (99 films), v1 reading each film as its own pair",
                 "parent": v1_auc["value"], "candidate": metrics["aurocPerClass"]["FRACTURE"]["value"],
                 "difference": diff, "comparisonPassed": beats,
                 "gateKeep": {"rule": f"wrist test films refused <= {MAX_WRIST_REFUSED}", "refused": gate["checks"]["wristTest"]["refused"],
                              "boneWristFingersForearmRefused": gate["checks"]["boneWristFingersForearmBoxes"]["refused"], "passed": kept},
                 "passed": beats and kept}
    if beats and not kept:
        promotion["reason"] = (
            f"beats {a.parent} on the same test films, but its gate refuses {100 * gate['checks']['wristTest']['refused']:.1f}% of the "
            f"FracAtlas test wrist films (rule: <= {100 * MAX_WRIST_REFUSED:.0f}%) and "
            f"{100 * gate['checks']['boneWristFingersForearmBoxes']['refused']:.0f}% of bone/ wrist/finger/forearm films from other hospitals "
            "as another body part: STAGING on a fresh install (an admin may canary and promote it after site validation)")
    gv = grazpedwri_views()
    fr_m, la_m = te_m & (view == "frontal"), te_m & (view == "lateral")
    study = {"rule": "max", "threshold": round(float(t), 6),
             "requiredViews": ["PA", "LATERAL"],
             "why": (f"GRAZPEDWRI-DX two-view studies: of {gv['fractureStudies']} with a fracture, {100 * gv['lateralOnlyShare']:.1f}% show it "
                     f"on the lateral only and {100 * gv['frontalOnlyShare']:.1f}% on the PA only, so averaging views dilutes a fracture "
                     "seen once; the study is flagged when any view reaches the per-view threshold, so a fracture visible in one view "
                     "keeps that view's recall guarantee (noisy-OR would flag more normal studies for no recall gain at this threshold)"),
             "viewEvidence": gv,
             "missingView": {"PA only": f"{100 * gv['lateralOnlyShare']:.1f}% of fractures are seen on the lateral only",
                             "LATERAL only": f"{100 * gv['frontalOnlyShare']:.1f}% of fractures are seen on the PA only"},
             "simulationTest": study_simulation(p_ens[fr_m], y[fr_m], p_ens[la_m], y[la_m], t,
                                                {"lateralOnly": gv["lateralOnlyShare"], "frontalOnly": gv["frontalOnlyShare"]}),
             "simulationOutOfFold": study_simulation(p_oof[cv_m & (view == "frontal")], y[cv_m & (view == "frontal")],
                                                     p_oof[cv_m & (view == "lateral")], y[cv_m & (view == "lateral")], t,
                                                     {"lateralOnly": gv["lateralOnlyShare"], "frontalOnly": gv["frontalOnlyShare"]})}
    log("metrics", json.dumps({k: metrics[k] for k in ("aurocPerClass", "atThresholds", "ece", "ensemble", "parentOnSameTest")}))
    log("study", json.dumps(study))
    if a.report_only:
        with open(os.path.join(a.run, "report.json"), "w") as fh:
            json.dump({"metrics": metrics, "gate": gate, "thresholds": thresholds, "calibration": calib, "study": study,
                       "promotion": promotion}, fh, indent=1)
        log(f"wrote {a.run}/report.json (no export)")
        return

    # ---------------------------------------------------------------- export
    os.makedirs(a.out, exist_ok=True)
    mahas = [models.Mahalanobis(torch.from_numpy(f[0]), torch.from_numpy(f[1])) for f in fits]
    wrapper = (models.ViewEnsembleExport(nets, mahas, bp_nets, bp_pool, bp_norm, bp_weights) if bp_nets
               else models.ViewEnsembleExport(nets, mahas)).eval()
    onnx_path = os.path.join(a.out, "model.onnx")
    sample = model_input(torch.from_numpy(imgs["wrist"][te_m][:4]).unsqueeze(1), mc.equalize)
    out_names = ["logits", "embedding", "cam", "ood_distance", NOT_TARGET]
    export.export_onnx(wrapper, [sample], ["image"], out_names, onnx_path)
    check = export.verify_with_node(wrapper, onnx_path, {"image": sample}, REPO, iters=100, threads=1)
    check["onnxBytes"] = os.path.getsize(onnx_path)
    log("onnx check", json.dumps(check))
    with torch.no_grad():
        h = wrapper(sample)[2].shape[2]
    ckpt = {"arch": "ViewEnsemble", "members": [{k: v.half() if v.is_floating_point() else v for k, v in n.state_dict().items()}
                                                for n in nets],
            "weights": "float16 (the shipped ONNX graph holds the same values in float32)", "config": asdict(mc),
            "classes": CLASSES, "size": mc.size, "preprocessing": preprocessing_id(mc), "equalize": mc.equalize, "reduce": "mean"}
    if bp_nets:
        ckpt["bodyPart"] = {"members": [{k: v.half() if v.is_floating_point() else v for k, v in n.state_dict().items()} for n in bp_nets],
                            "config": bp_cks[0]["config"], "pool": bp_pool, "norm": bp_norm, "weights": list(bp_weights)}
    torch.save(ckpt, os.path.join(a.out, "model.pt"))
    counts = data.manifest_counts(rows)
    hist = [{"fold": ck["fold"], "epochs": ck["epochs_run"], "seconds": round(ck["seconds"], 1),
             "heldoutAuroc": r4(ck["heldout_auroc"]), "last": ck["history"][-1] if ck["history"] else None} for ck in cks]
    m = {
        "name": "care-companion-wrist", "task": "wrist", "version": version,
        "createdAt": dt.datetime.utcnow().replace(microsecond=0).isoformat() + "Z", "notice": NOTICE,
        "classes": CLASSES, "readsPerView": True,
        "input": {"names": ["image"], "size": mc.size, "channels": 1, "layout": "NCHW", "dtype": "float32",
                  "shape": ["N", 1, mc.size, mc.size]},
        "preprocessing": {"id": preprocessing_id(mc), "steps": data.preprocessing_spec_v3(mc.size, equalize=mc.equalize)},
        "outputs": [{"name": "logits", "shape": ["N", 2]}, {"name": "embedding", "shape": ["N", int(emb_cv.shape[1])]},
                    {"name": "cam", "shape": ["N", 2, h, h]}, {"name": "ood_distance", "shape": ["N"]},
                    {"name": NOT_TARGET, "shape": ["N"]}],
        "postprocessing": {"probabilities": "softmax(logits / temperature), per view",
                           "cam": f"class activation maps (member mean) over the tissue crop, {h}x{h}",
                           "study": "see `study`: views fused by their maximum P(FRACTURE)"},
        "temperature": round(T, 6), "calibration": calib, "thresholds": thresholds, "gate": gate, "study": study,
        "trainingData": {"manifestSha256": manifest_sha, "manifestPath": "manifest.csv", "counts": counts,
                         "otherBodyParts": {k: len(v) for k, v in sets.items()},
                         "labels": "FracAtlas radiologists' per-film fracture labels (hand/wrist/forearm films only)"},
        "lineage": {"parentVersion": a.parent, "dataManifestSha256": manifest_sha, "promotionGate": promotion},
        "training": {"epochs": int(max(ck["epochs_run"] for ck in cks)), "seconds": round(float(sum(ck["seconds"] for ck in cks)), 1),
                     "params": int(sum(models.n_params(n) for n in nets)), "torchVersion": torch.__version__,
                     "codeVersion": code_version(), "seed": a.seed, "device": "cpu (1 thread per member, two members at a time)",
                     "hyperparameters": {**asdict(mc), "widths": list(mc.widths), "optimizer": "AdamW", "members": K,
                                         "schedule": "linear warmup + cosine", "checkpointSelection": "last epoch (none)",
                                         "sampling": f"wrist films at their natural fracture share; {mc.other_share} of draws from other body parts",
                                         "gateQuantile": a.gate_quantile, "oodMargin": a.ood_margin, "probeQuantile": a.probe_quantile},
                     "members": hist, "checkpoint": "model.pt (member state_dicts beside model.onnx)",
                     **({"bodyPart": {"networks": len(bp_cks), "mode": a.bodypart_mode, "pool": bp_pool,
                                      "epochs": int(max(c["epochs_run"] for c in bp_cks)),
                                      "seconds": round(float(sum(c["seconds"] for c in bp_cks)), 1),
                                      "hyperparameters": {**bp_cks[0]["config"], "widths": list(bp_cks[0]["config"]["widths"])},
                                      "data": "target: FracAtlas hand films outside the network's fold + bone/ 'train' wrist/finger/forearm "
                                              "films; other (half the draws): FracAtlas leg/hip/shoulder 'fit' 60%, chest 'fit' 25%, bone/ "
                                              "'train' shoulder/humerus 15%"}} if bp_nets else {}),
                     **({"pretraining": pretraining} if pretraining else {})},
        "onnx": {"opset": export.OPSET, "dynamicBatch": True, "constantsFolded": True, "check": check},
        "metrics": metrics,
    }
    import model_card
    model_card.write_model_files(a.out, m, model_card.card_wrist_v2, model_card.markdown_wrist_v2)
    with open(os.path.join(a.out, "gate-check.csv"), "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["path", "set"])
        for k in ("other_held", "chest_check", "ood", "bone", "graz"):
            for p_ in sets[k]:
                w.writerow([p_, k])
    if os.path.abspath(a.manifest) != os.path.abspath(os.path.join(a.out, "manifest.csv")):
        shutil.copyfile(a.manifest, os.path.join(a.out, "manifest.csv"))
    log(f"wrote {a.out}/model.json, model.onnx, model.pt, MODEL_CARD.md")


def code_version() -> str:
    import subprocess
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "src/training/python/wrist_v2.py"], cwd=REPO, capture_output=True, text=True)
        return rev.stdout.strip() + ("+uncommitted" if dirty.stdout.strip() else "") if rev.returncode == 0 else "uncommitted"
    except OSError:
        return "uncommitted"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("manifest")
    p.add_argument("--out", required=True)
    p = sub.add_parser("pretrain")
    p.add_argument("--out", required=True, help="checkpoint path")
    p.add_argument("--config", default=None)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--time-budget-min", type=float, default=None)
    p.add_argument("--seed", type=int, default=4321)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--cache-dir", default=os.path.join(REPO, ".cache", "imgs"))
    p.add_argument("--box-weight", type=float, default=0.0,
                   help="also learn where bone/'s boxes are (a 1x1 head on the feature map, not kept), with this weight")
    for name in ("member", "ship", "bodypart", "bodypart-report"):
        p = sub.add_parser(name)
        p.add_argument("--manifest", required=True)
        p.add_argument("--run", required=True, help="folder of the members (member_<fold>.pt)")
        p.add_argument("--k", type=int, default=5)
        p.add_argument("--fold-seed", type=int, default=7)
        p.add_argument("--seed", type=int, default=1234)
        p.add_argument("--threads", type=int, default=1)
        p.add_argument("--cache-dir", default=os.path.join(REPO, ".cache", "imgs"))
    p = sub.choices["member"]
    p.add_argument("--fold", type=int, required=True)
    p.add_argument("--config", default=None, help="MemberConfig as JSON")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--size", type=int, default=None)
    p.add_argument("--no-equalize", dest="equalize", action="store_false", default=None)
    p.add_argument("--init", default=None)
    p.add_argument("--init-full", dest="init_full", action="store_true", default=None,
                   help="--init is a member of this fold: start from its whole network (its backbone alone otherwise)")
    p.add_argument("--time-budget-min", type=float, default=None)
    p.add_argument("--monitor-every", type=int, default=1, help="log held-out AUROC every epoch (0: never); not used for selection")
    p = sub.choices["ship"]
    p.add_argument("--out", required=True)
    p.add_argument("--version", default=None)
    p.add_argument("--parent", default="v1")
    p.add_argument("--gate-quantile", type=float, default=0.995)
    p.add_argument("--ood-margin", type=float, default=1.5)
    p.add_argument("--probe-quantile", type=float, default=0.99)
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--report-only", action="store_true", help="metrics to <run>/report.json; no export")
    p = sub.choices["bodypart"]
    p.add_argument("--fold", type=int, required=True)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--pool", type=int, default=2, help="average-pool the 256 px input by this factor")
    p.add_argument("--cross-fit-other", action="store_true",
                   help="train on the leg/hip/shoulder films outside this fold (all 300 in k folds) instead of the 'fit' two thirds")
    p.add_argument("--time-budget-min", type=float, default=None)
    sub.choices["bodypart-report"].add_argument("--probe-quantile", type=float, default=0.99)
    sub.choices["ship"].add_argument("--bodypart-run", default=None,
                                     help="folder of dedicated body-part networks (bodypart_<fold>.pt) for WRONG_BODY_PART")
    sub.choices["ship"].add_argument("--gate-bone-train", action="store_true",
                                     help="fit the distance gate with bone/ 'train' wrist/finger/forearm films as a third class")
    sub.choices["ship"].add_argument("--bodypart-mode", choices=("dedicated", "sum"), default="dedicated",
                                     help="WRONG_BODY_PART from the dedicated networks alone, or summed with the members' heads")
    p = sub.add_parser("unpack", help="member_<fold>.pt files from a shipped model folder (model.pt + model.json)")
    p.add_argument("--model-dir", required=True)
    p.add_argument("--run", required=True)
    p.add_argument("--fold-seed", type=int, default=7, help="the fold seed the members were trained with")
    a = ap.parse_args(argv)
    if a.cmd == "manifest":
        print(json.dumps(build_manifest(a.out), indent=1))
    elif a.cmd == "member":
        train_member(a)
    elif a.cmd == "pretrain":
        pretrain(a)
    elif a.cmd == "unpack":
        unpack(a)
    elif a.cmd == "bodypart":
        train_bodypart(a)
    elif a.cmd == "bodypart-report":
        bodypart_report(a)
    else:
        ship(a)


if __name__ == "__main__":
    main()
