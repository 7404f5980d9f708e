#!/usr/bin/env python3
"""Independent numpy (float32) references for `npm run bench` (bench/train-bench.ts, section 0b): a training
step of the bench's 2-layer d=256 model, and a forward pass of the example workspace's world-base model.

    python3 bench/step_forward_numpy.py step [--batch 128] [--steps 15] [--warmup 3] [--seed 0]
    python3 bench/step_forward_numpy.py forward CHECKPOINT.safetensors --check FILE [--batches 1,128] [--repeats 200]
    python3 bench/step_forward_numpy.py selftest

step: the bench's big-2L-d256 model (2 layers, d_model 256, 4 heads x 64, softmax attention, OV rank 64,
MLP 1024 with GPT-2's tanh GELU, LayerNorm, learned token and position embeddings, learned unembedding
with a bias), initialised as the workbench does (std 0.1 for embeddings, 1/sqrt(fan_in) otherwise) but
from numpy's generator, trained on the ocr-recall task (sequences of 16, vocabulary 128; batches sampled
by bench/factorization_numpy.py's sampler) with the loss read at the last token only, as the workbench's
lastTokenLoss: the last block computes its one query position, its keys and values at every position.
Forward and backward written by hand, then AdamW (lr 5e-3, weight decay 0.03, betas 0.9/0.999, as the
ocr presets). Prints one JSON line: the median ms of a step (sample + forward + backward + AdamW) over
the timed steps (warm-up excluded), the first and last losses.

forward: reads the checkpoint's safetensors (stdlib + numpy), runs the full forward (logits at every
position; the toy layout of src/core/model/forward.ts), compares its logits with the workbench's on the
token batch in the --check file (JSON {"tokens": [[...]], "logits": [[[...]]]}), then times the forward
on batches of the check file's first row repeated 1, 128, ... times. Prints one JSON line: the largest
absolute logit difference, the largest |logit| (the trained model's logits reach ~180, where float32's
spacing is 1.5e-5) and the median ms per batch size.

selftest: finite-difference check of the step's hand-written gradients (float64, tiny shapes).

Run with OPENBLAS_NUM_THREADS=1 (the bench does): one BLAS thread is numpy's fastest setting for these
shapes on a 2-core machine.
"""
import argparse
import json
import math
import os
import struct
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from factorization_numpy import REL_FACT, REL_IMPL, TEST_NAMES, TRAIN_NAMES, sequences  # noqa: E402

F = np.float32
GELU_C = math.sqrt(2 / math.pi)
LN_EPS = 1e-5


# ------------------------------------------------------------------------------------------------ layers


def ln_fwd(x, w, b):
    mu = x.mean(-1, keepdims=True)
    xc = x - mu
    rstd = 1 / np.sqrt((xc * xc).mean(-1, keepdims=True) + LN_EPS)
    xhat = xc * rstd
    return xhat * w + b, (xhat, rstd)


def ln_bwd(dy, cache, w):
    xhat, rstd = cache
    d = dy.shape[-1]
    dw = (dy * xhat).reshape(-1, d).sum(0)
    db = dy.reshape(-1, d).sum(0)
    g = dy * w
    dx = rstd * (g - g.mean(-1, keepdims=True) - xhat * (g * xhat).mean(-1, keepdims=True))
    return dx, dw, db


def gelu_fwd(x):
    t = np.tanh(GELU_C * (x + 0.044715 * x * x * x))
    return 0.5 * x * (1 + t), t


def gelu_bwd(dy, x, t):
    """dy · GELU'(x), t = tanh(c(x + 0.044715x³)): in place, no temporaries beyond two."""
    g = t * t
    np.subtract(1, g, out=g)
    g *= x
    u = x * x
    u *= 3 * 0.044715 * 0.5 * GELU_C
    u += 0.5 * GELU_C
    g *= u
    g += 0.5
    u = np.multiply(t, 0.5, out=u)
    g += u
    g *= dy
    return g


def softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


# ----------------------------------------------------------------------------------- 2-layer d=256 step


