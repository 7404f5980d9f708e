import { Option, type Command } from 'commander';
import fs from 'node:fs';
import { BACKEND_ORDER, type BackendName } from '../../shared/backend';
import { runSweep, type SweepEvent, type SweepSummary } from '../../core/sweeps/runSweep';
import { runDistributedSweep } from '../../core/sweeps/distributedSweep';
import { DEFAULT_QUEUE, parseRedisUrl } from '../../core/sweeps/redisCells';
import { startSweepWorker } from '../../core/sweeps/sweepWorker';
import { LARGE_SWEEP_CELLS, parseSweepSpec, SWEEP_PRESETS, sweepPreset, type SweepSpec } from '../../core/sweeps/sweepSpec';
import { defaultConcurrency } from '../../core/jobs/jobQueue';
import { collect, parseAssignment, parseInteger } from '../overrides';
import { fail } from '../fail';

/**
 * The spec of `--spec FILE` or `--preset NAME` (exactly one), with `--grid KEY=V1,V2` replacing (or
 * adding) a swept entry and `--set KEY=VALUE` fixing an override in every cell, e.g. a shortened
 * rank-sweep: `--preset rank-sweep --grid seed=0 --set steps=800`.
 */
export function loadSweepSpec(o: { spec?: string; preset?: string; grid?: string[]; set?: string[] }): SweepSpec {
  if ((o.spec === undefined) === (o.preset === undefined)) throw new Error('give exactly one of --spec FILE.json and --preset NAME');
  let raw: Record<string, unknown>;
  if (o.preset !== undefined) raw = sweepPreset(o.preset) as unknown as Record<string, unknown>;
  else {
    try {
      raw = JSON.parse(fs.readFileSync(o.spec as string, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`--spec ${o.spec}: ${(err as Error).message}`);
    }
  }
  if (o.grid?.length || o.set?.length) {
    if (typeof raw !== 'object' || raw === null) throw new Error(`--spec ${o.spec}: not a JSON object`);
    const grid = { ...(raw.grid as Record<string, unknown>) };
    for (const a of o.grid ?? []) {
      const [k, v] = parseAssignment('--grid', a);
      grid[k] = String(typeof v === 'string' ? v : JSON.stringify(v))
        .split(',')
        .map((part) => parseAssignment('--grid', `${k}=${part.trim()}`)[1]);
    }
    const fixed = { ...(raw.fixed as Record<string, unknown>) };
    for (const a of o.set ?? []) {
      const [k, v] = parseAssignment('--set', a);
      fixed[k] = v;
    }
    raw = { ...raw, grid, ...(Object.keys(fixed).length ? { fixed } : {}) };
  }
  return parseSweepSpec(raw, o.spec !== undefined ? `sweep spec ${o.spec}` : `sweep preset ${o.preset}`);
}

/** `oocr sweep` and its distributed counterpart `oocr worker`. */
export function registerSweepCommand(program: Command): void {
  program
    .command('sweep')
    .description('train every cell of a sweep (a grid of overrides over a preset) into DIR/runs/ in local worker threads, or with --redis on oocr workers anywhere, collecting DIR/results.csv; re-running on the same DIR resumes')
    .option('--spec <file>', 'sweep spec JSON: { name, preset, grid, list?, fixed?, metrics } (docs/sweeps.md)')
    .addOption(new Option('--preset <name>', 'a shipped sweep instead of --spec').choices(Object.keys(SWEEP_PRESETS)))
    .requiredOption('--out <dir>', 'sweep folder (new, empty, or one to resume)')
    .option('--workers <n>', 'cells trained at once (default: one per core, within memory)')
    .option('--redis <url>', 'distributed: put the cells on a BullMQ queue at redis://HOST:PORT for `oocr worker`s on any machines to train')
    .option('--queue <name>', `the BullMQ queue with --redis (default ${DEFAULT_QUEUE})`)
    .option('--grid <key=v1,v2>', 'replace or add a swept override (repeatable), e.g. --grid ovRank=1,4,8', collect)
    .option('--set <key=value>', 'fix an override in every cell (repeatable), e.g. --set steps=800', collect)
    .option('--yes', `run a sweep of more than ${LARGE_SWEEP_CELLS} cells`)
    .addOption(new Option('--backend <name>', 'force a compute backend instead of the first that loads').choices([...BACKEND_ORDER]))
    .option('--json', 'print one JSON object as the last stdout line')
    .addHelpText(
      'after',
      '\nExamples:\n  npx oocr sweep --preset rank-sweep --out sweeps/rank --json\n  npx oocr sweep --spec my-sweep.json --out sweeps/mine --workers 2\n  npx oocr sweep --preset rank-sweep --out sweeps/rank --redis redis://10.0.0.5:6379   # then oocr worker on each machine',
    )
    .action(async (o: { spec?: string; preset?: string; out: string; workers?: string; backend?: BackendName; json?: boolean; redis?: string; queue?: string; yes?: boolean; grid?: string[]; set?: string[] }) => {
      let summary: SweepSummary;
      try {
        const spec = loadSweepSpec(o);
        const workers = o.workers !== undefined ? parseInteger('--workers', o.workers, { min: 1, max: 1024 }) : defaultConcurrency();
        if (o.redis !== undefined && o.workers !== undefined) throw new Error('--workers is for local sweeps; with --redis, start `oocr worker --concurrency N` on each machine');
        if (o.redis !== undefined) parseRedisUrl(o.redis);
        if (o.queue !== undefined) checkQueueName(o.queue);
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
          const onEvent = (e: SweepEvent): void => {
            if (e.kind !== 'cell' || (e.status === 'running' && !e.worker)) return;
            const why = e.error ? `: ${e.error}` : '';
            const who = e.worker && e.status === 'running' ? ` on ${e.worker}` : '';
            process.stderr.write(`sweep ${spec.name}: ${e.done}/${e.total} cells done; ${e.cell} ${e.status}${who}${why}\n`);
          };
          const common = { spec, outDir: o.out, allowLarge: o.yes === true, shouldCancel: () => stop, onEvent };
          summary = o.redis !== undefined ? await runDistributedSweep({ ...common, redis: o.redis, queue: o.queue }) : await runSweep({ ...common, workers, backend: o.backend });
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
  registerWorkerCommand(program);
}

/** BullMQ queue names may not contain ':'; keep them to a plain word. */
function checkQueueName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/.test(name)) throw new Error(`--queue ${JSON.stringify(name)}: use letters, digits, '.', '_' and '-' (at most 100)`);
  return name;
}

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('train sweep cells from a BullMQ queue on Redis (started by `oocr sweep --redis`), on this machine; run one on every machine that should help')
    .requiredOption('--redis <url>', 'the Redis of the sweep, redis://HOST:PORT')
    .requiredOption('--workspace <dir>', 'scratch folder for the cells being trained here (results travel back through Redis)')
    .option('--concurrency <n>', 'cells trained at once on this machine (default: one per core, within memory)')
    .option('--queue <name>', `the BullMQ queue (default ${DEFAULT_QUEUE})`)
    .option('--lock-seconds <s>', 'how long a cell stays claimed without a heartbeat; a dead worker\'s cell is retried after about this long (default 30)')
    .option('--name <name>', 'this worker\'s name in sweep.json and progress (default host:pid)')
    .addOption(new Option('--backend <name>', 'force a compute backend instead of the first that loads').choices([...BACKEND_ORDER]))
    .addHelpText('after', '\nExample:\n  npx oocr worker --redis redis://10.0.0.5:6379 --workspace /tmp/oocr-worker --concurrency 2')
    .action(async (o: { redis: string; workspace: string; concurrency?: string; queue?: string; lockSeconds?: string; name?: string; backend?: BackendName }) => {
      try {
        parseRedisUrl(o.redis);
        const concurrency = o.concurrency !== undefined ? parseInteger('--concurrency', o.concurrency, { min: 1, max: 256 }) : defaultConcurrency();
        const lockSeconds = o.lockSeconds !== undefined ? parseInteger('--lock-seconds', o.lockSeconds, { min: 1, max: 3600 }) : 30;
        if (o.queue !== undefined) checkQueueName(o.queue);
        if (o.workspace.trim() === '') throw new Error('--workspace must name a folder');
        fs.mkdirSync(o.workspace, { recursive: true });
        const w = await startSweepWorker({
          redis: o.redis,
          workspace: o.workspace,
          queue: o.queue,
          concurrency,
          backend: o.backend,
          lockMs: lockSeconds * 1000,
          name: o.name,
          onEvent: (e) => {
            switch (e.kind) {
              case 'ready':
                process.stderr.write(`oocr worker ${e.worker}: waiting for cells on queue '${e.queue}' (${concurrency} at once)\n`);
                break;
              case 'start':
                process.stderr.write(`${e.sweep}/${e.cell}: ${e.resumeFrom === null ? 'starting' : `resuming from step ${e.resumeFrom}`}\n`);
                break;
              case 'done':
                process.stderr.write(`${e.sweep}/${e.cell}: ${e.status}${e.error ? `: ${e.error}` : ''}\n`);
                break;
              default:
                break;
            }
          },
        });
        let signals = 0;
        const onSignal = (): void => {
          signals += 1;
          if (signals > 1) process.exit(130);
          process.stderr.write('\noocr worker: stopping; cells in progress go back on the queue from their last step (again to abort)\n');
          void w.close();
        };
        for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
        await w.closed;
      } catch (err) {
        fail(err);
      }
    });
}
