"""Calibration and evaluation: temperature scaling, ECE, conformal (order-statistic) recall thresholds,
Mahalanobis OOD constants with shrinkage covariance, AUROC and bootstrap confidence intervals.
numpy only (no sklearn/scipy on the training box).
"""
from __future__ import annotations

import math
from typing import Dict, Optional, Sequence

import numpy as np
import torch


def softmax(logits: np.ndarray, T: float = 1.0) -> np.ndarray:
    z = logits / T
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(logits: np.ndarray, labels: np.ndarray, weights: Optional[np.ndarray] = None) -> float:
    """Minimise (weighted) NLL of softmax(logits / T) over T > 0 (1-D search on log T)."""
    w = np.ones(len(labels)) if weights is None else np.asarray(weights, float)
    w = w / w.sum()

    def nll(logT):
        p = softmax(logits, math.exp(logT))
        return float(-(w * np.log(np.clip(p[np.arange(len(labels)), labels], 1e-12, None))).sum())

    grid = np.linspace(math.log(0.05), math.log(20), 400)
    best = grid[int(np.argmin([nll(g) for g in grid]))]
    lo, hi = best - 0.02, best + 0.02     # golden-section refinement
    gr = (math.sqrt(5) - 1) / 2
    for _ in range(60):
        a, b = hi - gr * (hi - lo), lo + gr * (hi - lo)
        if nll(a) < nll(b):
            hi = b
        else:
            lo = a
    return float(math.exp((lo + hi) / 2))


def ece(probs: np.ndarray, labels: np.ndarray, n_bins: int = 15) -> float:
    """Top-label expected calibration error with equal-width bins."""
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == labels).astype(float)
    bins = np.linspace(0, 1, n_bins + 1)
    idx = np.clip(np.digitize(conf, bins[1:-1], right=True), 0, n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        m = idx == b
        if m.any():
            total += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(total)


def conformal_recall_threshold(pos_scores: np.ndarray, target_recall: float) -> dict:
    """Order-statistic bound: t = the floor(alpha (n+1))-th smallest positive score (alpha = 1 - target).

    For exchangeable calibration/test positives, P(score_test >= t) >= 1 - alpha, i.e. E[recall] >= target.
    If n + 1 < 1/alpha the guarantee is impossible; fall back to the minimum positive score.
    """
    s = np.sort(np.asarray(pos_scores, float))
    n = len(s)
    alpha = 1 - target_recall
    k = int(math.floor(alpha * (n + 1) + 1e-9))
    if n == 0:
        raise ValueError("no calibration positives")
    if k < 1:
        return {"value": float(s[0]), "k": 1, "n": n,
                "guarantee": "none (n too small)",
                "note": f"n+1={n + 1} < 1/alpha={1 / alpha:.0f}; fell back to the minimum positive score"}
    return {"value": float(s[k - 1]), "k": k, "n": n,
            "guarantee": f"E[recall] >= {target_recall} for exchangeable data (order statistic k={k} of n={n})"}


def auroc(scores: np.ndarray, y: np.ndarray) -> float:
    """Mann-Whitney AUROC with tie handling; nan if one class is absent."""
    y = np.asarray(y).astype(bool)
    npos, nneg = int(y.sum()), int((~y).sum())
    if npos == 0 or nneg == 0:
        return float("nan")
    s = np.asarray(scores, float)
    _, inv, cnt = np.unique(s, return_inverse=True, return_counts=True)
    avg = np.cumsum(cnt) - (cnt - 1) / 2.0          # average 1-based rank of each distinct value
    r = avg[inv]
    return float((r[y].sum() - npos * (npos + 1) / 2) / (npos * nneg))


def binary_stats(pred: np.ndarray, y: np.ndarray) -> Dict[str, float]:
    y = np.asarray(y).astype(bool)
    pred = np.asarray(pred).astype(bool)
    tp, fn = int((pred & y).sum()), int((~pred & y).sum())
    tn, fp = int((~pred & ~y).sum()), int((pred & ~y).sum())
    nan = float("nan")
    return {"recall": tp / (tp + fn) if tp + fn else nan, "specificity": tn / (tn + fp) if tn + fp else nan,
            "ppv": tp / (tp + fp) if tp + fp else nan, "npv": tn / (tn + fn) if tn + fn else nan,
            "tp": tp, "fn": fn, "tn": tn, "fp": fp}


def bootstrap_ci(fn, n: int, n_boot: int = 1000, seed: int = 0, strata: Optional[np.ndarray] = None) -> dict:
    """Point estimate + percentile 95% CI of fn(indices) over `n_boot` resamples (stratified if given)."""
    rng = np.random.default_rng(seed)
    point = fn(np.arange(n))
    vals = []
    groups = [np.flatnonzero(strata == s) for s in np.unique(strata)] if strata is not None else [np.arange(n)]
    for _ in range(n_boot):
        idx = np.concatenate([g[rng.integers(0, len(g), len(g))] for g in groups])
        v = fn(idx)
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            vals.append(v)
    if not vals or (isinstance(point, float) and math.isnan(point)):
        return {"value": None if isinstance(point, float) and math.isnan(point) else point, "ci95": None, "n": n}
    lo, hi = np.percentile(vals, [2.5, 97.5])
    return {"value": round(float(point), 4), "ci95": [round(float(lo), 4), round(float(hi), 4)], "n": n}


def fit_mahalanobis(emb: np.ndarray, labels: Optional[np.ndarray] = None):
    """Class means and a shared Ledoit-Wolf shrinkage covariance -> (means [C,D], precision [D,D], shrinkage)."""
    emb = np.asarray(emb, np.float64)
    if labels is None:
        labels = np.zeros(len(emb), int)
    classes = np.unique(labels)
    means = np.stack([emb[labels == c].mean(0) for c in classes])
    X = emb - means[np.searchsorted(classes, labels)]
    n, d = X.shape
    S = X.T @ X / n
    mu = np.trace(S) / d
    delta = ((S - mu * np.eye(d)) ** 2).sum() / d
    sq = (X ** 2).sum(1)
    per = sq ** 2 - 2 * np.einsum("nd,de,ne->n", X, S, X) + (S ** 2).sum()   # ||x x^T - S||_F^2
    beta = per.sum() / n ** 2 / d
    beta = min(beta, delta)
    shrink = float(beta / delta) if delta > 0 else 1.0
    cov = (1 - shrink) * S + shrink * mu * np.eye(d)
    return means.astype(np.float32), np.linalg.inv(cov).astype(np.float32), shrink


def mahalanobis_np(emb: np.ndarray, means: np.ndarray, precision: np.ndarray) -> np.ndarray:
    d = emb[:, None, :] - means[None]
    q = np.einsum("ncd,de,nce->nc", d, precision, d)
    return np.sqrt(np.clip(q.min(axis=1), 0, None))


@torch.no_grad()
def collect(model, loader, forward) -> Dict[str, np.ndarray]:
    """Run `forward(model, x)` -> (logits, emb) over an eval loader (no augmentation)."""
    model.eval()
    L, E, Y, S = [], [], [], []
    for x, y, s in loader:
        lo, em = forward(model, x)
        L.append(lo.numpy()); E.append(em.numpy()); Y.append(y.numpy()); S.append(s.numpy())
    return {"logits": np.concatenate(L), "emb": np.concatenate(E), "y": np.concatenate(Y), "src": np.concatenate(S)}