class StepModel:
    """Parameters per layer: ln1 w/b, W_Q [d, H*dh], W_KV [d, H*dh + H*dv] (W_K and W_V side by side),
    W_O [H*dv, d], ln2 w/b, W_in [d, M], b_in, W_out [M, d], b_out; then ln_final w/b, W_U [d, V], b_U."""

    def __init__(self, seed, V=128, T=16, d=256, H=4, dh=64, dv=64, M=1024, L=2, dtype=F):
        self.V, self.T, self.d, self.H, self.dh, self.dv, self.M, self.L, self.dtype = V, T, d, H, dh, dv, M, L, dtype
        rng = np.random.default_rng(seed)
        nrm = lambda shape, std: (rng.standard_normal(shape) * std).astype(dtype)  # noqa: E731
        p = {"W_E": nrm((V, d), 0.1), "W_pos": nrm((T, d), 0.1)}
        for l in range(L):
            p[f"{l}.ln1.w"], p[f"{l}.ln1.b"] = np.ones(d, dtype), np.zeros(d, dtype)
            p[f"{l}.W_Q"] = nrm((d, H * dh), 1 / math.sqrt(d))
            p[f"{l}.W_KV"] = nrm((d, H * (dh + dv)), 1 / math.sqrt(d))
            p[f"{l}.W_O"] = nrm((H * dv, d), 1 / math.sqrt(H * dv))
            p[f"{l}.ln2.w"], p[f"{l}.ln2.b"] = np.ones(d, dtype), np.zeros(d, dtype)
            p[f"{l}.W_in"], p[f"{l}.b_in"] = nrm((d, M), 1 / math.sqrt(d)), np.zeros(M, dtype)
            p[f"{l}.W_out"], p[f"{l}.b_out"] = nrm((M, d), 1 / math.sqrt(M)), np.zeros(d, dtype)
        p["lnf.w"], p["lnf.b"] = np.ones(d, dtype), np.zeros(d, dtype)
        p["W_U"], p["b_U"] = nrm((d, V), 1 / math.sqrt(d)), np.zeros(V, dtype)
        self.p = p
        self.m = {k: np.zeros_like(v) for k, v in p.items()}
        self.v = {k: np.zeros_like(v) for k, v in p.items()}
        self.t = 0
        causal = np.tril(np.ones((T, T), bool))
        self.mask = np.where(causal, 0, -1e9).astype(dtype)

    def block(self, l, x, last):
        """x [B, T, d]. last: only the last query position goes on (the read-out block). Returns (out, cache)."""
        p, H, dh, dv = self.p, self.H, self.dh, self.dv
        B, T, d = x.shape
        h, ln1 = ln_fwd(x, p[f"{l}.ln1.w"], p[f"{l}.ln1.b"])
        hq = h[:, -1:] if last else h
        Tq = hq.shape[1]
        q = (hq.reshape(-1, d) @ p[f"{l}.W_Q"]).reshape(B, Tq, H, dh).transpose(0, 2, 1, 3)  # [B, H, Tq, dh]
        kv = (h.reshape(-1, d) @ p[f"{l}.W_KV"]).reshape(B, T, H, dh + dv).transpose(0, 2, 1, 3)  # [B, H, T, dh+dv]
        k, v = kv[..., :dh], kv[..., dh:]
        s = (q @ k.transpose(0, 1, 3, 2)) * self.dtype(1 / math.sqrt(dh))
        if not last:
            s = s + self.mask
        pat = softmax(s)  # [B, H, Tq, T]
        z = (pat @ v).transpose(0, 2, 1, 3).reshape(B * Tq, H * dv)
        attn = z @ p[f"{l}.W_O"]
        r = (x[:, -1:] if last else x).reshape(B * Tq, d) + attn
        m_in, ln2 = ln_fwd(r, p[f"{l}.ln2.w"], p[f"{l}.ln2.b"])
        pre = m_in @ p[f"{l}.W_in"] + p[f"{l}.b_in"]
        post, t = gelu_fwd(pre)
        out = r + post @ p[f"{l}.W_out"] + p[f"{l}.b_out"]
        return out.reshape(B, Tq, d), (h, ln1, hq, q, k, v, pat, z, m_in, ln2, pre, post, t)

    def block_bwd(self, l, x, last, cache, dout, g):
        p, H, dh, dv = self.p, self.H, self.dh, self.dv
        h, ln1, hq, q, k, v, pat, z, m_in, ln2, pre, post, t = cache
        B, T, d = x.shape
        Tq = hq.shape[1]
        dr = dout.reshape(B * Tq, d)
        g[f"{l}.b_out"] = dr.sum(0)
        g[f"{l}.W_out"] = post.T @ dr
        dpre = gelu_bwd(dr @ p[f"{l}.W_out"].T, pre, t)
        g[f"{l}.b_in"] = dpre.sum(0)
        g[f"{l}.W_in"] = m_in.T @ dpre
        dm, g[f"{l}.ln2.w"], g[f"{l}.ln2.b"] = ln_bwd(dpre @ p[f"{l}.W_in"].T, ln2, p[f"{l}.ln2.w"])
        dr = dr + dm  # d(resid_mid)
        g[f"{l}.W_O"] = z.T @ dr
        dz = (dr @ p[f"{l}.W_O"].T).reshape(B, Tq, H, dv).transpose(0, 2, 1, 3)  # [B, H, Tq, dv]
        dpat = dz @ v.transpose(0, 1, 3, 2)
        dvv = pat.transpose(0, 1, 3, 2) @ dz  # [B, H, T, dv]
        ds = pat * (dpat - (dpat * pat).sum(-1, keepdims=True)) * self.dtype(1 / math.sqrt(dh))
        dq = ds @ k  # [B, H, Tq, dh]
        dk = ds.transpose(0, 1, 3, 2) @ q  # [B, H, T, dh]
        dkv = np.concatenate([dk, dvv], -1).transpose(0, 2, 1, 3).reshape(B * T, H * (dh + dv))
        dqf = dq.transpose(0, 2, 1, 3).reshape(B * Tq, H * dh)
        g[f"{l}.W_KV"] = h.reshape(-1, d).T @ dkv
        g[f"{l}.W_Q"] = hq.reshape(-1, d).T @ dqf
        dh_ = (dkv @ p[f"{l}.W_KV"].T).reshape(B, T, d)
        dqh = (dqf @ p[f"{l}.W_Q"].T).reshape(B, Tq, d)
        if last:
            dh_[:, -1:] += dqh
        else:
            dh_ += dqh
        dx, g[f"{l}.ln1.w"], g[f"{l}.ln1.b"] = ln_bwd(dh_, ln1, p[f"{l}.ln1.w"])
        if last:
            dx[:, -1:] += dr.reshape(B, 1, d)
        else:
            dx += dr.reshape(B, T, d)
        return dx

    def loss_and_grads(self, tok, target):
        p = self.p
        B, T = tok.shape
        x = p["W_E"][tok] + p["W_pos"][:T]
        xs, caches = [], []
        for l in range(self.L):
            xs.append(x)
            x, c = self.block(l, x, last=l == self.L - 1)
            caches.append(c)
        r = x.reshape(B, self.d)
        n, lnf = ln_fwd(r, p["lnf.w"], p["lnf.b"])
        logits = n @ p["W_U"] + p["b_U"]
        shifted = logits - logits.max(1, keepdims=True)
        e = np.exp(shifted)
        tot = e.sum(1, keepdims=True)
        rows = np.arange(B)
        loss = float(np.mean(np.log(tot[:, 0]) - shifted[rows, target]))
        dlog = e / tot
        dlog[rows, target] -= 1
        dlog *= self.dtype(1 / B)
        g = {"b_U": dlog.sum(0), "W_U": n.T @ dlog}
        dr, g["lnf.w"], g["lnf.b"] = ln_bwd(dlog @ p["W_U"].T, lnf, p["lnf.w"])
        dx = dr.reshape(B, 1, self.d)
        for l in reversed(range(self.L)):
            dx = self.block_bwd(l, xs[l], l == self.L - 1, caches[l], dx, g)
        g["W_pos"] = np.zeros_like(p["W_pos"])
        g["W_pos"][:T] = dx.sum(0)
        dWE = np.zeros_like(p["W_E"])
        np.add.at(dWE, tok.reshape(-1), dx.reshape(-1, self.d))
        g["W_E"] = dWE
        return loss, g

    def step(self, tok, target, lr=5e-3, wd=0.03, b1=0.9, b2=0.999, eps=1e-8):
        loss, grads = self.loss_and_grads(tok, target)
        self.t += 1
        bc1, bc2 = 1 - b1**self.t, 1 - b2**self.t
        for name, prm in self.p.items():
            gr, m, vv = grads[name], self.m[name], self.v[name]
            m *= b1
            m += (1 - b1) * gr
            vv *= b2
            vv += (1 - b2) * gr * gr
            prm *= 1 - lr * wd
            prm -= (lr / bc1) * m / (np.sqrt(vv / bc2) + eps)
        return loss


