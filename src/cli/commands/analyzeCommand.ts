import type { Command } from 'commander';
import { Option } from 'commander';
import type { HookName } from '../../shared/hooks';
import { initBackend } from '../../core/backend/initBackend';
import { ovSpectrum, type OvSpectrum } from '../../core/analysis/ovSpectrum';
import { projectRun } from '../../core/analysis/projectRun';
import type { Projection3D } from '../../core/analysis/projection';
import { toCsv } from '../../shared/csv';
import { writeFileAtomicSync } from '../../core/io/atomicWrite';
import { openRun, openRunCheckpoints } from '../../core/runs/openRun';
import { parseInteger, parseNumber } from '../overrides';
import { runInterpAnalysis, type InterpKind } from './interpAnalyses';

export const ANALYSES = ['attention', 'logit-lens', 'patching', 'ov-spectrum', 'projection'] as const;

export { csvField, toCsv } from '../../shared/csv';

function ovCsv(s: OvSpectrum): string {
  const rows: unknown[][] = [];
  for (const h of s.heads)
    s.steps.forEach((step, i) => h.singular_values[i].forEach((v, k) => rows.push([h.layer, h.head, step, k, v, h.nuclear_norm[i]])));
  return toCsv(['layer', 'head', 'step', 'index', 'singular_value', 'nuclear_norm'], rows);
}

function projectionCsv(p: Projection3D): string {
  return toCsv(
    ['x', 'y', 'z', 'token', 'group', 'answer', 'prompt', 'position'],
    p.points.map((pt, i) => [...pt, p.labels[i].token, p.labels[i].group, p.labels[i].answer, p.labels[i].prompt, p.labels[i].position]),
  );
}

export function registerAnalyzeCommand(program: Command): void {
  program
    .command('analyze')
    .description('run an interpretability analysis on a run and write plain JSON (or CSV)')
    .argument('<kind>', ANALYSES.join('|'))
    .requiredOption('--run <dir>', 'run folder')
    .option('--step <n>', 'checkpoint step (default: the latest)')
    .option('--prompt <tokens>', 'space-separated token names from the run’s vocabulary, e.g. "name_5 rel_fact end"')
    .option('--corrupt <tokens>', 'patching: the corrupted prompt (same length as --prompt)')
    .option('--answer <token>', 'logit-lens / patching: the answer token (default: the model’s top prediction on the prompt)')
    .option('--wrong <token>', 'patching: the competing token (default: the top prediction on the corrupted prompt)')
    .option('--position <p>', 'position to read (default: last)')
    .option('--layers <list>', 'attention: comma list of layers (default: all)')
    .option('--source <hook>', "projection: 'embed' or a hook name such as blocks.0.hook_resid_post", 'embed')
    .addOption(new Option('--method <m>', 'projection method').choices(['pca', 'umap']).default('pca'))
    .option('--neighbors <k>', 'UMAP n_neighbors', '15')
    .option('--min-dist <x>', 'UMAP min_dist', '0.1')
    .option('--prompts-per-set <n>', 'projection of a hook: prompts per eval split', '40')
    .option('--top <k>', 'ov-spectrum: keep the top k singular values (default: all); logit-lens: top-k tokens', undefined)
    .addOption(new Option('--format <f>', 'output format').choices(['json', 'csv']).default('json'))
    .requiredOption('--out <file>', 'output file')
    .action(async (kind: string, o: Record<string, string | undefined>) => {
      try {
        if (!(ANALYSES as readonly string[]).includes(kind)) throw new Error(`unknown analysis '${kind}': expected one of ${ANALYSES.join(', ')}`);
        const step = o.step !== undefined ? parseInteger('--step', o.step) : undefined;
        let json: unknown;
        let csv: string;
        if (kind === 'ov-spectrum') {
          const { config, checkpoints } = openRunCheckpoints(o.run as string);
          const s = ovSpectrum(config, step === undefined ? checkpoints : checkpoints.filter((c) => c.step === step), { top: o.top ? parseInteger('--top', o.top) : undefined });
          if (!s.steps.length) throw new Error(`${o.run}: no checkpoint at step ${step}`);
          json = s;
          csv = ovCsv(s);
        } else if (kind === 'projection') {
          await initBackend();
          const run = openRun(o.run as string, step);
          const p = projectRun(run.config, run.params, run.vocab, run.task, {
            source: o.source as 'embed' | HookName,
            method: o.method as 'pca' | 'umap',
            promptsPerSet: parseInteger('--prompts-per-set', o.promptsPerSet as string),
            position: o.position !== undefined ? parseInteger('--position', o.position) : 'last',
            nNeighbors: parseInteger('--neighbors', o.neighbors as string),
            minDist: parseNumber('--min-dist', o.minDist as string),
          });
          json = { run: run.runDir, step: run.step, ...p };
          csv = projectionCsv(p);
        } else {
          await initBackend();
          const r = runInterpAnalysis(kind as InterpKind, o);
          json = r.json;
          csv = r.csv;
        }
        writeFileAtomicSync(o.out as string, o.format === 'csv' ? csv : `${JSON.stringify(json)}\n`);
        process.stderr.write(`oocr: wrote ${kind} to ${o.out}\n`);
      } catch (err) {
        process.stderr.write(`oocr: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      }
    });
}
