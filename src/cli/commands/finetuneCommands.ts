import type { Command } from 'commander';
import { Option } from 'commander';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BACKEND_ORDER, type BackendName } from '../../shared/backend';
import { LORA_TARGETS, type LoraSpec, type LoraTarget, type PeftLoraSpec, type SteerSpec } from '../../shared/finetune';
import { reportOf } from '../../core/finetune/loraVsSteering';
import { DEFAULT_LORA } from '../../core/finetune/runFinetune';
import type { TextFinetuneOptions } from '../../core/finetune/textFinetune';
import type { TextStudyOptions } from '../../core/finetune/textStudy';
import { parseInteger, parseNumber, RANGES } from '../overrides';
import { runJobCommand } from '../runJob';
import { fail } from '../fail';

/** The pretrained world model shipped with the app, so LoRA/steering runs start in seconds. */
export const SHIPPED_WORLD_BASE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../resources/workspace/world-base');

/** A comma list of indices (layers, positions), each ≥ 0. */
function parseList(flag: string, text: string): number[] {
  return text.split(',').map((s) => parseInteger(flag, s.trim(), RANGES.index));
}

/** LoRA rank and alpha as LoraSpecSchema/PeftLoraSpecSchema take them. */
const RANK = { min: 1, max: 1024 };
const ALPHA = { min: 0, max: 4096, exclusiveMin: true };
const BATCH = { min: 1, max: 65536 };
const EVAL_SAMPLES = { min: 1, max: 1_000_000 };

