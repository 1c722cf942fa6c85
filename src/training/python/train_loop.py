"""The training loop: a pure function of (model, loaders, config). No file access, no argument parsing,
so the same function can be wrapped by Ray Train's TorchTrainer later (pass ray.train.report as `report`).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class LoopConfig:
    epochs: int = 30
    lr: float = 2e-3
    weight_decay: float = 5e-4
    warmup_frac: float = 0.04
    label_smoothing: float = 0.0
    aux_weight: float = 0.3              # wrist only: per-view auxiliary head (CAM weights)
    time_budget_s: Optional[float] = None  # schedule follows max(step fraction, time fraction)
    seed: int = 1234
    log_every: int = 50


@dataclass
class LoopResult:
    epochs_run: int
    seconds: float
    history: List[Dict] = field(default_factory=list)
    best_state: Optional[dict] = None


def _lr_factor(progress: float, warmup: float) -> float:
    if progress < warmup:
        return max(progress / warmup, 0.02)
    p = (progress - warmup) / max(1e-9, 1 - warmup)
    return 0.5 * (1 + math.cos(math.pi * min(p, 1.0)))


def train(model: nn.Module, train_loader, step_fn: Callable, cfg: LoopConfig,
          evaluate: Optional[Callable[[nn.Module], Dict]] = None,
          report: Callable[[Dict], None] = print, extra_params=None,
          on_progress: Optional[Callable[[float], None]] = None) -> LoopResult:
    """Run the epoch loop.

    step_fn(model, batch) -> loss tensor (the task decides inputs/augmentation/loss).
    evaluate(model) -> dict of validation metrics incl. "score" (higher is better); the best-scoring
    epoch's weights are returned in `best_state` (checkpoint selection on val, never on test).
    extra_params: trained too but not part of the model (e.g. a training-only adversary);
    on_progress(p): told the schedule's progress in [0, 1] before each step.
    """
    torch.manual_seed(cfg.seed)
    params = list(model.parameters()) + list(extra_params or [])
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = len(train_loader)
    total = cfg.epochs * steps_per_epoch
    t0 = time.time()
    step, best, res = 0, -float("inf"), LoopResult(0, 0.0)
    for epoch in range(cfg.epochs):
        model.train()
        run_loss, n = 0.0, 0
        for batch in train_loader:
            prog = step / total
            if cfg.time_budget_s:
                prog = max(prog, (time.time() - t0) / cfg.time_budget_s)
            for g in opt.param_groups:
                g["lr"] = cfg.lr * _lr_factor(prog, cfg.warmup_frac)
            if on_progress is not None:
                on_progress(min(1.0, prog))
            loss = step_fn(model, batch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            run_loss += float(loss)
            n += 1
            step += 1
            if step % cfg.log_every == 0:
                report({"epoch": epoch, "step": step, "loss": run_loss / n, "lr": opt.param_groups[0]["lr"],
                        "elapsed_s": round(time.time() - t0, 1)})
        rec = {"epoch": epoch + 1, "train_loss": run_loss / max(n, 1), "elapsed_s": round(time.time() - t0, 1)}
        if evaluate is not None:
            model.eval()
            with torch.no_grad():
                rec.update(evaluate(model))
            if rec.get("score", -float("inf")) > best:
                best = rec["score"]
                res.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                rec["best"] = True
        res.history.append(rec)
        res.epochs_run = epoch + 1
        report(rec)
        elapsed = time.time() - t0
        if cfg.time_budget_s and elapsed * (epoch + 2) / (epoch + 1) > cfg.time_budget_s:
            report({"stop": "time budget", "elapsed_s": round(elapsed, 1)})
            break
    res.seconds = time.time() - t0
    if res.best_state is None:
        res.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return res


def chest_step(augment: Callable, label_smoothing: float = 0.0) -> Callable:
    def step(model, batch):
        x, y, _ = batch
        logits, _, _ = model(augment(x))
        return F.cross_entropy(logits, y, label_smoothing=label_smoothing)
    return step


def wrist_step(augment: Callable, aux_weight: float = 0.3, label_smoothing: float = 0.0) -> Callable:
    """Pseudo-study: PA and 'lateral' are two independent augmentations of the same film."""
    def step(model, batch):
        x, y, _ = batch
        logits, _, _, (ap, al) = model(augment(x), augment(x))
        loss = F.cross_entropy(logits, y, label_smoothing=label_smoothing)
        return loss + aux_weight * 0.5 * (F.cross_entropy(ap, y) + F.cross_entropy(al, y))
    return step


def within_source_ranking(logits: torch.Tensor, y: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """Mean softplus(-(a_i - a_j)) over pairs from ONE source with i abnormal and j normal, where
    a = logsumexp(abnormal logits) - normal logit: the order that matters inside a hospital, which no
    hospital-level shortcut can produce."""
    a = torch.logsumexp(logits[:, 1:], dim=1) - logits[:, 0]
    same = s[:, None] == s[None, :]
    pair = same & (y[:, None] != 0) & (y[None, :] == 0)
    if not bool(pair.any()):
        return logits.sum() * 0.0
    diff = a[:, None] - a[None, :]
    return F.softplus(-diff[pair]).mean()


def chest_step_v2(augment: Callable, adversary=None, adv_weight: float = 0.3, label_smoothing: float = 0.05,
                  mixup_alpha: float = 0.0, progress: Optional[Callable[[], float]] = None,
                  rank_weight: float = 0.0) -> Callable:
    """Chest v2 step: cross-entropy with label smoothing, optional within-class source adversary (gradient
    reversal, weight ramped up with training progress as in DANN), optional mixup of films and labels,
    optional within-source ranking loss."""
    import numpy as np

    def step(model, batch):
        x, y, s = batch
        xa = augment(x)
        if mixup_alpha > 0:
            lam_m = float(np.random.beta(mixup_alpha, mixup_alpha))
            perm = torch.randperm(len(y))
            xa = lam_m * xa + (1 - lam_m) * xa[perm]
            logits, emb, _ = model(xa)
            loss = lam_m * F.cross_entropy(logits, y, label_smoothing=label_smoothing) + \
                (1 - lam_m) * F.cross_entropy(logits, y[perm], label_smoothing=label_smoothing)
        else:
            logits, emb, _ = model(xa)
            loss = F.cross_entropy(logits, y, label_smoothing=label_smoothing)
            if rank_weight > 0:
                loss = loss + rank_weight * within_source_ranking(logits, y, s)
        if adversary is not None:
            p = progress() if progress else 1.0
            lam = 2.0 / (1.0 + math.exp(-10 * p)) - 1.0
            loss = loss + adv_weight * adversary.loss(emb, y, s, lam)
        return loss
    return step
