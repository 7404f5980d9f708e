"""Random GPT-2-small / Pythia-160M-shaped models in Hugging Face layout, and their forward pass in numpy.

Usage:
  python3 models_numpy.py write DIR gpt2|pythia     write config.json + model.safetensors (random weights)
  python3 models_numpy.py time DIR T [T ...]        float32 forward latency per sequence length (JSON on stdout)
  python3 models_numpy.py lora DIR B T N R STEPS     GPT-2 only: matmul GFLOP/s, then the loss and ms per step of a
                                                    rank-R LoRA on c_attn (base frozen, AdamW) on B sequences of T
                                                    tokens whose last N targets are the completion (JSON on stdout)

Used by bench/models-bench.ts (`npm run bench:models`) as the reference on the same machine. The
forward pass reads the Hugging Face tensor names directly (as test/hf/fixtures/make_models.py does) and
runs in float32 (weights stored F16 are converted once, at load), the same math as transformers'
GPT2Model and GPTNeoXModel: the weights are random, so only the timing matters.
"""

import json
import math
import os
import struct
import sys
import time

import numpy as np

GPT2 = {
    "model_type": "gpt2", "n_embd": 768, "n_layer": 12, "n_head": 12, "n_positions": 1024, "vocab_size": 50257,
    "n_inner": None, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5,
}
PYTHIA = {
    "model_type": "gpt_neox", "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
    "intermediate_size": 3072, "vocab_size": 50304, "max_position_embeddings": 2048, "rotary_pct": 0.25,
    "rotary_emb_base": 10000, "layer_norm_eps": 1e-5, "hidden_act": "gelu", "use_parallel_residual": True,
    "tie_word_embeddings": False,
}


def write_safetensors(path, tensors, dtype):
    np_dtype = {"F32": "<f4", "F16": "<f2"}[dtype]
    header, off = {}, 0
    for name in sorted(tensors):
        n = tensors[name].size * np.dtype(np_dtype).itemsize
        header[name] = {"dtype": dtype, "shape": list(tensors[name].shape), "data_offsets": [off, off + n]}
        off += n
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for name in sorted(tensors):
            f.write(np.ascontiguousarray(tensors[name], dtype=np_dtype).tobytes())


def write(folder, kind):
    rng = np.random.default_rng(0)
    mat = lambda *s: (rng.standard_normal(s, dtype=np.float32) * np.float32(0.02))  # noqa: E731
    ones = lambda n: np.ones(n, np.float32)  # noqa: E731
    zeros = lambda n: np.zeros(n, np.float32)  # noqa: E731
    os.makedirs(folder, exist_ok=True)
    W = {}
    if kind == "gpt2":
        cfg, d, m = GPT2, 768, 3072
        W["transformer.wte.weight"] = mat(cfg["vocab_size"], d)
        W["transformer.wpe.weight"] = mat(cfg["n_positions"], d)
        for l in range(cfg["n_layer"]):
            p = f"transformer.h.{l}."
            W[p + "ln_1.weight"], W[p + "ln_1.bias"] = ones(d), zeros(d)
            W[p + "ln_2.weight"], W[p + "ln_2.bias"] = ones(d), zeros(d)
            W[p + "attn.c_attn.weight"], W[p + "attn.c_attn.bias"] = mat(d, 3 * d), zeros(3 * d)
            W[p + "attn.c_proj.weight"], W[p + "attn.c_proj.bias"] = mat(d, d), zeros(d)
            W[p + "mlp.c_fc.weight"], W[p + "mlp.c_fc.bias"] = mat(d, m), zeros(m)
            W[p + "mlp.c_proj.weight"], W[p + "mlp.c_proj.bias"] = mat(m, d), zeros(d)
        W["transformer.ln_f.weight"], W["transformer.ln_f.bias"] = ones(d), zeros(d)
        dtype = "F32"  # as gpt2's model.safetensors on the Hub
    else:
        cfg, d, m = PYTHIA, 768, 3072
        W["gpt_neox.embed_in.weight"] = mat(cfg["vocab_size"], d)
        W["embed_out.weight"] = mat(cfg["vocab_size"], d)
        for l in range(cfg["num_hidden_layers"]):
            p = f"gpt_neox.layers.{l}."
            for ln in ("input_layernorm", "post_attention_layernorm"):
                W[p + ln + ".weight"], W[p + ln + ".bias"] = ones(d), zeros(d)
            W[p + "attention.query_key_value.weight"], W[p + "attention.query_key_value.bias"] = mat(3 * d, d), zeros(3 * d)
            W[p + "attention.dense.weight"], W[p + "attention.dense.bias"] = mat(d, d), zeros(d)
            W[p + "mlp.dense_h_to_4h.weight"], W[p + "mlp.dense_h_to_4h.bias"] = mat(m, d), zeros(m)
            W[p + "mlp.dense_4h_to_h.weight"], W[p + "mlp.dense_4h_to_h.bias"] = mat(d, m), zeros(d)
        W["gpt_neox.final_layer_norm.weight"], W["gpt_neox.final_layer_norm.bias"] = ones(d), zeros(d)
        dtype = "F16"  # as Pythia's checkpoints on the Hub
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    write_safetensors(os.path.join(folder, "model.safetensors"), W, dtype)
    print(json.dumps({"params": int(sum(w.size for w in W.values())), "dtype": dtype}))