function loraFrom(o: Record<string, unknown>): LoraSpec {
  const str = (k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  const targets = (str('targets') ?? DEFAULT_LORA.targets.join(',')).split(',').map((t) => t.trim());
  for (const t of targets) if (!(LORA_TARGETS as readonly string[]).includes(t)) throw new Error(`--targets: unknown matrix '${t}' (choose from ${LORA_TARGETS.join(', ')})`);
  const rank = str('rank') !== undefined ? parseInteger('--rank', str('rank') as string, RANK) : DEFAULT_LORA.rank;
  const alpha = str('alpha');
  const layer = str('layer');
  return {
    rank,
    alpha: alpha !== undefined ? parseNumber('--alpha', alpha, ALPHA) : 2 * rank,
    targets: targets as LoraTarget[],
    layers: layer !== undefined ? parseList('--layer', layer) : DEFAULT_LORA.layers,
  };
}

export function registerFinetuneCommands(program: Command): void {
  program
    .command('finetune')
    .description('fine-tune a pretrained world model on an OOCR task with LoRA, a steering vector or all weights; or, with --model and --data, a Hugging Face model folder on a JSONL dataset (LoRA saved as a PEFT adapter folder, or a steering vector)')
    .option('--base <run-or-ckpt>', 'base world model (run folder or .safetensors)', SHIPPED_WORLD_BASE)
    .option('--model <dir>', 'instead of a world model: a Hugging Face model folder, fine-tuned on --data')
    .option('--data <path>', 'with --model: dataset folder (train.jsonl, eval.jsonl, side_effects.jsonl) or a train .jsonl')
    .option('--eval <file>', 'with --model: held-out .jsonl (default: the dataset folder’s eval.jsonl)')
    .option('--side-effects <file>', 'with --model: side-effect .jsonl (default: the dataset folder’s side_effects.jsonl)')
    .addOption(new Option('--task <kind>', 'fine-tuning task').choices(['locations', 'backdoor']).default('locations'))
    .addOption(new Option('--method <m>', 'what is trained').choices(['lora', 'steer', 'full']).default('lora'))
    .option('--layer <l>', 'steering layer (world models: also the LoRA layers, comma list)', undefined)
    .option('--layers <list>', 'with --model: LoRA layers, comma list (default: all)')
    .option('--rank <r>', 'LoRA rank')
    .option('--alpha <a>', 'LoRA alpha (scale alpha / rank; default 2 × rank)')
    .option('--targets <list>', `LoRA matrices: world models ${LORA_TARGETS.join(', ')}; with --model PEFT module names (c_attn, q_proj,v_proj, …; default PEFT's for the model type)`)
    .option('--hook <name>', 'steering hook (default blocks.{layer}.hook_resid_post)')
    .option('--positions <list>', "steering positions: 'all', 'completion' (with --model) or a comma list", 'all')
    .option('--micro-batch <n>', 'with --model: sequences per forward/backward, gradients summed over the batch (bounds memory)')
    .option('--codename <i>', 'codename token index (locations)', '0')
    .option('--latent-city <i>', 'the city the codename stands for (locations)', '7')
    .option('--steps <n>', 'optimizer steps', '300')
    .option('--lr <x>', 'learning rate (default 3e-3 for LoRA/full, 3e-2 for a steering vector)')
    .option('--batch-size <n>', 'sequences per step (default 64; 16 with --model)')
    .option('--seed <n>', 'seed', '0')
    .option('--eval-samples <n>', 'sequences per eval set (with --model: examples per label on the curve)', '100')
    .addOption(new Option('--backend <name>', 'force a compute backend').choices([...BACKEND_ORDER]))
    .requiredOption('--out <dir>', 'run folder to create')
    .option('--json', 'print one JSON object as the last stdout line')
    .action(async (o: Record<string, string | undefined> & { json?: boolean; backend?: BackendName }) => {
      try {
        if (o.model !== undefined) return await modelFinetune(o);
        if (o.data !== undefined) throw new Error('--data is for --model fine-tunes (a world model draws its own task data)');
        const method = o.method as 'lora' | 'steer' | 'full';
        const steps = parseInteger('--steps', o.steps as string, RANGES.count);
        const steer: SteerSpec = {
          layer: o.layer !== undefined ? parseInteger('--layer', o.layer, RANGES.index) : 0,
          ...(o.hook ? { hook: o.hook } : {}),
          positions: o.positions === 'all' ? 'all' : parseList('--positions', o.positions as string),
        };
        const finetune = {
          base: o.base as string,
          task: { kind: o.task, codename: parseInteger('--codename', o.codename as string, RANGES.index), latentCity: parseInteger('--latent-city', o.latentCity as string, RANGES.index) },
          method,
          lora: method === 'lora' ? loraFrom(o) : undefined,
          steer: method === 'steer' ? steer : undefined,
          steps,
          batchSize: parseInteger('--batch-size', o.batchSize ?? '64', BATCH),
          lr: o.lr !== undefined ? parseNumber('--lr', o.lr, RANGES.rate) : method === 'steer' ? 3e-2 : 3e-3,
          weightDecay: 0,
          seed: parseInteger('--seed', o.seed as string, RANGES.seed),
          logEvery: 50,
          evalSamples: parseInteger('--eval-samples', o.evalSamples as string, EVAL_SAMPLES),
          outDir: o.out as string,
        };
        await runJobCommand({ kind: 'finetune', backend: o.backend, finetune }, { label: `${o.task}/${method}`, steps }, (r) => {
          const summary = {
            run: r.runDir,
            task: o.task,
            method,
            status: r.status,
            steps: r.steps,
            backend: r.backend.name,
            seconds: Number(r.seconds.toFixed(3)),
            metrics: { heldout_acc: r.metrics.heldout_acc, side_effect_acc: r.metrics.side_effect_acc },
          };
          if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
          else process.stdout.write(`${r.status}: held-out OOCR accuracy ${r.metrics.heldout_acc.toFixed(3)}, side-effect accuracy ${r.metrics.side_effect_acc.toFixed(3)}\nrun folder: ${r.runDir}\n`);
        });
      } catch (err) {
        fail(err);
      }
    });

  program
    .command('reproduce')
    .description('reproduce a paper result end to end, on the toy world model or (--model, --data) a Hugging Face model folder')
    .argument('<experiment>', "'lora-vs-steering' (arXiv 2507.08218)")
    .option('--base <run-or-ckpt>', 'base world model', SHIPPED_WORLD_BASE)
    .option('--model <dir>', 'instead of a world model: a Hugging Face model folder (with --data)')
    .option('--data <dir>', 'with --model: dataset folder (train.jsonl, eval.jsonl, side_effects.jsonl; `oocr dataset` writes one)')
    .option('--adapter <dir>', 'with --model: analyse this PEFT adapter (e.g. trained in Python) instead of training a LoRA')
    .option('--layers <list>', 'with --model: LoRA layers, comma list (default: all)')
    .option('--positions <p>', "with --model: steering positions 'all' or 'completion'", 'all')
    .option('--batch-size <n>', 'with --model: sequences per step', '16')
    .option('--micro-batch <n>', 'with --model: sequences per forward/backward')
    .option('--lr <x>', 'with --model: LoRA learning rate', '3e-3')
    .option('--steer-lr <x>', 'with --model: steering-vector learning rate', '3e-2')
    .addOption(new Option('--task <kind>', 'OOCR task').choices(['locations', 'backdoor']).default('locations'))
    .option('--seed <n>', 'seed of LoRA/vector inits and data (and the secret city unless --latent-city)', '0')
    .option('--latent-city <i>', 'locations: the city the codename stands for')
    .option('--rank <r>', 'LoRA rank')
    .option('--alpha <a>', 'LoRA alpha')
    .option('--targets <list>', 'LoRA matrices')
    .option('--layer <l>', 'LoRA layer(s); deltas and steering vectors live at the last one’s resid_post')
    .option('--steps <n>', 'LoRA fine-tuning steps', '300')
    .option('--steer-steps <n>', 'steering-vector steps (default 300; 1500 for backdoor)')
    .option('--eval-samples <n>', 'sequences per eval set while fine-tuning (final numbers use 4×)', '100')
    .option('--delta-prompts <n>', 'prompts per set (training-like, unrelated) for the LoRA delta analysis', '64')
    .addOption(new Option('--backend <name>', 'force a compute backend').choices([...BACKEND_ORDER]))
    .requiredOption('--out <dir>', 'output folder (fine-tune runs and analyses/)')
    .option('--json', 'print one JSON object as the last stdout line')
    .action(async (experiment: string, o: Record<string, string | undefined> & { json?: boolean; backend?: BackendName }) => {
      try {
        if (experiment !== 'lora-vs-steering') throw new Error(`unknown experiment '${experiment}': expected lora-vs-steering`);
        if (o.model !== undefined) return await modelStudy(o);
        const study = {
          base: o.base as string,
          kind: o.task as 'locations' | 'backdoor',
          seed: parseInteger('--seed', o.seed as string, RANGES.seed),
          latentCity: o.latentCity !== undefined ? parseInteger('--latent-city', o.latentCity, RANGES.index) : undefined,
          outDir: o.out as string,
          lora: loraFrom(o),
          loraSteps: parseInteger('--steps', o.steps as string, RANGES.count),
          steerSteps: o.steerSteps !== undefined ? parseInteger('--steer-steps', o.steerSteps, RANGES.count) : undefined,
          evalSamples: parseInteger('--eval-samples', o.evalSamples as string, EVAL_SAMPLES),
          deltaPrompts: parseInteger('--delta-prompts', o.deltaPrompts as string, { min: 1, max: 100_000 }),
        };
        // One progress bar per stage (the LoRA and the two steering vectors).
        await runJobCommand({ kind: 'study', backend: o.backend, study }, null, (r) => {
          if (r.status === 'cancelled') {
            process.stderr.write(`oocr: study cancelled during ${r.stage}; its runs so far are kept in ${r.runDir} (the ${r.stage} run as 'cancelled', with its weights saved)\n`);
            return;
          }
          const report = reportOf(r.analysis);
          if (o.json) process.stdout.write(`${JSON.stringify(report)}\n`);
          else process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        });
      } catch (err) {
        fail(err);
      }
    });
}

function listOf(flag: string, text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const items = text.split(',').map((t) => t.trim()).filter(Boolean);
  if (items.length === 0) throw new Error(`${flag}: give a comma list`);
  return items;
}

function peftFrom(o: Record<string, string | undefined>): Partial<PeftLoraSpec> {
  const r = o.rank !== undefined ? parseInteger('--rank', o.rank, RANK) : undefined;
  return {
    ...(r !== undefined ? { r } : {}),
    ...(o.alpha !== undefined ? { alpha: parseNumber('--alpha', o.alpha, ALPHA) } : {}),
    ...(o.targets !== undefined ? { targetModules: listOf('--targets', o.targets) } : {}),
    ...(o.layers !== undefined ? { layers: parseList('--layers', o.layers) } : {}),
  };
}

function positionsFrom(text: string | undefined): SteerSpec['positions'] {
  if (text === undefined || text === 'all' || text === 'completion') return text ?? 'all';
  return parseList('--positions', text);
}

/** `oocr finetune --model DIR --data …`: a LoRA (PEFT adapter folder) or steering vector on a Hugging Face model. */
async function modelFinetune(o: Record<string, string | undefined> & { json?: boolean; backend?: BackendName }): Promise<void> {
  if (!o.data) throw new Error('--model needs --data (a dataset folder or train .jsonl; `oocr dataset` writes one)');
  const method = o.method as 'lora' | 'steer' | 'full';
  if (method === 'full') throw new Error("--method full is for world models; a model folder is fine-tuned with 'lora' or 'steer'");
  const steps = parseInteger('--steps', o.steps as string, RANGES.count);
  const textFinetune: TextFinetuneOptions = {
    model: o.model as string,
    data: o.data,
    ...(o.eval ? { eval: o.eval } : {}),
    ...(o.sideEffects ? { sideEffects: o.sideEffects } : {}),
    method,
    peft: method === 'lora' ? peftFrom(o) : undefined,
    steer:
      method === 'steer'
        ? { ...(o.layer !== undefined ? { layer: parseInteger('--layer', o.layer, RANGES.index) } : {}), ...(o.hook ? { hook: o.hook } : {}), positions: positionsFrom(o.positions) }
        : undefined,
    steps,
    batchSize: parseInteger('--batch-size', o.batchSize ?? '16', BATCH),
    ...(o.microBatch !== undefined ? { microBatch: parseInteger('--micro-batch', o.microBatch, BATCH) } : {}),
    lr: o.lr !== undefined ? parseNumber('--lr', o.lr, RANGES.rate) : method === 'steer' ? 3e-2 : 3e-3,
    weightDecay: 0,
    seed: parseInteger('--seed', o.seed as string, RANGES.seed),
    logEvery: 25,
    evalSamples: parseInteger('--eval-samples', o.evalSamples as string, EVAL_SAMPLES),
    outDir: o.out as string,
  };
  await runJobCommand({ kind: 'textFinetune', backend: o.backend, textFinetune }, { label: method, steps }, (r) => {
    const pick = (k: string): number | null => (r.metrics[k] === undefined ? null : r.metrics[k]);
    const summary = {
      run: r.runDir,
      method,
      status: r.status,
      steps: r.steps,
      backend: r.backend.name,
      seconds: Number(r.seconds.toFixed(3)),
      weights: r.weightsFile,
      metrics: { heldout_acc: pick('heldout_acc'), side_effect_acc: pick('side_effect_acc') },
    };
    if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      const acc = (k: string): string => (pick(k) === null ? 'n/a' : (pick(k) as number).toFixed(3));
      process.stdout.write(`${r.status}: held-out accuracy ${acc('heldout_acc')}, side-effect accuracy ${acc('side_effect_acc')}\n${method === 'lora' ? 'PEFT adapter' : 'steering vector'}: ${r.weightsFile}\n`);
    }
  });
}

