#!/usr/bin/env python3
"""An independent numpy implementation of the factorization presets (ocr-factorized, ocr-combined), as a
reference for `npm run bench` (bench/train-bench.ts runs it and prints the ratios).

The same model, task and schedule as `oocr train --preset ocr-factorized|ocr-combined`: one layer, one
head, linear attention, one-hot (identity) embeddings and unembedding, W_K = I, learned W_Q; OV
factorized (W_V: 128 -> 8, W_O: 8 -> 128) or combined (one 128 x 128 W_O); the fact/implication recall
task of arXiv 2506.10887 (vocabulary 128, sequences of 16, batch 252 = a third each of train facts,
train implications, test facts); AdamW (lr 5e-3, weight decay 0.03), 2,000 steps, float32. Like the
workbench's run, it evaluates 600 fresh sequences per split every 50 steps, writes a checkpoint every
250 steps and evaluates 2,400 per split at the end. Written the way one would in numpy: the batch
vectorised, the attention pattern scattered onto the vocabulary (np.bincount) so every product is one
BLAS matmul.

    python3 bench/factorization_numpy.py --preset ocr-factorized [--steps 2000] [--seed 0] [--out DIR]

Prints one JSON line: per-step milliseconds (sample + forward + backward + AdamW, evaluations excluded),
the seconds of the whole loop, and the final accuracies.
"""
import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

V, T, B = 128, 16, 252
RANK = 8
N_NAMES, N_CITIES, N_NOISE = 80, 20, 5
REL_FACT, REL_IMPL = 0, 1
NAMES0, CITIES0 = 2, 82
ANIMALS0, NOISE0, END = 102, 122, 127
TRAIN_NAMES = np.arange(NAMES0, NAMES0 + 20)
TEST_NAMES = np.arange(NAMES0 + 20, NAMES0 + N_NAMES)
F = np.float32


def city(names):
    return CITIES0 + (names - NAMES0) % N_CITIES


def sequences(rng, names, relation):
    n = len(names)
    tok = rng.integers(NOISE0, NOISE0 + N_NOISE, size=(n, T), dtype=np.int64)
    p = rng.integers(0, T - 2, size=n)  # name position in [0, T-3]
    q = p + 1 + (rng.random(n) * (T - 2 - p)).astype(np.int64)  # relation in [p+1, T-2]
    rows = np.arange(n)
    tok[rows, p] = names
    tok[rows, q] = relation
    tok[:, T - 1] = END
    target = city(names) if relation == REL_FACT else ANIMALS0 + (city(names) - CITIES0)
    return tok, target


def train_batch(rng):
    third = B // 3
    parts = [
        sequences(rng, rng.choice(TRAIN_NAMES, third), REL_FACT),
        sequences(rng, rng.choice(TRAIN_NAMES, third), REL_IMPL),
        sequences(rng, rng.choice(TEST_NAMES, third), REL_FACT),
    ]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def eval_sets(rng, n):
    spec = [("train_fact", TRAIN_NAMES, REL_FACT), ("train_impl", TRAIN_NAMES, REL_IMPL), ("test_fact", TEST_NAMES, REL_FACT), ("test_impl", TEST_NAMES, REL_IMPL)]
    return [(name, *sequences(rng, rng.choice(names, n), rel)) for name, names, rel in spec]


