"""The SAE training step of src/core/sae/trainSae.ts in numpy (float32), as the benchmark's reference.

Usage:
  python3 sae_numpy.py D_IN EXPANSION ARCH K BATCH STEPS     ARCH relu|topk; prints JSON on stdout:
                                                             {"activationsPerSecond", "msPerStep", "loss"}

The same step as the workbench's: pre = (x − b_dec) W_enc + b_enc; ReLU, or ReLU on the k largest pre
(topk); x̂ = f W_dec + b_dec; loss = mean ‖x − x̂‖² (+ λ Σ f_i ‖W_dec,i‖ for relu); hand-written
backward; Adam (0.9, 0.999); topk renormalises decoder rows. Activations come from memory (Gaussian),
as in bench/sae-bench.ts, so only the SAE step is timed. Not a test: timings depend on the machine.
"""

import json
import sys
import time

import numpy as np


def main():
    d, exp, arch, k, batch, steps = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    m = d * exp
    rng = np.random.default_rng(0)
    data = rng.standard_normal((batch * 8, d)).astype(np.float32)
    w_dec = rng.standard_normal((m, d)).astype(np.float32)
    w_dec /= np.linalg.norm(w_dec, axis=1, keepdims=True)
    params = {"W_enc": w_dec.T.copy(), "b_enc": np.zeros(m, np.float32), "W_dec": w_dec, "b_dec": data[:batch].mean(0)}
    mom = {n: np.zeros_like(p) for n, p in params.items()}
    sec = {n: np.zeros_like(p) for n, p in params.items()}
    lam, lr = np.float32(2.5), np.float32(4e-4)

    def step(t, x):
        W_enc, b_enc, W_dec, b_dec = params["W_enc"], params["b_enc"], params["W_dec"], params["b_dec"]
        xc = x - b_dec
        pre = xc @ W_enc + b_enc
        active = pre > 0
        if arch == "topk":
            idx = np.argpartition(-pre, k - 1, axis=1)[:, :k]
            mask = np.zeros_like(active)
            np.put_along_axis(mask, idx, True, axis=1)
            active &= mask
        f = np.where(active, pre, np.float32(0))
        xh = f @ W_dec + b_dec
        err = xh - x
        loss = float((err * err).sum(1).mean())
        dxh = err * np.float32(2 / x.shape[0])
        g_W_dec = f.T @ dxh
        df = dxh @ W_dec.T
        if arch == "relu":
            norms = np.linalg.norm(W_dec, axis=1)
            loss += float(lam * (f * norms).sum(1).mean())
            df += lam * norms / np.float32(x.shape[0])
            g_W_dec += (lam * f.sum(0) / np.float32(x.shape[0]) / np.maximum(norms, 1e-8))[:, None] * W_dec
        dpre = np.where(active, df, np.float32(0))
        grads = {"W_enc": xc.T @ dpre, "b_enc": dpre.sum(0), "W_dec": g_W_dec, "b_dec": dxh.sum(0) - dpre.sum(0) @ W_enc.T}
        bc1, bc2 = 1 - 0.9 ** t, 1 - 0.999 ** t
        for n, g in grads.items():
            mom[n] = np.float32(0.9) * mom[n] + np.float32(0.1) * g
            sec[n] = np.float32(0.999) * sec[n] + np.float32(0.001) * g * g
            params[n] -= lr * (mom[n] / bc1) / (np.sqrt(sec[n] / bc2) + np.float32(1e-8))
        if arch == "topk":
            params["W_dec"] /= np.linalg.norm(params["W_dec"], axis=1, keepdims=True) + np.float32(1e-8)
        return loss

    loss = step(1, data[:batch])
    t0 = time.perf_counter()
    for t in range(2, steps + 2):
        s = (t * batch) % (data.shape[0] - batch)
        loss = step(t, data[s:s + batch])
    dt = time.perf_counter() - t0
    print(json.dumps({"activationsPerSecond": steps * batch / dt, "msPerStep": 1000 * dt / steps, "loss": loss}))


if __name__ == "__main__":
    main()
