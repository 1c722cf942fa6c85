"""Architectures: a compact residual CNN (BatchNorm, global average pooling), the chest classifier,
the two-view wrist model, and the export wrappers that add CAMs and the Mahalanobis OOD distance.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn(cin: int, cout: int, stride: int = 1, k: int = 3) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)), inplace=True)
        y = self.b2(self.c2(y))
        return F.relu(y + (x if self.short is None else self.short(x)), inplace=True)


class CompactResNet(nn.Module):
    """Stem (two stride-2 convs) + one residual block per stage; output stride 32.

    forward() returns the last conv feature map [N, C, S/32, S/32]; embedding = its global average.
    """

    def __init__(self, widths: Sequence[int] = (32, 64, 128, 192), stem: int = 24):
        super().__init__()
        self.stem = nn.Sequential(conv_bn(1, stem, 2), conv_bn(stem, widths[0], 2))
        blocks, cin = [], widths[0]
        for i, w in enumerate(widths):
            blocks.append(BasicBlock(cin, w, 1 if i == 0 else 2))
            cin = w
        self.blocks = nn.Sequential(*blocks)
        self.out_channels = cin
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        for b in self.blocks:
            nn.init.zeros_(b.b2.weight)  # residual blocks start as identity

    def forward(self, x):
        return self.blocks(self.stem(x))


class ChestNet(nn.Module):
    """Single-film classifier. forward -> (logits [N,K], embedding [N,D], features [N,D,h,w])."""

    def __init__(self, n_classes: int = 3, widths=(32, 64, 128, 192), dropout: float = 0.2):
        super().__init__()
        self.backbone = CompactResNet(widths)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(self.backbone.out_channels, n_classes)

    def forward(self, x):
        f = self.backbone(x)
        emb = f.mean(dim=(2, 3))
        return self.fc(self.drop(emb)), emb, f


class WristNet(nn.Module):
    """Two-view study model: shared backbone on PA and lateral, embeddings concatenated -> MLP.

    A per-view auxiliary linear head (trained with the study label) supplies the CAM weights.
    forward(pa, lat) -> (logits [N,K], embedding [N,2D], (feat_pa, feat_lat), (aux_pa, aux_lat)).
    """

    def __init__(self, n_classes: int = 2, widths=(24, 48, 96, 128), hidden: int = 64, dropout: float = 0.2,
                 stem: int = 16):
        super().__init__()
        self.backbone = CompactResNet(widths, stem=stem)
        d = self.backbone.out_channels
        self.fuse = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * d, hidden), nn.ReLU(inplace=True),
                                  nn.Dropout(dropout), nn.Linear(hidden, n_classes))
        self.aux = nn.Linear(d, n_classes)

    def forward(self, pa, lat):
        fp, fl = self.backbone(pa), self.backbone(lat)
        ep, el = fp.mean(dim=(2, 3)), fl.mean(dim=(2, 3))
        emb = torch.cat([ep, el], dim=1)
        return self.fuse(emb), emb, (fp, fl), (self.aux(ep), self.aux(el))


def cam(features: torch.Tensor, fc: nn.Linear) -> torch.Tensor:
    """Class activation maps = classifier weights . last conv features (no bias, before upsampling)."""
    return torch.einsum("kc,nchw->nkhw", fc.weight, features)


class Mahalanobis(nn.Module):
    """min_c sqrt((z - mu_c)^T P (z - mu_c)) with baked constants (class means `mu` [C,D], precision P [D,D])."""

    def __init__(self, means: torch.Tensor, precision: torch.Tensor):
        super().__init__()
        self.register_buffer("means", means.float())
        self.register_buffer("precision", precision.float())

    def forward(self, z):
        d = z.unsqueeze(1) - self.means.unsqueeze(0)              # [N,C,D]
        q = (torch.matmul(d, self.precision) * d).sum(-1)         # [N,C]
        return torch.sqrt(q.min(dim=1).values.clamp_min(0))


class ChestExport(nn.Module):
    """ONNX graph: image [N,1,S,S] -> logits, embedding, cam [N,3,h,w], ood_distance [N]."""

    def __init__(self, net: ChestNet, maha: Mahalanobis, body_part: "nn.Linear | None" = None):
        super().__init__()
        self.net, self.maha, self.body_part = net, maha, body_part

    def forward(self, image):
        logits, emb, f = self.net(image)
        if self.body_part is None:
            return logits, emb, cam(f, self.net.fc), self.maha(emb)
        return logits, emb, cam(f, self.net.fc), self.maha(emb), self.body_part(emb)[:, 0]


class WristExport(nn.Module):
    """ONNX graph: pa, lateral [N,1,S,S] -> logits, embedding, cam_pa, cam_lateral, ood_distance (max of views)."""

    def __init__(self, net: WristNet, maha: Mahalanobis):
        super().__init__()
        self.net, self.maha = net, maha

    def forward(self, pa, lateral):
        logits, emb, (fp, fl), _ = self.net(pa, lateral)
        d = self.net.backbone.out_channels
        ood = torch.maximum(self.maha(emb[:, :d]), self.maha(emb[:, d:]))
        return logits, emb, cam(fp, self.net.aux), cam(fl, self.net.aux), ood


def fit_linear_probe(x_pos, x_neg, l2: float = 1e-3, iters: int = 300) -> nn.Linear:
    """Class-balanced L2 logistic regression on frozen embeddings -> nn.Linear(D, 1) (standardisation folded in).
    Logit > 0 means 'negative-like' (here: not a chest film)."""
    x = torch.cat([torch.as_tensor(x_pos), torch.as_tensor(x_neg)]).float()
    y = torch.cat([torch.zeros(len(x_pos)), torch.ones(len(x_neg))])
    w_s = torch.where(y == 1, 0.5 / len(x_neg), 0.5 / len(x_pos))
    mu, sd = x.mean(0), x.std(0).clamp_min(1e-6)
    xs = (x - mu) / sd
    lin = nn.Linear(x.shape[1], 1)
    nn.init.zeros_(lin.weight)
    nn.init.zeros_(lin.bias)
    opt = torch.optim.LBFGS(lin.parameters(), max_iter=iters, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = (w_s * F.binary_cross_entropy_with_logits(lin(xs)[:, 0], y, reduction="none")).sum() \
            + l2 * (lin.weight ** 2).sum()
        loss.backward()
        return loss
    opt.step(closure)
    out = nn.Linear(x.shape[1], 1)
    with torch.no_grad():
        out.weight.copy_(lin.weight / sd)
        out.bias.copy_(lin.bias - (lin.weight / sd * mu).sum())
    return out


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


class _GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lam):
        ctx.lam = lam
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        return -ctx.lam * g, None


def grad_reverse(x: torch.Tensor, lam: float) -> torch.Tensor:
    return _GradReverse.apply(x, lam)


class SourceAdversary(nn.Module):
    """Class-conditional source discriminator behind a gradient-reversal layer (training only).

    For a film of class c it predicts the film's source among the sources that have class c; the backbone
    receives the reversed gradient, so it is pushed to make sources indistinguishable *within a class*
    (a hospital's look must not carry the label). Classes with a single source contribute nothing.
    """

    def __init__(self, dim: int, n_classes: int, n_sources: int, present: torch.Tensor, hidden: int = 128):
        super().__init__()
        self.n_classes, self.n_sources = n_classes, n_sources
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, n_classes * n_sources))
        self.register_buffer("present", present.bool())  # [C, S]: source s has films of class c

    def loss(self, emb: torch.Tensor, y: torch.Tensor, src: torch.Tensor, lam: float) -> torch.Tensor:
        multi = self.present.sum(1) >= 2
        keep = multi[y]
        if not bool(keep.any()):
            return emb.sum() * 0.0
        z = self.net(grad_reverse(emb[keep], lam)).view(-1, self.n_classes, self.n_sources)
        yk = y[keep]
        logits = z[torch.arange(len(yk)), yk]
        logits = logits.masked_fill(~self.present[yk], -1e4)
        return F.cross_entropy(logits, src[keep])


class ViewNet(nn.Module):
    """Single-view film classifier (wrist v2): fracture logits plus a body-part head on the same embedding.

    forward -> (logits [N,K], embedding [N,D], features [N,D,h,w], not_target_logit [N]); the body-part head is
    trained with films of other body parts (positive = another body part), so WRONG_BODY_PART comes from the
    network itself rather than from a probe fitted afterwards.
    """

    def __init__(self, n_classes: int = 2, widths=(16, 32, 64, 128), stem: int = 16, dropout: float = 0.2,
                 lse_r: float = 0.0):
        super().__init__()
        self.backbone = CompactResNet(widths, stem=stem)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(self.backbone.out_channels, n_classes)
        self.body_part = nn.Linear(self.backbone.out_channels, 1)
        # 0: logits from the mean of the features (global average). r > 0: log-sum-exp pooling of the class map,
        # (1/r) log mean exp(r * cam + b): a small finding in one place can carry the film (multiple-instance reading)
        self.lse_r = float(lse_r)

    def forward(self, x):
        f = self.backbone(x)
        emb = f.mean(dim=(2, 3))
        if self.lse_r > 0:
            m = cam(self.drop(f), self.fc).flatten(2)  # [N, K, h*w]
            n = m.shape[2]
            logits = (torch.logsumexp(self.lse_r * m, dim=2) - math.log(n)) / self.lse_r + self.fc.bias
        else:
            logits = self.fc(self.drop(emb))
        return logits, emb, f, self.body_part(emb)[:, 0]


class ViewEnsembleExport(nn.Module):
    """ONNX graph of a ViewNet ensemble: image [N,1,S,S] -> logits (member mean), embedding (members
    concatenated), cam (member mean), ood_distance (mean of each member's Mahalanobis distance on its own
    embedding: K small precision matrices instead of one over the concatenation), not_target_logit (member mean)."""

    def __init__(self, nets: Sequence[ViewNet], mahas: Sequence[Mahalanobis], body_parts: Sequence[ViewNet] = (),
                 body_part_pool: int = 1, body_part_norm: Sequence[float] = (0.0, 1.0, 0.0, 1.0),
                 body_part_weights: Sequence[float] = (1.0, 1.0)):
        super().__init__()
        self.nets = nn.ModuleList(nets)
        self.mahas = nn.ModuleList(mahas)
        self.body_parts = nn.ModuleList(body_parts)
        self.body_part_pool = body_part_pool
        # (mean, std) of the members' heads, then of the dedicated networks, on out-of-fold target films
        self.body_part_norm = tuple(float(v) for v in body_part_norm)
        self.body_part_weights = tuple(float(v) for v in body_part_weights)  # (members' heads, dedicated networks)

    def forward(self, image):
        outs = [n(image) for n in self.nets]
        logits = torch.stack([o[0] for o in outs]).mean(0)
        emb = torch.cat([o[1] for o in outs], dim=1)
        cams = torch.stack([cam(o[2], n.fc) for o, n in zip(outs, self.nets)]).mean(0)
        dist = torch.stack([m(o[1]) for m, o in zip(self.mahas, outs)]).mean(0)
        return logits, emb, cams, dist, self.not_target(image, outs)

    def not_target(self, image, outs=None):
        """Body-part score: the members' own body-part heads averaged; with dedicated body-part networks (wrist v2
        from its second export), a weighted sum of two standardised scores, the members' heads and the dedicated
        networks' mean on the pooled input, each scaled by its out-of-fold mean and spread on target films (weights
        (0, 1): the dedicated networks alone)."""
        outs = outs if outs is not None else [n(image) for n in self.nets]
        joint = torch.stack([o[3] for o in outs]).mean(0)
        if not len(self.body_parts):
            return joint
        x = F.avg_pool2d(image, self.body_part_pool) if self.body_part_pool > 1 else image
        dedicated = torch.stack([n(x)[3] for n in self.body_parts]).mean(0)
        mj, sj, md, sd = self.body_part_norm
        wj, wd = self.body_part_weights
        return wj * (joint - mj) / sj + wd * (dedicated - md) / sd


def view_ensemble_from_checkpoint(ck: dict) -> ViewEnsembleExport:
    """The shipped per-view ensemble (wrist v2 `model.pt`): members, and the dedicated body-part networks when the
    checkpoint has them. No Mahalanobis heads: `forward` is not for this object; use its nets and `not_target`."""
    def nets_of(state_dicts, cfg):
        out = []
        for sd in state_dicts:
            n = ViewNet(len(ck["classes"]), widths=tuple(cfg["widths"]), stem=cfg["stem"], dropout=cfg["dropout"],
                        lse_r=cfg.get("lse_r", 0.0))
            n.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in sd.items()})
            out.append(n.eval())
        return out
    bp = ck.get("bodyPart") or {}
    return ViewEnsembleExport(nets_of(ck["members"], ck["config"]), [],
                              nets_of(bp.get("members", []), bp.get("config", ck["config"])), bp.get("pool", 1),
                              bp.get("norm", (0.0, 1.0, 0.0, 1.0)), bp.get("weights", (1.0, 1.0))).eval()

