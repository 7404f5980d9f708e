import { Option, type Command } from 'commander';
import fs from 'node:fs';
import { BACKEND_ORDER, type BackendName } from '../../shared/backend';
import { runSweep, type SweepSummary } from '../../core/sweeps/runSweep';
import { parseSweepSpec, SWEEP_PRESETS, sweepPreset, type SweepSpec } from '../../core/sweeps/sweepSpec';
import { defaultConcurrency } from '../../core/jobs/jobQueue';
import { parseInteger } from '../overrides';
import { fail } from '../fail';

/** The spec of `--spec FILE` or `--preset NAME` (exactly one). */
export function loadSweepSpec(o: { spec?: string; preset?: string }): SweepSpec {
  if ((o.spec === undefined) === (o.preset === undefined)) throw new Error('give exactly one of --spec FILE.json and --preset NAME');
  if (o.preset !== undefined) return sweepPreset(o.preset);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(o.spec as string, 'utf8'));
  } catch (err) {
    throw new Error(`--spec ${o.spec}: ${(err as Error).message}`);
  }
  return parseSweepSpec(raw, `sweep spec ${o.spec}`);
}

export function registerSweepCommand(program: Command): void {
  program
    .command('sweep')
    .description('train every cell of a sweep (a grid of overrides over a preset) in local worker threads into DIR/runs/, collecting DIR/results.csv; re-running on the same DIR resumes')
    .option('--spec <file>', 'sweep spec JSON: { name, preset, grid, list?, fixed?, metrics } (docs/sweeps.md)')
    .addOption(new Option('--preset <name>', 'a shipped sweep instead of --spec').choices(Object.keys(SWEEP_PRESETS)))
    .requiredOption('--out <dir>', 'sweep folder (new, empty, or one to resume)')
    .option('--workers <n>', 'cells trained at once (default: one per core, within memory)')
    .addOption(new Option('--backend <name>', 'force a compute backend instead of the first that loads').choices([...BACKEND_ORDER]))
    .option('--json', 'print one JSON object as the last stdout line')
    .addHelpText('after', '\nExamples:\n  npx oocr sweep --preset rank-sweep --out sweeps/rank --json\n  npx oocr sweep --spec my-sweep.json --out sweeps/mine --workers 2')
    .action(async (o: { spec?: string; preset?: string; out: string; workers?: string; backend?: BackendName; json?: boolean }) => {
      let summary: SweepSummary;
      try {
        const spec = loadSweepSpec(o);
        const workers = o.workers !== undefined ? parseInteger('--workers', o.workers, { min: 1, max: 1024 }) : defaultConcurrency();
        let stop = false;
        let signals = 0;
        const onSignal = (): void => {
          signals += 1;
          if (signals > 1) process.exit(130);
          stop = true;
          process.stderr.write('\noocr: cancelling the sweep after the current steps (again to abort); re-run the same command to resume\n');
        };
        const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
        for (const s of sigs) process.on(s, onSignal);
        try {
          summary = await runSweep({
            spec,
            outDir: o.out,
            workers,
            backend: o.backend,
            shouldCancel: () => stop,
            onEvent: (e) => {
              if (e.kind !== 'cell') return;
              const why = e.error ? `: ${e.error}` : '';
              process.stderr.write(`sweep ${spec.name}: ${e.done}/${e.total} cells done; ${e.cell} ${e.status}${why}\n`);
            },
          });
        } finally {
          for (const s of sigs) process.off(s, onSignal);
        }
      } catch (err) {
        fail(err);
      }
      const line = { dir: summary.dir, cells: summary.cells, completed: summary.completed, failed: summary.failed, cancelled: summary.cancelled, skipped: summary.skipped, results: summary.results };
      if (o.json) process.stdout.write(`${JSON.stringify(line)}\n`);
      else process.stdout.write(`${summary.completed}/${summary.cells} cells completed (${summary.skipped} already were), ${summary.failed} failed\nresults: ${summary.results}\n`);
      process.exitCode = summary.failed > 0 ? 1 : summary.completed < summary.cells ? 130 : 0;
    });
}