def read_safetensors(path):
    with open(path, "rb") as f:
        buf = f.read()
    n = struct.unpack("<Q", buf[:8])[0]
    header = json.loads(buf[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        dt = {"F32": "<f4", "F16": "<f2", "BF16": None}[e["dtype"]]
        arr = np.frombuffer(buf, dtype=dt, count=(b - a) // np.dtype(dt).itemsize, offset=8 + n + a).reshape(e["shape"])
        out[name] = arr.astype(np.float32)
    return out


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    xc = x - mu
    return xc / np.sqrt((xc * xc).mean(-1, keepdims=True) + np.float32(eps)) * w + b


def gelu_new(x):
    return np.float32(0.5) * x * (1 + np.tanh(np.float32(math.sqrt(2 / math.pi)) * (x + np.float32(0.044715) * x * x * x)))


def erf(x):
    # Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, below float32's resolution at this scale).
    s = np.sign(x)
    a = np.abs(x)
    t = 1 / (1 + np.float32(0.3275911) * a)
    y = 1 - (((((np.float32(1.061405429) * t - np.float32(1.453152027)) * t) + np.float32(1.421413741)) * t - np.float32(0.284496736)) * t + np.float32(0.254829592)) * t * np.exp(-a * a)
    return s * y


def gelu(x):
    return np.float32(0.5) * x * (1 + erf(x * np.float32(1 / math.sqrt(2))))


def attend(q, k, v):
    """q, k, v [H, T, dh] → z [T, H*dh], causal softmax."""
    H, T, dh = q.shape
    s = q @ k.transpose(0, 2, 1) * np.float32(1 / math.sqrt(dh))
    s = s + np.triu(np.full((T, T), -1e9, np.float32), 1)
    s = np.exp(s - s.max(-1, keepdims=True))
    s /= s.sum(-1, keepdims=True)
    return (s @ v).transpose(1, 0, 2).reshape(T, H * dh)


def gpt2_forward(cfg, W, ids):
    d, H = cfg["n_embd"], cfg["n_head"]
    T, dh = len(ids), d // H
    P = "transformer."
    h = W[P + "wte.weight"][ids] + W[P + "wpe.weight"][:T]
    for l in range(cfg["n_layer"]):
        p = f"{P}h.{l}."
        a = layer_norm(h, W[p + "ln_1.weight"], W[p + "ln_1.bias"], 1e-5)
        qkv = a @ W[p + "attn.c_attn.weight"] + W[p + "attn.c_attn.bias"]
        q, k, v = (x.reshape(T, H, dh).transpose(1, 0, 2) for x in np.split(qkv, 3, axis=-1))
        h = h + attend(q, k, v) @ W[p + "attn.c_proj.weight"] + W[p + "attn.c_proj.bias"]
        m = layer_norm(h, W[p + "ln_2.weight"], W[p + "ln_2.bias"], 1e-5)
        h = h + gelu_new(m @ W[p + "mlp.c_fc.weight"] + W[p + "mlp.c_fc.bias"]) @ W[p + "mlp.c_proj.weight"] + W[p + "mlp.c_proj.bias"]
    f = layer_norm(h, W[P + "ln_f.weight"], W[P + "ln_f.bias"], 1e-5)
    return f @ W[P + "wte.weight"].T


def rope(x, rot, base):
    """x [H, T, dh]: NeoX rotary on the first `rot` dims (rotate_half)."""
    T = x.shape[1]
    inv = (1.0 / (base ** (np.arange(0, rot, 2) / rot))).astype(np.float32)
    ang = np.arange(T, dtype=np.float32)[:, None] * inv[None, :]
    cos = np.cos(np.concatenate([ang, ang], -1))
    sin = np.sin(np.concatenate([ang, ang], -1))
    xr, xp = x[..., :rot], x[..., rot:]
    half = rot // 2
    rotated = np.concatenate([-xr[..., half:], xr[..., :half]], -1)
    return np.concatenate([xr * cos + rotated * sin, xp], -1)


def time_forward(folder, lengths, repeats=3):
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    W = read_safetensors(os.path.join(folder, "model.safetensors"))
    fwd = gpt2_forward
    if cfg["model_type"] != "gpt2":
        # Transposes done once, outside the timed region (a loaded model holds its weights that way).
        pre = {k: (np.ascontiguousarray(v.T) if v.ndim == 2 and "embed" not in k else v) for k, v in W.items()}
        fwd = lambda c, _w, ids: neox_forward_pre(c, W, pre, ids)  # noqa: E731
    rng = np.random.default_rng(0)
    out = {}
    for T in lengths:
        ids = rng.integers(0, cfg["vocab_size"], T)
        fwd(cfg, W, ids)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fwd(cfg, W, ids)
            times.append(time.perf_counter() - t0)
        out[str(T)] = sorted(times)[len(times) // 2] * 1000
    print(json.dumps({"ms": out, "threads": os.environ.get("OPENBLAS_NUM_THREADS", "default")}))


def neox_forward_pre(cfg, W, Wt, ids):
    d, H = cfg["hidden_size"], cfg["num_attention_heads"]
    T, dh = len(ids), d // H
    rot = int(dh * cfg["rotary_pct"])
    P = "gpt_neox."
    h = W[P + "embed_in.weight"][ids]
    for l in range(cfg["num_hidden_layers"]):
        p = f"{P}layers.{l}."
        a = layer_norm(h, W[p + "input_layernorm.weight"], W[p + "input_layernorm.bias"], 1e-5)
        qkv = (a @ Wt[p + "attention.query_key_value.weight"] + W[p + "attention.query_key_value.bias"]).reshape(T, H, 3 * dh).transpose(1, 0, 2)
        q, k, v = qkv[..., :dh], qkv[..., dh:2 * dh], qkv[..., 2 * dh:]
        q, k = rope(q, rot, cfg["rotary_emb_base"]), rope(k, rot, cfg["rotary_emb_base"])
        attn = attend(q, k, v) @ Wt[p + "attention.dense.weight"] + W[p + "attention.dense.bias"]
        m = layer_norm(h, W[p + "post_attention_layernorm.weight"], W[p + "post_attention_layernorm.bias"], 1e-5)
        m = gelu(m @ Wt[p + "mlp.dense_h_to_4h.weight"] + W[p + "mlp.dense_h_to_4h.bias"]) @ Wt[p + "mlp.dense_4h_to_h.weight"] + W[p + "mlp.dense_4h_to_h.bias"]
        h = h + attn + m
    f = layer_norm(h, W[P + "final_layer_norm.weight"], W[P + "final_layer_norm.bias"], 1e-5)
    return f @ W["embed_out.weight"].T


def ln_bwd(g, x, w, eps=1e-5):
    """Gradient of layer_norm(x, w, b) with respect to x, given the output's gradient g."""
    xc = x - x.mean(-1, keepdims=True)
    rs = 1 / np.sqrt((xc * xc).mean(-1, keepdims=True) + np.float32(eps))
    xh, gx = xc * rs, g * w
    return rs * (gx - gx.mean(-1, keepdims=True) - xh * (gx * xh).mean(-1, keepdims=True))


def gelu_new_bwd(x, g):
    c = np.float32(math.sqrt(2 / math.pi))
    t = np.tanh(c * (x + np.float32(0.044715) * x * x * x))
    return g * (np.float32(0.5) * (1 + t) + np.float32(0.5) * x * (1 - t * t) * c * (1 + np.float32(3 * 0.044715) * x * x))


def lora_loss_grads(cfg, W, A, Bm, scale, tokens, targets, at):
    """GPT-2 with x·A·B·scale added to every c_attn (PEFT's LoRA, base frozen): mean cross-entropy of the
    positions `at` against `targets` [B, len(at)], and its gradients in A and Bm (one pair per layer).
    The backward pass computes activation gradients and the LoRA's, never the base weights'."""
    d, H, L = cfg["n_embd"], cfg["n_head"], cfg["n_layer"]
    B, T = tokens.shape
    dh, P = d // H, "transformer."
    heads = lambda x: x.reshape(B, T, H, dh).transpose(0, 2, 1, 3)  # noqa: E731
    merge = lambda x: x.transpose(0, 2, 1, 3).reshape(B, T, d)  # noqa: E731
    mask = np.triu(np.full((T, T), -1e9, np.float32), 1)
    h = W[P + "wte.weight"][tokens] + W[P + "wpe.weight"][:T]
    saved = []
    for l in range(L):
        p = f"{P}h.{l}."
        a = layer_norm(h, W[p + "ln_1.weight"], W[p + "ln_1.bias"], 1e-5)
        xa = a @ A[l]
        q, k, v = (heads(x) for x in np.split(a @ W[p + "attn.c_attn.weight"] + W[p + "attn.c_attn.bias"] + (xa @ Bm[l]) * scale, 3, axis=-1))
        s = q @ k.transpose(0, 1, 3, 2) * np.float32(1 / math.sqrt(dh)) + mask
        pat = np.exp(s - s.max(-1, keepdims=True))
        pat /= pat.sum(-1, keepdims=True)
        saved.append((h, a, xa, q, k, v, pat))
        h = h + merge(pat @ v) @ W[p + "attn.c_proj.weight"] + W[p + "attn.c_proj.bias"]
        m = layer_norm(h, W[p + "ln_2.weight"], W[p + "ln_2.bias"], 1e-5)
        u = m @ W[p + "mlp.c_fc.weight"] + W[p + "mlp.c_fc.bias"]
        saved[-1] += (h, m, u)
        h = h + gelu_new(u) @ W[p + "mlp.c_proj.weight"] + W[p + "mlp.c_proj.bias"]
    hr = h[:, at]
    logits = layer_norm(hr, W[P + "ln_f.weight"], W[P + "ln_f.bias"], 1e-5) @ W[P + "wte.weight"].T
    logits -= logits.max(-1, keepdims=True)
    lse = np.log(np.exp(logits).sum(-1, keepdims=True))
    onehot = np.zeros_like(logits)
    np.put_along_axis(onehot, targets[..., None], 1, -1)
    loss = float(-((logits - lse) * onehot).sum() / targets.size)
    g = (np.exp(logits - lse) - onehot) / np.float32(targets.size)
    dh_ = np.zeros_like(h)
    dh_[:, at] = ln_bwd(g @ W[P + "wte.weight"], hr, W[P + "ln_f.weight"])
    dA, dB = [None] * L, [None] * L
    for l in reversed(range(L)):
        p = f"{P}h.{l}."
        h0, a, xa, q, k, v, pat, h1, m, u = saved[l]
        du = gelu_new_bwd(u, dh_ @ W[p + "mlp.c_proj.weight"].T)
        dh_ = dh_ + ln_bwd(du @ W[p + "mlp.c_fc.weight"].T, h1, W[p + "ln_2.weight"])
        dz = heads(dh_ @ W[p + "attn.c_proj.weight"].T)
        dp = dz @ v.transpose(0, 1, 3, 2)
        dv = pat.transpose(0, 1, 3, 2) @ dz
        ds = pat * (dp - (dp * pat).sum(-1, keepdims=True)) * np.float32(1 / math.sqrt(dh))
        dqkv = np.concatenate([merge(ds @ k), merge(ds.transpose(0, 1, 3, 2) @ q), merge(dv)], -1)
        dxa = (dqkv @ Bm[l].T) * scale
        dB[l] = (xa.reshape(-1, xa.shape[-1]).T @ dqkv.reshape(-1, 3 * d)) * scale
        dA[l] = a.reshape(-1, d).T @ dxa.reshape(-1, xa.shape[-1])
        if l > 0:  # layer 0's input is no function of the LoRA
            dh_ = dh_ + ln_bwd(dqkv @ W[p + "attn.c_attn.weight"].T + dxa @ A[l].T, h0, W[p + "ln_1.weight"])
    return loss, dA, dB


def lora_bench(folder, B, T, n_comp, r, steps):
    """Times one fine-tuning step (forward, backward, AdamW on A and B) as bench/models-bench.ts does in tfjs."""
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    W = read_safetensors(os.path.join(folder, "model.safetensors"))
    d, V, L = cfg["n_embd"], cfg["vocab_size"], cfg["n_layer"]
    x, y = np.ones((256, d), np.float32), np.ones((d, 4 * d), np.float32)
    x @ y
    t0, n = time.perf_counter(), 0
    while time.perf_counter() - t0 < 1 or n < 3:
        x @ y
        n += 1
    mm = 2 * 256 * d * 4 * d * n / (time.perf_counter() - t0) / 1e9
    rng = np.random.default_rng(0)
    A = [rng.standard_normal((d, r), dtype=np.float32) / np.float32(math.sqrt(d)) for _ in range(L)]
    Bm = [np.zeros((r, 3 * d), np.float32) for _ in range(L)]
    ids = (1 + 7919 * np.arange(B * (T + 1), dtype=np.int64).reshape(B, T + 1)) % V  # as the tfjs side
    at = np.arange(T - n_comp, T)
    params = A + Bm
    mom = [np.zeros_like(w) for w in params] + [np.zeros_like(w) for w in params]
    times, losses = [], []
    for step in range(1, steps + 2):  # the first is the warm-up
        t0 = time.perf_counter()
        loss, dA, dB = lora_loss_grads(cfg, W, A, Bm, np.float32(2.0), ids[:, :T], ids[:, at + 1], at)
        for i, (w, g) in enumerate(zip(params, dA + dB)):  # AdamW, lr 1e-4, no decay, in place
            m, v = mom[i], mom[len(params) + i]
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            w -= np.float32(1e-4) * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + np.float32(1e-8))
        losses.append(loss)
        times.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({"matmul_gflops": mm, "loss": losses[0], "ms": times[1:], "threads": os.environ.get("OPENBLAS_NUM_THREADS", "default")}))


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "time":
        time_forward(sys.argv[2], [int(t) for t in sys.argv[3:]])
    elif sys.argv[1] == "lora":
        lora_bench(sys.argv[2], *(int(x) for x in sys.argv[3:8]))
    else:
        sys.exit(__doc__)
