import { JobError } from '../core/jobs/jobError';
import { startJob, type JobOutcome, type JobRequest } from '../core/jobs/jobRunner';
import { fail } from './fail';
import { createProgressReporter } from './progressBar';

type Reporter = ReturnType<typeof createProgressReporter>;

/**
 * Runs a long command's job in the worker, as the app does: a progress bar on stderr (one per stage of
 * a study, labelled by it; else `bar`), Ctrl-C cancels after the current step (a second Ctrl-C
 * aborts), and the outcome goes to `report`. A cancelled job exits 130; a failed one prints its error
 * (and its last good checkpoint) and exits 1.
 */
export async function runJobCommand<R extends JobRequest>(
  request: R,
  bar: { label: string; steps: number } | null,
  report: (r: JobOutcome<R['kind']>) => void,
): Promise<void> {
  let reporter: Reporter | null = bar ? createProgressReporter(bar.steps, bar.label) : null;
  let stage: string | undefined;
  const job = startJob(request, (e, from) => {
    if (e.kind !== 'progress') return;
    if (from !== undefined && from !== stage) {
      reporter?.stop();
      stage = from;
      reporter = createProgressReporter(e.totalSteps, from);
    }
    reporter?.update(e);
  });
  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('\noocr: cancelling after the current step (Ctrl-C again to abort)\n');
    job.cancel();
  };
  process.on('SIGINT', onSigint);
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
    process.off('SIGINT', onSigint);
  }
}