class Model:
    def __init__(self, factorized, seed):
        rng = np.random.default_rng(seed)
        self.factorized = factorized
        self.WQ = (rng.standard_normal((V, V)) / np.sqrt(V)).astype(F)
        if factorized:
            self.WV = (rng.standard_normal((V, RANK)) / np.sqrt(V)).astype(F)
            self.WO = (rng.standard_normal((RANK, V)) / np.sqrt(RANK)).astype(F)
            self.params = [self.WQ, self.WV, self.WO]
        else:
            self.WO = (rng.standard_normal((V, V)) / np.sqrt(V)).astype(F)
            self.params = [self.WQ, self.WO]
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0

    def forward(self, tok):
        n = tok.shape[0]
        rows = np.repeat(np.arange(n), T)
        s = np.take_along_axis(self.WQ[tok[:, -1]], tok, axis=1)  # [B, T]: q . e_{t_j} (W_K = I), linear attention
        # The pattern scattered onto the vocabulary: C[b, t_j] += s_bj, so that sum_j s_bj x_j = C[b] (one-hot x).
        c = np.bincount(rows * V + tok.reshape(-1), weights=s.reshape(-1), minlength=n * V).reshape(n, V).astype(F)
        if self.factorized:
            z = c @ self.WV  # [B, r]
            return z @ self.WO, (rows, c, z)
        return c @ self.WO, (rows, c, None)  # W_V = I

    def step(self, tok, target, lr=5e-3, wd=0.03, b1=0.9, b2=0.999, eps=1e-8):
        n = tok.shape[0]
        logits, (rows, c, z) = self.forward(tok)
        logits = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        total = e.sum(axis=1, keepdims=True)
        r = np.arange(n)
        loss = float(np.mean(np.log(total[:, 0]) - logits[r, target]))
        g = e / total
        g[r, target] -= 1
        g *= F(1 / n)
        if self.factorized:
            dWO = z.T @ g
            dz = g @ self.WO.T  # [B, r]
            dWV = c.T @ dz
            dc = dz @ self.WV.T  # [B, V]
        else:
            dWO = c.T @ g
            dc = g @ self.WO.T
        ds = np.take_along_axis(dc, tok, axis=1)  # [B, T]
        dq = np.bincount(rows * V + tok.reshape(-1), weights=ds.reshape(-1), minlength=n * V).reshape(n, V).astype(F)
        last = np.zeros((n, V), dtype=F)
        last[r, tok[:, -1]] = 1
        dWQ = last.T @ dq
        grads = [dWQ, dWV, dWO] if self.factorized else [dWQ, dWO]
        self.t += 1
        bc1, bc2 = 1 - b1**self.t, 1 - b2**self.t
        for p, gr, m, vv in zip(self.params, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * gr
            vv *= b2
            vv += (1 - b2) * gr * gr
            p *= 1 - lr * wd
            p -= lr * (m / bc1) / (np.sqrt(vv / bc2) + eps)
        return loss

    def evaluate(self, sets):
        out = {}
        for name, tok, target in sets:
            logits, _ = self.forward(tok)
            rows = np.arange(len(target))
            shifted = logits - logits.max(axis=1, keepdims=True)
            lse = np.log(np.exp(shifted).sum(axis=1))
            out[f"{name}_acc"] = float(np.mean(logits.argmax(axis=1) == target))
            out[f"{name}_loss"] = float(np.mean(lse - shifted[rows, target]))
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", choices=["ocr-factorized", "ocr-combined"], default="ocr-factorized")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="folder for metrics and checkpoints (default: a temporary one)")
    a = ap.parse_args()
    out = a.out or tempfile.mkdtemp(prefix="oocr-numpy-")
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    model = Model(a.preset == "ocr-factorized", a.seed)
    curve_sets = eval_sets(np.random.default_rng(a.seed + 1), 600)
    step_seconds = 0.0
    t0 = time.perf_counter()
    with open(os.path.join(out, "metrics.jsonl"), "w") as metrics:
        for step in range(1, a.steps + 1):
            s0 = time.perf_counter()
            tok, target = train_batch(rng)
            loss = model.step(tok, target)
            step_seconds += time.perf_counter() - s0
            if step % 50 == 0 or step == 1 or step == a.steps:
                metrics.write(json.dumps({"step": step, "loss": loss, "metrics": model.evaluate(curve_sets)}) + "\n")
            if step % 250 == 0 or step == a.steps:
                with open(os.path.join(out, f"step-{step:06d}.f32"), "wb") as fh:
                    for p in model.params:
                        fh.write(p.tobytes())
    final = model.evaluate(eval_sets(np.random.default_rng(a.seed + 2), 2400))
    loop = time.perf_counter() - t0
    print(json.dumps({"preset": a.preset, "steps": a.steps, "msPerStep": 1000 * step_seconds / a.steps, "loopSeconds": loop, "finalLoss": loss, "final": {k: v for k, v in final.items() if k.endswith("_acc")}, "numpy": np.__version__}))
    if a.out is None:
        import shutil

        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
