import type { Command } from 'commander';
import { Option } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { BACKEND_ORDER, type BackendName } from '../../shared/backend';
import { initBackend } from '../../core/backend/initBackend';
import { writeFileAtomicSync } from '../../core/io/atomicWrite';
import { checkSaeFits } from '../../core/sae/hookActivations';
import { DEFAULT_SAE_JOB, saePrompts, summaryMetrics, type SaeJobOptions } from '../../core/sae/runSae';
import { evaluateSae } from '../../core/sae/saeEval';
import { featureReport } from '../../core/sae/saeFeatures';
import { readSae } from '../../core/sae/saeFormat';
import { readStudy, studyEffects } from '../../core/sae/saeStudy';
import { checkSaeHook, openSubject } from '../../core/sae/saeSubject';
import { parseInteger, parseNumber, RANGES, type NumberRange } from '../overrides';
import { runJobCommand } from '../runJob';
import { fail } from '../fail';
import { norm } from '../../core/analysis/linalg';

/**
 * `oocr sae train | eval | features`: sparse autoencoders on a hook of a run or a Hugging Face model
 * folder, in the SAELens layout (src/core/sae). Training runs in the job worker with a progress bar and
 * Ctrl-C; eval and features run in-process.
 */

const R = {
  expansion: { min: 1, max: 256 },
  k: { min: 1, max: 1_000_000 },
  l1: { min: 0, max: 1000 },
  steps: { min: 0, max: 10_000_000 },
  tokens: { min: 1, max: 1e10 },
  batch: { min: 1, max: 65536 },
  samples: { min: 1, max: 100_000 },
  top: { min: 1, max: 10_000 },
  alpha: { min: -1000, max: 1000 },
} as const satisfies Record<string, NumberRange>;

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function targetOf(o: { run?: string; model?: string; adapter?: string }): { dir: string; adapter?: string } {
  if ((o.run === undefined) === (o.model === undefined)) throw new Error('give exactly one of --run DIR and --model DIR');
  if (o.adapter !== undefined && o.model === undefined) throw new Error('--adapter applies to --model');
  return { dir: (o.run ?? o.model) as string, ...(o.adapter !== undefined ? { adapter: o.adapter } : {}) };
}

/**
 * Opens the model `sae` reads (a run, or a model folder with its adapter), checks the SAE fits its hook,
 * and runs `fn` with it and the evaluation prompts; the model is released afterwards.
 */
async function withSaeSubject<R>(
  t: { dir: string; adapter?: string },
  sae: { dir: string; value: ReturnType<typeof readSae> },
  p: { data?: string; seed: number; evalSamples: number },
  fn: (subject: ReturnType<typeof openSubject>, prompts: ReturnType<typeof saePrompts>) => R,
): Promise<R> {
  const subject = openSubject(t.dir, { adapterDir: t.adapter });
  try {
    checkSaeFits(subject, checkSaeHook(subject.config, sae.value.cfg.hook_name), sae.value.cfg.d_in, `SAE ${sae.dir}`);
    return fn(subject, saePrompts(subject, p));
  } finally {
    subject.release();
  }
}

const withTarget = (c: Command): Command =>
  c
    .option('--run <dir>', 'run folder (run.json): its checkpoint and its task’s prompts')
    .option('--model <dir>', 'Hugging Face model folder (config.json, *.safetensors, tokenizer.json), instead of --run')
    .option('--adapter <dir>', 'PEFT LoRA adapter folder applied to --model')
    .option('--data <file>', 'prompts: JSONL of {"text"} or {"prompt", "completion"} (optional "label"), or one text per line; default: the run’s task prompts')
    .addOption(new Option('--backend <name>', 'force a compute backend').choices([...BACKEND_ORDER]));

