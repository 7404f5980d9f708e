import { JobError } from '../core/jobs/jobError';
import { startJob, type JobOutcome, type JobRequest } from '../core/jobs/jobRunner';
import { fail } from './fail';
import { createProgressReporter } from './progressBar';

type Reporter = ReturnType<typeof createProgressReporter>;

/**
 * Runs a long command's job in the worker, as the app does: a progress bar on stderr (one per stage of
 * a study, labelled by it; else `bar`), Ctrl-C, SIGTERM or SIGHUP cancels after the current step (a
 * second signal aborts), and the outcome goes to `report`. A cancelled job exits 130; a failed one prints its error
 * (and its last good checkpoint) and exits 1.
 */
export async function runJobCommand<R extends JobRequest>(
  request: R,
  bar: { label: string; steps: number } | null,
  report: (r: JobOutcome<R['kind']>) => void,
): Promise<void> {
  let reporter: Reporter | null = bar ? createProgressReporter(bar.steps, bar.label) : null;
  let stage: string | undefined;
  /** After SIGHUP: the terminal is gone, so no more progress output. */
  let quiet = false;
  const job = startJob(request, (e, from) => {
    if (e.kind !== 'progress' || quiet) return;
    if (from !== undefined && from !== stage) {
      reporter?.stop();
      stage = from;
      reporter = createProgressReporter(e.totalSteps, from);
    }
    reporter?.update(e);
  });
  // Ctrl-C, `kill` (SIGTERM) and a closed terminal (SIGHUP) all cancel after the current step, so the
  // run is saved, marked cancelled and can be resumed; a second signal aborts.
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    if (signal === 'SIGHUP') {
      // The terminal is gone: writing to it would fail, so the job finishes silently.
      reporter?.stop();
      reporter = null;
      quiet = true;
      for (const s of [process.stdout, process.stderr]) s.on('error', () => {});
    } else {
      const again = signal === 'SIGINT' ? 'Ctrl-C' : signal;
      process.stderr.write(`\noocr: ${signal === 'SIGINT' ? '' : `${signal}: `}cancelling after the current step (${again} again to abort)\n`);
    }
    job.cancel();
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const sig of signals) process.on(sig, onSignal);
  try {
    const r = await job.done;
    reporter?.stop();
    report(r);
    process.exitCode = r.status === 'cancelled' ? 130 : 0;
  } catch (err) {
    reporter?.stop();
    if (err instanceof JobError && err.lastGoodCheckpoint) process.stderr.write(`oocr: last good checkpoint: ${err.lastGoodCheckpoint}\n`);
    fail(err);
  } finally {
    for (const sig of signals) process.off(sig, onSignal);
  }
}
