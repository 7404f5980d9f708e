import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomicSync } from '../io/atomicWrite';
import { CheckpointError, openSafetensorsFileSync, writeSafetensorsFileSync } from '../io/safetensors';
import { describeFsError, FileReadError, readRegularTextSync, READ_LIMITS } from '../io/safeFs';
import { cfgJson, parseCfg, SAE_CFG_FILE, SAE_METRICS_FILE, SAE_SUMMARY_FILE, SAE_WEIGHTS_FILE, type Sae, type SaeWeights } from './saeConfig';

/**
 * An SAE folder in the SAELens layout: `cfg.json` + `sae_weights.safetensors` (W_enc [d_in, d_sae],
 * b_enc [d_sae], W_dec [d_sae, d_in], b_dec [d_in], float32), written atomically; SAEs written by SAELens
 * (or anything else in that layout) load back, in F32, F16, BF16 or F64.
 */

const TENSORS = ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const;

/** Tensors some SAELens architectures add, which this workbench cannot apply: refused by name. */
const REFUSED: Record<string, string> = {
  threshold: "a JumpReLU SAE ('threshold'); this workbench runs standard ReLU and TopK SAEs",
  log_threshold: "a JumpReLU SAE ('log_threshold'); this workbench runs standard ReLU and TopK SAEs",
  b_gate: "a gated SAE ('b_gate'); this workbench runs standard ReLU and TopK SAEs",
  r_mag: "a gated SAE ('r_mag'); this workbench runs standard ReLU and TopK SAEs",
  b_mag: "a gated SAE ('b_mag'); this workbench runs standard ReLU and TopK SAEs",
};

export function expectedShapes(d_in: number, d_sae: number): Record<(typeof TENSORS)[number], number[]> {
  return { W_enc: [d_in, d_sae], b_enc: [d_sae], W_dec: [d_sae, d_in], b_dec: [d_in] };
}

export function checkWeights(w: SaeWeights, d_in: number, d_sae: number, file: string): void {
  const want = expectedShapes(d_in, d_sae);
  for (const name of TENSORS) {
    const t = w[name];
    if (t.shape.join(',') !== want[name].join(',')) throw new CheckpointError(file, `tensor "${name}" has shape [${t.shape.join(', ')}], cfg.json's d_in ${d_in} and d_sae ${d_sae} need [${want[name].join(', ')}]`);
    for (let i = 0; i < t.data.length; i++) {
      if (!Number.isFinite(t.data[i])) throw new CheckpointError(file, `tensor "${name}" holds a non-finite value (${t.data[i]}) at index ${i}`);
    }
  }
}

/** Writes cfg.json and sae_weights.safetensors into `dir` (created), each atomically. */
export function writeSae(dir: string, sae: Sae): void {
  checkWeights(sae.weights, sae.cfg.d_in, sae.cfg.d_sae, path.join(dir, SAE_WEIGHTS_FILE));
  fs.mkdirSync(dir, { recursive: true });
  const tensors = Object.fromEntries(TENSORS.map((n) => [n, { shape: sae.weights[n].shape.slice(), data: sae.weights[n].data }]));
  writeSafetensorsFileSync(path.join(dir, SAE_WEIGHTS_FILE), tensors, { format: 'pt' });
  writeFileAtomicSync(path.join(dir, SAE_CFG_FILE), `${JSON.stringify(cfgJson(sae.cfg), null, 2)}\n`);
}

/** True when `dir` holds an SAE in the SAELens layout. */
export function isSaeFolder(dir: string): boolean {
  return fs.existsSync(path.join(dir, SAE_CFG_FILE)) && fs.existsSync(path.join(dir, SAE_WEIGHTS_FILE));
}

/**
 * Reads an SAE folder (ours or SAELens's). Every problem names the file: a missing or truncated
 * weights file, a cfg.json that is not JSON, shapes that disagree with cfg.json, unsupported variants.
 */
export function readSae(dir: string): Sae {
  const cfgFile = path.join(dir, SAE_CFG_FILE);
  const weightsFile = path.join(dir, SAE_WEIGHTS_FILE);
  let text: string;
  try {
    text = readRegularTextSync(cfgFile, READ_LIMITS.json);
  } catch (err) {
    if (err instanceof FileReadError) throw new Error(`${cfgFile}: ${err.problem}`);
    throw new Error(`${cfgFile}: ${describeFsError(err, 'an SAE config (cfg.json)')}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${cfgFile}: not valid JSON (${(err as Error).message})`);
  }
  const cfg = parseCfg(raw, cfgFile);
  const index = openSafetensorsFileSync(weightsFile);
  for (const name of index.entries.keys()) {
    if (REFUSED[name]) throw new CheckpointError(weightsFile, `holds ${REFUSED[name]}`);
  }
  const scaling = index.entries.get('scaling_factor');
  if (scaling) {
    const s = index.read('scaling_factor');
    if (s.some((x) => x !== 1)) throw new CheckpointError(weightsFile, "has a 'scaling_factor' other than 1 (a fine-tuned scaling); fold it into W_dec first");
  }
  const weights = {} as SaeWeights;
  for (const name of TENSORS) {
    const e = index.entries.get(name);
    if (!e) throw new CheckpointError(weightsFile, `no tensor "${name}" (an SAELens SAE has ${TENSORS.join(', ')})`);
    weights[name] = { shape: e.shape.slice(), data: index.read(name) };
  }
  checkWeights(weights, cfg.d_in, cfg.d_sae, weightsFile);
  return { cfg, weights };
}

/** Training metrics beside the SAE: metrics.jsonl (one line per logged step) and a summary JSON. */
export function writeSaeMetrics(dir: string, lines: readonly Record<string, unknown>[], summary: Record<string, unknown>): void {
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomicSync(path.join(dir, SAE_METRICS_FILE), lines.map((l) => JSON.stringify(l)).join('\n') + (lines.length ? '\n' : ''));
  writeFileAtomicSync(path.join(dir, SAE_SUMMARY_FILE), `${JSON.stringify(summary, null, 2)}\n`);
}