def recall_batch(rng, batch):
    """ocr-recall: a third each of train facts, train implications and test facts (as the workbench's sampler)."""
    third, rest = divmod(batch, 3)
    counts = [third + (rest > 0), third + (rest > 1), third]
    parts = [sequences(rng, rng.choice(names, n), rel) for n, names, rel in zip(counts, [TRAIN_NAMES, TRAIN_NAMES, TEST_NAMES], [REL_FACT, REL_IMPL, REL_FACT])]
    return np.concatenate([q[0] for q in parts]), np.concatenate([q[1] for q in parts])


def cmd_step(a):
    model = StepModel(a.seed)
    rng = np.random.default_rng(a.seed + 1)
    losses, times = [], []
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        tok, target = recall_batch(rng, a.batch)
        losses.append(model.step(tok, target))
        if i >= a.warmup:
            times.append(1000 * (time.perf_counter() - t0))
    print(json.dumps({"batch": a.batch, "seqLen": model.T, "steps": len(times), "msPerStep": float(np.median(times)), "msMin": min(times), "msTimes": times, "firstLoss": losses[0], "lastLoss": losses[-1], "numpy": np.__version__}))


def cmd_selftest(_a):
    rng = np.random.default_rng(0)
    model = StepModel(0, V=11, T=5, d=8, H=2, dh=3, dv=2, M=12, L=2, dtype=np.float64)
    for k in model.p:  # non-trivial norms and biases
        if k.endswith((".w", ".b")) or k.startswith("b_") or ".b_" in k:
            model.p[k] += rng.standard_normal(model.p[k].shape) * 0.3
    tok = rng.integers(0, 11, size=(3, 5))
    target = rng.integers(0, 11, size=3)
    _, g = model.loss_and_grads(tok, target)
    worst = 0.0
    for name, prm in model.p.items():
        flat = prm.reshape(-1)
        for i in rng.choice(flat.size, min(flat.size, 12), replace=False):
            old = flat[i]
            flat[i] = old + 1e-5
            lp, _ = model.loss_and_grads(tok, target)
            flat[i] = old - 1e-5
            lm, _ = model.loss_and_grads(tok, target)
            flat[i] = old
            num = (lp - lm) / 2e-5
            err = abs(num - g[name].reshape(-1)[i]) / max(1.0, abs(num))
            worst = max(worst, err)
    print(json.dumps({"selftest": "gradients vs finite differences", "worstError": float(worst), "ok": bool(worst < 1e-5)}))
    return 0 if worst < 1e-5 else 1


