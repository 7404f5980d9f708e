import { Command, Option } from 'commander';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { BACKEND_ORDER, type BackendName } from '../shared/backend';
import type { TrainConfig } from '../shared/modelConfig';
import { initBackend, parseBackendName } from '../core/backend/initBackend';
import { readManifest } from '../core/io/runStore';
import { PRESETS, presetConfig } from '../core/presets';
import { checkTrainConfig } from '../core/train/trainRun';
import { evalRun } from './commands/evalRun';
import { registerAnalyzeCommand } from './commands/analyzeCommand';
import { registerFinetuneCommands } from './commands/finetuneCommands';
import { registerExportCommand } from './commands/exportCommand';
import { registerDatasetCommand } from './commands/datasetCommand';
import { formatModelInfo, modelInfo, registerModelCommands } from './commands/modelCommands';
import { registerServeCommand } from './commands/serve';
import { registerSweepCommand } from './commands/sweepCommand';
import { registerSaeCommand } from './commands/saeCommand';
import { formatRunInfo, runInfo } from './commands/runInfo';
import { applyTrainFlags, collect, parseInteger, RANGES, type TrainFlags } from './overrides';
import { runJobCommand } from './runJob';
import { fail } from './fail';

const require = createRequire(import.meta.url);
const pkg = require('../../package.json') as { version: string };

const backendOption = (): Option =>
  new Option('--backend <name>', 'force a compute backend instead of the first that loads').choices([...BACKEND_ORDER]);

/** Flags of `oocr train` that set the config, which a resumed run takes from its run.json instead. */
const RESUME_REFUSED_FLAGS: [key: string, flag: string][] = [
  ['preset', '--preset'],
  ['config', '--config'],
  ['seed', '--seed'],
  ['steps', '--steps'],
  ['lr', '--lr'],
  ['weightDecay', '--weight-decay'],
  ['batchSize', '--batch-size'],
  ['rank', '--rank'],
  ['logEvery', '--log-every'],
  ['checkpointEvery', '--checkpoint-every'],
  ['evalSamples', '--eval-samples'],
  ['model', '--model'],
  ['taskOption', '--task-option'],
];