export function registerSaeCommand(program: Command): void {
  const sae = program.command('sae').description('sparse autoencoders on a hook’s activations (SAELens layout): train, evaluate, browse features');

  withTarget(
    sae
      .command('train')
      .description('train an SAE on one hook of a run or model over its task prompts or a dataset; writes cfg.json + sae_weights.safetensors (SAELens layout), metrics.jsonl and training_summary.json'),
  )
    .requiredOption('--hook <name>', 'TransformerLens hook name, e.g. blocks.0.hook_resid_post, blocks.1.hook_mlp_out')
    .addOption(new Option('--architecture <a>', 'relu (L1 on f·‖W_dec‖, dead features resampled) or topk (AuxK loss)').choices(['relu', 'topk']).default('topk'))
    .option('--expansion <n>', 'd_sae / d_in', String(DEFAULT_SAE_JOB.expansion))
    .option('--k <n>', 'topk: active features per token', String(DEFAULT_SAE_JOB.k))
    .option('--l1 <x>', 'relu: L1 coefficient (activations scaled to mean norm √d_in)', String(DEFAULT_SAE_JOB.l1))
    .option('--lr <x>', 'Adam learning rate', String(DEFAULT_SAE_JOB.lr))
    .option('--warmup <n>', 'learning-rate warm-up steps', String(DEFAULT_SAE_JOB.warmupSteps))
    .option('--l1-warmup <n>', 'relu: L1 coefficient warm-up steps', String(DEFAULT_SAE_JOB.l1WarmupSteps))
    .option('--tokens <n>', 'activations to train on', String(DEFAULT_SAE_JOB.tokens))
    .option('--batch-size <n>', 'activations per step', String(DEFAULT_SAE_JOB.batchSize))
    .option('--seed <n>', 'seed (initial weights, prompts, shuffling)', String(DEFAULT_SAE_JOB.seed))
    .option('--eval-samples <n>', 'held-out prompts per eval set (or dataset texts) for the final metrics', String(DEFAULT_SAE_JOB.evalSamples))
    .requiredOption('--out <dir>', 'SAE folder to create')
    .option('--json', 'print one JSON object as the last stdout line')
    .addHelpText('after', '\nExamples:\n  npx oocr sae train --run resources/workspace/world-base --hook blocks.0.hook_resid_post --out saes/wb-l0 --json\n  npx oocr sae train --model ~/models/gpt2 --hook blocks.6.hook_resid_post --data texts.jsonl --architecture relu --l1 2.5 --out saes/gpt2-l6')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      try {
        const t = targetOf(o as { run?: string; model?: string; adapter?: string });
        const architecture = o.architecture === 'relu' ? 'standard' : 'topk';
        const expansion = parseInteger('--expansion', o.expansion as string, R.expansion);
        const k = parseInteger('--k', o.k as string, R.k);
        const batchSize = parseInteger('--batch-size', o.batchSize as string, R.batch);
        const job: SaeJobOptions = {
          target: path.resolve(t.dir),
          ...(t.adapter ? { adapter: path.resolve(t.adapter) } : {}),
          hook: o.hook as string,
          ...(o.data !== undefined ? { data: path.resolve(o.data as string) } : {}),
          architecture,
          expansion,
          ...(architecture === 'topk' ? { k } : {}),
          l1: parseNumber('--l1', o.l1 as string, R.l1),
          lr: parseNumber('--lr', o.lr as string, RANGES.rate),
          warmupSteps: parseInteger('--warmup', o.warmup as string, R.steps),
          l1WarmupSteps: parseInteger('--l1-warmup', o.l1Warmup as string, R.steps),
          tokens: parseInteger('--tokens', o.tokens as string, R.tokens),
          batchSize,
          seed: parseInteger('--seed', o.seed as string, RANGES.seed),
          evalSamples: parseInteger('--eval-samples', o.evalSamples as string, R.samples),
          outDir: path.resolve(o.out as string),
        };
        if (!(o.out as string).trim()) throw new Error('--out: give a folder name');
        if (fs.existsSync(job.outDir) && (!fs.statSync(job.outDir).isDirectory() || fs.readdirSync(job.outDir).length > 0)) throw new Error(`--out ${o.out as string} exists and is not an empty folder`);
        const steps = Math.max(1, Math.ceil(job.tokens / batchSize));
        await runJobCommand({ kind: 'sae', backend: o.backend as BackendName | undefined, sae: job }, { label: `sae ${job.hook}`, steps }, (r) => {
          const m = r.metrics;
          const summary = {
            sae: r.saeDir,
            status: r.status,
            steps: r.steps,
            backend: r.backend.name,
            seconds: Number(r.seconds.toFixed(3)),
            activationsPerSecond: Math.round(r.activationsPerSecond),
            l0: m.l0,
            fve: m.fve,
            deadFraction: m.deadFraction,
            dense: m.dense,
            cleanLoss: m.cleanLoss,
            splicedLoss: m.splicedLoss,
            zeroAblationLoss: m.zeroAblationLoss,
            lossRecovered: m.lossRecovered,
          };
          if (o.json) printJson(summary);
          else
            process.stdout.write(
              `${r.status}: L0 ${m.l0.toFixed(2)}, FVE ${m.fve.toFixed(4)}, dead ${(100 * m.deadFraction).toFixed(1)}%, loss clean ${m.cleanLoss.toFixed(4)} → spliced ${m.splicedLoss.toFixed(4)} (zero ablation ${m.zeroAblationLoss.toFixed(4)}, recovered ${m.lossRecovered.toFixed(4)})\nSAE folder: ${r.saeDir}\n`,
            );
        });
      } catch (err) {
        fail(err);
      }
    });

  withTarget(sae.command('eval').description('an SAE’s L0, fraction of variance explained, dead/dense features, density histogram and spliced loss on held-out prompts'))
    .requiredOption('--sae <dir>', 'SAE folder (cfg.json + sae_weights.safetensors; ours or SAELens’s)')
    .option('--eval-samples <n>', 'held-out prompts per eval set (or dataset texts)', String(DEFAULT_SAE_JOB.evalSamples))
    .option('--seed <n>', 'seed of the held-out prompts', '0')
    .option('--out <file>', 'also write the full metrics (with per-feature densities) as JSON')
    .option('--json', 'print one JSON object as the last stdout line')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      try {
        const t = targetOf(o as { run?: string; model?: string; adapter?: string });
        const evalSamples = parseInteger('--eval-samples', o.evalSamples as string, R.samples);
        const seed = parseInteger('--seed', o.seed as string, RANGES.seed);
        const s = readSae(o.sae as string);
        await initBackend({ backend: o.backend as BackendName | undefined });
        await withSaeSubject(t, { dir: o.sae as string, value: s }, { data: o.data as string | undefined, seed, evalSamples }, (subject, prompts) => {
          const m = evaluateSae(subject, s, prompts.eval);
          if (o.out) writeFileAtomicSync(o.out as string, `${JSON.stringify({ sae: o.sae, hook: s.cfg.hook_name, ...m })}\n`);
          const summary = { sae: o.sae, hook: s.cfg.hook_name, ...summaryMetrics(m) };
          if (o.json) printJson(summary);
          else process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        });
      } catch (err) {
        fail(err);
      }
    });

  withTarget(sae.command('features').description('per feature: density, top-activating prompts, activation histogram, logit effects, label relevance (MI), cosines with a study’s vectors, and with --study the held-out accuracy under feature ablation and steering'))
    .requiredOption('--sae <dir>', 'SAE folder (cfg.json + sae_weights.safetensors)')
    .requiredOption('--out <file>', 'output JSON')
    .option('--top <n>', 'features detailed per ranking (density, relevance per label, |cosine| per vector)', '10')
    .option('--examples <n>', 'top-activating prompts per feature', '8')
    .option('--eval-samples <n>', 'prompts per eval set (or dataset texts) to read features on', String(DEFAULT_SAE_JOB.evalSamples))
    .option('--seed <n>', 'seed of the prompts', '0')
    .option('--study <dir>', 'a LoRA-vs-steering study folder (locations): cosines with its trained and natural vectors, MI with the latent city’s country, and feature ablation / steering on its held-out questions')
    .option('--alphas <list>', 'with --study: feature-steering strengths (comma list; default: 0.5, 1 and 2 × the trained vector’s norm)')
    .option('--study-samples <n>', 'with --study: held-out questions per set', '200')
    .option('--json', 'print a one-line summary JSON as the last stdout line')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      try {
        const t = targetOf(o as { run?: string; model?: string; adapter?: string });
        const top = parseInteger('--top', o.top as string, R.top);
        const examples = parseInteger('--examples', o.examples as string, R.top);
        const evalSamples = parseInteger('--eval-samples', o.evalSamples as string, R.samples);
        const studySamples = parseInteger('--study-samples', o.studySamples as string, R.samples);
        const seed = parseInteger('--seed', o.seed as string, RANGES.seed);
        const alphas = o.alphas === undefined ? undefined : (o.alphas as string).split(',').map((a) => parseNumber('--alphas', a.trim(), R.alpha));
        if (alphas !== undefined && o.study === undefined) throw new Error('--alphas applies to --study');
        const s = readSae(o.sae as string);
        await initBackend({ backend: o.backend as BackendName | undefined });
        const study = o.study !== undefined ? readStudy(o.study as string, studySamples) : undefined;
        await withSaeSubject(t, { dir: o.sae as string, value: s }, { data: o.data as string | undefined, seed, evalSamples }, (subject, prompts) => {
          const report = featureReport(subject, s, prompts.eval, { top, examples, histogramBins: 20, vectors: study?.vectors, latentCity: study?.latentCity });
          let effects;
          if (study) {
            // Live features only: ablating or steering with a feature that never fires says little about it.
            const live = (i: number): boolean => report.features[i].density > 0;
            const candidates = [...new Set([...(report.topByRelevance.latent_country ?? []).filter(live).slice(0, 3), ...(report.topByCosine.trained_sv ?? []).filter(live).slice(0, 3)])];
            const n = norm(study.steer);
            effects = studyEffects(subject, s, study, candidates, alphas ?? [0.5 * n, n, 2 * n]);
          }
          writeFileAtomicSync(o.out as string, `${JSON.stringify({ sae: o.sae, target: t.dir, ...report, ...(effects ? { study: { dir: o.study, ...effects } } : {}) })}\n`);
          process.stderr.write(`oocr: wrote ${report.detailed.length} detailed features of ${report.dSae} to ${o.out as string}\n`);
          const best = (k: 'latent_country' | 'country' | 'city'): { feature: number; mi: number; best: string } | undefined => {
            const i = report.topByRelevance[k]?.[0];
            if (i === undefined) return undefined;
            const r = report.features[i].relevance[k];
            return r ? { feature: i, mi: r.mi, best: r.best } : undefined;
          };
          const summary = {
            out: o.out,
            nTokens: report.nTokens,
            live: report.features.filter((f) => f.density > 0).length,
            topByRelevance: { latent_country: best('latent_country'), country: best('country'), city: best('city') },
            topByCosine: Object.fromEntries(Object.entries(report.topByCosine).map(([k, v]) => [k, v[0] !== undefined ? { feature: v[0], cosine: report.features[v[0]].cosines[k] } : null])),
            ...(effects ? { study: { baseAcc: effects.baseAcc, steeredAcc: effects.steeredAcc, steeredSplicedAcc: effects.steeredSplicedAcc, steeredAllAblatedAcc: effects.steeredAllAblatedAcc, trainedShareInSpan: effects.trainedShareInSpan, randomDirectionAcc: effects.randomDirectionAcc, features: effects.features } } : {}),
          };
          if (o.json) printJson(summary);
          else process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        });
      } catch (err) {
        fail(err);
      }
    });
}