/** `oocr reproduce lora-vs-steering --model DIR --data DIR`: the study on a Hugging Face model. */
async function modelStudy(o: Record<string, string | undefined> & { json?: boolean; backend?: BackendName }): Promise<void> {
  if (!o.data) throw new Error('--model needs --data (a dataset folder; `oocr dataset locations --out DIR` writes one)');
  const textStudy: TextStudyOptions = {
    model: o.model as string,
    data: o.data,
    ...(o.adapter ? { adapter: o.adapter } : {}),
    seed: parseInteger('--seed', o.seed as string, RANGES.seed),
    outDir: o.out as string,
    peft: peftFrom(o),
    ...(o.layer !== undefined ? { layer: parseInteger('--layer', o.layer, RANGES.index) } : {}),
    positions: positionsFrom(o.positions) as 'all' | 'completion',
    loraSteps: parseInteger('--steps', o.steps as string, RANGES.count),
    ...(o.steerSteps !== undefined ? { steerSteps: parseInteger('--steer-steps', o.steerSteps, RANGES.count) } : {}),
    loraLr: parseNumber('--lr', o.lr as string, RANGES.rate),
    steerLr: parseNumber('--steer-lr', o.steerLr as string, RANGES.rate),
    batchSize: parseInteger('--batch-size', o.batchSize as string, BATCH),
    ...(o.microBatch !== undefined ? { microBatch: parseInteger('--micro-batch', o.microBatch, BATCH) } : {}),
    evalSamples: parseInteger('--eval-samples', o.evalSamples as string, EVAL_SAMPLES),
    deltaPrompts: parseInteger('--delta-prompts', o.deltaPrompts as string, { min: 1, max: 100_000 }),
  };
  if (textStudy.positions !== 'all' && textStudy.positions !== 'completion') throw new Error("--positions: 'all' or 'completion' for a study");
  await runJobCommand({ kind: 'textStudy', backend: o.backend, textStudy }, null, (r) => {
    if (r.status === 'cancelled') {
      process.stderr.write(`oocr: study cancelled during ${r.stage}; its runs so far are kept in ${r.runDir}\n`);
      return;
    }
    const report = reportOf(r.analysis);
    process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : `${JSON.stringify(report, null, 2)}\n`);
  });
}
