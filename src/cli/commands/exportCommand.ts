import type { Command } from 'commander';
import { exportToyAsGpt2 } from '../../core/hf/export/toyToGpt2';
import { isRunFolder, readManifest, resolveCheckpoint } from '../../core/io/runStore';
import { loadCheckpoint } from '../../core/model/checkpoint';
import { createTask } from '../../core/tasks/registry';
import { createFinetuneTask } from '../../core/tasks/worldFinetune';
import { parseInteger, RANGES } from '../overrides';
import { fail } from '../fail';

export interface ExportHfSummary {
  dir: string;
  modelType: 'gpt2';
  nLayers: number;
  dModel: number;
  dVocab: number;
  /** max |W_Uᵀ δ − b_U| of the unembedding-bias fold (0 without one). */
  foldResidual: number;
}

/** The token names of the task a checkpoint was trained on (a world fine-tune's are its world's). */
function taskVocab(task: string, options: Record<string, unknown>): readonly string[] {
  if (task.startsWith('world-')) return createFinetuneTask(options).vocab;
  return createTask(task, options).vocab;
}

/** A run's last (or `step`'s) checkpoint, or a checkpoint file, as a Hugging Face GPT-2 folder `out`. */
export function exportRunAsHf(run: string, out: string, step?: number): ExportHfSummary {
  if (isRunFolder(run)) {
    const method = readManifest(run).finetune?.method;
    if (method === 'lora' || method === 'steer') {
      throw new Error(`${run} is a ${method === 'lora' ? 'LoRA' : 'steering-vector'} fine-tune (no full checkpoint); export its base model, or fine-tune with --method full`);
    }
  }
  const ck = resolveCheckpoint(run, step);
  const loaded = loadCheckpoint(ck.file);
  const manifest = ck.runDir ? readManifest(ck.runDir) : null;
  const task = manifest?.config.task ?? loaded.meta.task;
  if (!task) throw new Error(`${ck.file}: no task recorded in the checkpoint and no run.json beside it, so its vocabulary is unknown`);
  const vocab = taskVocab(task, manifest?.config.taskOptions ?? loaded.meta.taskOptions ?? {});
  const c = loaded.config;
  const r = exportToyAsGpt2({ config: c, params: loaded.params, vocab, outDir: out });
  return { dir: r.dir, modelType: 'gpt2', nLayers: c.nLayers, dModel: c.dModel, dVocab: c.dVocab, foldResidual: r.maxFoldResidual };
}

export function registerExportCommand(program: Command): void {
  program
    .command('export-hf')
    .description("write a toy model's checkpoint as a Hugging Face GPT-2 folder (config.json, model.safetensors, tokenizer.json)")
    .requiredOption('--run <run-or-checkpoint>', 'run folder (its last checkpoint) or a .safetensors checkpoint')
    .option('--step <n>', 'checkpoint step of a run folder (default: the latest)')
    .requiredOption('--out <dir>', 'folder to write (must not hold a config.json)')
    .option('--json', 'print one JSON object as the last stdout line')
    .addHelpText('after', '\nExample:\n  npx oocr export-hf --run resources/workspace/world-base --out exports/world-base\n  npx oocr info --model exports/world-base')
    .action((o: { run: string; step?: string; out: string; json?: boolean }) => {
      try {
        const s = exportRunAsHf(o.run, o.out, o.step !== undefined ? parseInteger('--step', o.step, RANGES.index) : undefined);
        if (o.json) process.stdout.write(`${JSON.stringify(s)}\n`);
        else {
          process.stdout.write(
            `wrote ${s.dir}: gpt2, ${s.nLayers} layers, d_model ${s.dModel}, vocab ${s.dVocab}` +
              `${s.foldResidual > 0 ? ` (unembedding bias folded into ln_f.bias, max logit error ${s.foldResidual.toExponential(2)})` : ''}\n`,
          );
        }
      } catch (err) {
        fail(err);
      }
    });
}