# -------------------------------------------------------------------------------------- world-base forward


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    out = {}
    for name, h in header.items():
        if h["dtype"] != "F32":
            raise ValueError(f"{name}: dtype {h['dtype']}, expected F32")
        a, b = h["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype="<f4").reshape(h["shape"]).astype(F)
    return out, meta


class WorldModel:
    """The checkpoint's model (TransformerLens names), W_Q, W_K, W_V laid out once per layer as one
    [d, H·(2·d_head + d_v)] matrix, so the three projections are one matmul."""

    def __init__(self, tensors, config):
        self.c = config
        self.w = tensors
        self.L, self.d, self.H, self.dh = config["nLayers"], config["dModel"], config["nHeads"], config["dHead"]
        self.dv = config["ovRank"] if config.get("ov") == "factorized" else self.d
        self.qkv = []
        for l in range(self.L):
            flat = lambda W: W.transpose(1, 0, 2).reshape(self.d, -1)  # noqa: E731  [H, d, k] -> [d, H*k]
            self.qkv.append(np.ascontiguousarray(np.concatenate([flat(tensors[f"blocks.{l}.attn.W_{n}"]) for n in "QKV"], 1)))
        T = config["nCtx"]
        self.mask = np.where(np.tril(np.ones((T, T), bool)), 0, -1e9).astype(F)

    def forward(self, tok):
        w, H, dh, dv, d = self.w, self.H, self.dh, self.dv, self.d
        B, T = tok.shape
        x = (w["embed.W_E"][tok] + w["pos_embed.W_pos"][:T]).reshape(B * T, d)
        scale = F(1 / math.sqrt(dh))
        for l in range(self.L):
            p = f"blocks.{l}."
            h, _ = ln_fwd(x, w[p + "ln1.w"], w[p + "ln1.b"])
            qkv = (h @ self.qkv[l]).reshape(B, T, -1)
            q = qkv[..., : H * dh].reshape(B, T, H, dh).transpose(0, 2, 1, 3)
            k = qkv[..., H * dh : 2 * H * dh].reshape(B, T, H, dh).transpose(0, 2, 3, 1)
            v = qkv[..., 2 * H * dh :].reshape(B, T, H, dv).transpose(0, 2, 1, 3)
            pat = softmax((q @ k) * scale + self.mask[:T, :T])
            z = (pat @ v).transpose(0, 2, 1, 3).reshape(B * T, H * dv)
            x = x + z @ w[p + "attn.W_O"].reshape(H * dv, d)
            m, _ = ln_fwd(x, w[p + "ln2.w"], w[p + "ln2.b"])
            post, _ = gelu_fwd(m @ w[p + "mlp.W_in"] + w[p + "mlp.b_in"])
            x = x + post @ w[p + "mlp.W_out"] + w[p + "mlp.b_out"]
        n, _ = ln_fwd(x, w["ln_final.w"], w["ln_final.b"])
        return (n @ w["unembed.W_U"] + w["unembed.b_U"]).reshape(B, T, -1)


def cmd_forward(a):
    tensors, meta = read_safetensors(a.checkpoint)
    config = json.loads(meta["config"])
    model = WorldModel(tensors, config)
    with open(a.check) as f:
        check = json.load(f)
    tok = np.asarray(check["tokens"], dtype=np.int64)
    expected = np.asarray(check["logits"], dtype=F)
    got = model.forward(tok)
    diff = float(np.abs(got - expected).max())
    ms = {}
    for b in [int(s) for s in a.batches.split(",")]:
        batch = np.repeat(tok[:1], b, axis=0)
        for _ in range(max(5, a.repeats // 10)):
            model.forward(batch)
        times = []
        reps = max(5, a.repeats if b <= 8 else a.repeats // 4)
        for _ in range(reps):
            t0 = time.perf_counter()
            model.forward(batch)
            times.append(1000 * (time.perf_counter() - t0))
        ms[str(b)] = float(np.median(times))
    print(json.dumps({"checkpoint": os.path.basename(a.checkpoint), "checkedRows": int(tok.shape[0]), "seqLen": int(tok.shape[1]), "maxAbsDiff": diff, "maxAbsLogit": float(np.abs(expected).max()), "msPerForward": ms, "numpy": np.__version__}))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("step")
    s.add_argument("--batch", type=int, default=128)
    s.add_argument("--steps", type=int, default=15)
    s.add_argument("--warmup", type=int, default=3)
    s.add_argument("--seed", type=int, default=0)
    fw = sub.add_parser("forward")
    fw.add_argument("checkpoint")
    fw.add_argument("--check", required=True)
    fw.add_argument("--batches", default="1,128")
    fw.add_argument("--repeats", type=int, default=200)
    sub.add_parser("selftest")
    a = ap.parse_args()
    return {"step": cmd_step, "forward": cmd_forward, "selftest": cmd_selftest}[a.cmd](a) or 0


if __name__ == "__main__":
    sys.exit(main())
