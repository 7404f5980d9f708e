import type { RunManifest } from '../../shared/modelConfig';
import { effectiveStatus, listCheckpoints, readManifest, readMetrics } from '../../core/io/runStore';
import { loadCheckpoint } from '../../core/model/checkpoint';
import { paramSpecs } from '../../core/model/params';

export interface RunInfo {
  run: string;
  manifest: RunManifest;
  metrics: { lines: number; first?: { step: number; loss: number }; last?: { step: number; loss: number; metrics: Record<string, number> } };
  checkpoints: { step: number; file: string }[];
  tensors: { name: string; shape: number[]; trainable: boolean; frobenius: number }[];
}

/** Config, metrics summary and tensor table of a run (from its latest checkpoint). */
export function runInfo(runDir: string): RunInfo {
  const stored = readManifest(runDir);
  // A run whose process died shows as 'interrupted' (resumable with `oocr train --resume`).
  const manifest = { ...stored, status: effectiveStatus(runDir, stored) };
  const lines = readMetrics(runDir);
  const checkpoints = listCheckpoints(runDir);
  let tensors: RunInfo['tensors'] = [];
  const latest = checkpoints[checkpoints.length - 1];
  if (latest) {
    const ck = loadCheckpoint(latest.file);
    const trainable = new Map(paramSpecs(ck.config).map((s) => [s.name, s.trainable]));
    tensors = Object.entries(ck.params).map(([name, t]) => ({
      name,
      shape: t.shape,
      trainable: trainable.get(name) ?? false,
      frobenius: Math.sqrt(t.data.reduce((s, x) => s + x * x, 0)),
    }));
  }
  const first = lines[0];
  const last = lines[lines.length - 1];
  return {
    run: runDir,
    manifest,
    metrics: {
      lines: lines.length,
      first: first ? { step: first.step, loss: first.loss } : undefined,
      last: last ? { step: last.step, loss: last.loss, metrics: last.metrics } : undefined,
    },
    checkpoints,
    tensors,
  };
}

export function formatRunInfo(i: RunInfo): string {
  const m = i.manifest;
  const out: string[] = [];
  out.push(`run        ${i.run}`);
  out.push(`preset     ${m.preset ?? '(custom)'}   task ${m.config.task}   status ${m.status}${m.error ? ` (${m.error})` : ''}`);
  out.push(`backend    ${m.backend}   steps ${m.step}/${m.config.steps}   ${m.seconds.toFixed(1)} s   seed ${m.config.seed}`);
  const mc = m.config.model;
  out.push(
    `model      ${mc.nLayers} layer(s), d_model ${mc.dModel}, ${mc.nHeads} head(s) of ${mc.dHead}, ${mc.attention} attention, OV ${mc.ov}${mc.ov === 'factorized' ? ` (rank ${mc.ovRank})` : ''}, MLP ${mc.mlp ? mc.dMlp : 'off'}, LN ${mc.layerNorm ? 'on' : 'off'}, residual ${mc.residual ? 'on' : 'off'}, embed ${mc.embed}, unembed ${mc.unembed}, W_K ${mc.wK}`,
  );
  const o = m.config.optimizer;
  out.push(`optimizer  AdamW lr ${o.lr} wd ${o.weightDecay} betas (${o.beta1}, ${o.beta2})   batch ${m.config.batchSize}`);
  if (m.finalMetrics) {
    out.push('final metrics (fresh sequences):');
    for (const [k, v] of Object.entries(m.finalMetrics)) out.push(`  ${k.padEnd(18)} ${v.toFixed(4)}`);
  }
  out.push(`metrics.jsonl: ${i.metrics.lines} lines${i.metrics.last ? `, last step ${i.metrics.last.step} loss ${i.metrics.last.loss.toFixed(4)}` : ''}`);
  out.push(`checkpoints: ${i.checkpoints.map((c) => c.step).join(', ') || 'none'}`);
  if (i.tensors.length) {
    out.push('tensors (latest checkpoint):');
    for (const t of i.tensors) out.push(`  ${t.name.padEnd(24)} [${t.shape.join(', ')}]`.padEnd(48) + `${t.trainable ? 'trained' : 'frozen '}  ‖·‖F ${t.frobenius.toFixed(3)}`);
  }
  return out.join('\n');
}