/** Prints the one-line JSON result last on stdout, so scripts can take `tail -n 1`. */
function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('oocr')
    .description('OOCR Workbench: train and inspect small transformers on out-of-context reasoning tasks')
    .option('-V, --version', 'print the version and the compute backend that loads here')
    .showHelpAfterError()
    .action(async (opts: { version?: boolean }) => {
      if (!opts.version) {
        program.help();
      }
      const info = await initBackend();
      const tried = info.tried.map((t) => `${t.name} unavailable (${t.error})`).join('; ');
      process.stdout.write(`oocr-workbench ${pkg.version}\nbackend: ${info.name} (tfjs ${info.tfjsVersion}${info.matmul ? `; big matmuls: ${info.matmul}` : ''})${tried ? `\n${tried}` : ''}\n`);
    });

  program
    .command('train')
    .description('train a model from a preset (any field can be overridden) into a run folder, or continue a stopped run (--resume)')
    .addOption(new Option('--preset <name>', 'starting configuration').choices(Object.keys(PRESETS)).default('ocr-factorized'))
    .option('--config <file>', 'JSON file with a full or partial train config, merged over the preset')
    .option('--out <dir>', 'run folder to create (must not hold a run already)')
    .option('--resume <run>', 'continue a cancelled, failed or interrupted run folder from its latest checkpoint, bit for bit, with the config in its run.json (no other config flags)')
    .option('--seed <n>', 'seed for data and initial weights')
    .option('--steps <n>', 'optimizer steps')
    .option('--lr <x>', 'AdamW learning rate')
    .option('--weight-decay <x>', 'AdamW decoupled weight decay')
    .option('--batch-size <n>', 'sequences per step')
    .option('--rank <r>', 'OV rank of a factorized model (W_V: d→r, W_O: r→d)')
    .option('--log-every <n>', 'evaluate and log metrics every n steps')
    .option('--checkpoint-every <n>', 'save a checkpoint every n steps (0: only the last)')
    .option('--eval-samples <n>', 'fresh sequences per split at each evaluation')
    .option('--model <key=value>', 'override any model field, e.g. --model nHeads=2 (repeatable)', collect)
    .option('--task-option <key=value>', 'override a task option, e.g. --task-option implication=arbitrary (repeatable)', collect)
    .addOption(backendOption())
    .option('--json', 'print one JSON object as the last stdout line')
    .addHelpText(
      'after',
      `\nPresets:\n${Object.entries(PRESETS)
        .map(([k, v]) => `  ${k.padEnd(16)} ${v.description}`)
        .join('\n')}\n\nExamples:\n  npx oocr train --preset ocr-factorized --seed 0 --out runs/f --json\n  npx oocr train --resume runs/f    # after Ctrl-C, kill or a crash: continues where it stopped`,
    )
    .action(async (o: TrainFlags & { preset: string; config?: string; out?: string; resume?: string; backend?: BackendName; json?: boolean }, cmd: Command) => {
      let config: TrainConfig;
      let preset: string | null;
      try {
        if (o.resume !== undefined) {
          if (o.out !== undefined) throw new Error('give either --out (a new run) or --resume (an existing one), not both');
          const changing = RESUME_REFUSED_FLAGS.filter(([key]) => cmd.getOptionValueSource(key) === 'cli').map(([, flag]) => flag);
          if (changing.length) throw new Error(`--resume continues the run with the config in its run.json; ${changing.join(', ')} would change it`);
          const manifest = readManifest(o.resume);
          if (manifest.finetune) throw new Error(`${o.resume} is a fine-tune run (${manifest.finetune.method}); resuming fine-tunes is not supported yet`);
          if (manifest.status === 'completed') throw new Error(`${o.resume} is completed (step ${manifest.step} of ${manifest.config.steps}); there is nothing to resume`);
          config = manifest.config;
          preset = manifest.preset;
        } else {
          if (o.out === undefined) throw new Error("required option '--out <dir>' not specified (or --resume <run> to continue a run)");
          config = presetConfig(o.preset);
          if (o.config) config = mergeConfigFile(config, o.config);
          config = checkTrainConfig(applyTrainFlags(config, o));
          preset = o.config ? null : o.preset;
        }
      } catch (err) {
        fail(err);
      }
      const outDir = o.resume ?? (o.out as string);
      const train = { config, preset, outDir, versions: { workbench: pkg.version }, ...(o.resume !== undefined ? { resume: true } : {}) };
      const label = preset ?? path.basename(path.resolve(outDir));
      await runJobCommand({ kind: 'train', backend: o.backend, train }, { label, steps: config.steps }, (r) => {
        // The OCR task's four accuracies are a fixed contract; other tasks report their own splits.
        const accKeys = config.task === 'ocr-recall' ? ['train_fact_acc', 'train_impl_acc', 'test_fact_acc', 'test_impl_acc'] : Object.keys(r.finalMetrics).filter((k) => k.endsWith('_acc'));
        // What trained the run, as run.json records it: the worker's backend, or the fused kernel on it.
        const backend = readManifest(r.runDir).backend;
        const summary = {
          run: r.runDir,
          preset: o.resume !== undefined ? preset : o.preset,
          status: r.status,
          steps: r.steps,
          backend,
          seconds: Number(r.seconds.toFixed(3)),
          metrics: Object.fromEntries(accKeys.map((k) => [k, r.finalMetrics[k] ?? null])),
        };
        if (o.json) printJson(summary);
        else process.stdout.write(`${r.status} ${r.steps} steps in ${r.seconds.toFixed(1)} s on ${backend}: ${formatMetrics(r.finalMetrics)}\nrun folder: ${r.runDir}\n`);
      });
    });

  program
    .command('eval')
    .description("re-measure a run's checkpoint on freshly sampled sequences")
    .requiredOption('--run <dir>', 'run folder (or a .safetensors checkpoint)')
    .option('--step <n>', 'checkpoint step (default: the latest)')
    .option('--samples <n>', 'sequences per split (default: 4 × the run’s evalSamples)')
    .option('--seed <n>', 'seed for the fresh sequences', '12345')
    .addOption(backendOption())
    .option('--json', 'print one JSON object')
    .action(async (o: { run: string; step?: string; samples?: string; seed: string; backend?: BackendName; json?: boolean }) => {
      try {
        const r = await evalRun({
          run: o.run,
          step: o.step !== undefined ? parseInteger('--step', o.step, RANGES.index) : undefined,
          samples: o.samples !== undefined ? parseInteger('--samples', o.samples, { min: 1, max: 1_000_000 }) : undefined,
          seed: parseInteger('--seed', o.seed, RANGES.seed),
          backend: o.backend,
        });
        if (o.json) printJson(r);
        else process.stdout.write(`${r.checkpoint} (step ${r.step}, ${r.samples} sequences per split, ${r.backend})\n${formatMetrics(r.metrics, '\n')}\n`);
      } catch (err) {
        fail(err);
      }
    });

  program
    .command('info')
    .description('show a run (config, metrics, checkpoints, tensors) or a Hugging Face model folder (config, tensors, parameter count, dtypes)')
    .option('--run <dir>', 'run folder')
    .option('--model <dir>', 'Hugging Face model folder instead of a run')
    .option('--json', 'print one JSON object')
    .action((o: { run?: string; model?: string; json?: boolean }) => {
      try {
        if ((o.run === undefined) === (o.model === undefined)) throw new Error('give exactly one of --run and --model');
        if (o.model !== undefined) {
          const m = modelInfo(o.model);
          process.stdout.write(o.json ? `${JSON.stringify(m)}\n` : `${formatModelInfo(m)}\n`);
          return;
        }
        const info = runInfo(o.run as string);
        if (o.json) printJson(info);
        else process.stdout.write(`${formatRunInfo(info)}\n`);
      } catch (err) {
        fail(err);
      }
    });
  registerFinetuneCommands(program);
  registerExportCommand(program);
  registerDatasetCommand(program);
  registerModelCommands(program);
  registerAnalyzeCommand(program);
  registerServeCommand(program);
  registerSweepCommand(program);
  registerSaeCommand(program);
  return program;
}

function formatMetrics(m: Record<string, number>, sep = '  '): string {
  return Object.entries(m)
    .filter(([k]) => k.endsWith('_acc'))
    .map(([k, v]) => `${k} ${v.toFixed(3)}`)
    .join(sep);
}

function mergeConfigFile(base: TrainConfig, file: string): TrainConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`--config ${file}: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`--config ${file}: expected a JSON object`);
  const r = raw as Partial<TrainConfig>;
  return { ...base, ...r, model: { ...base.model, ...(r.model ?? {}) }, optimizer: { ...base.optimizer, ...(r.optimizer ?? {}) } };
}

// Environment override is validated up front so a typo fails before any work starts.
try {
  parseBackendName(process.env.OOCR_BACKEND);
} catch (err) {
  fail(err);
}
await buildProgram().parseAsync(process.argv);
