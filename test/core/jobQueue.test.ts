import { describe, expect, it } from 'vitest';
import { createJobQueue, type Startable } from '../../src/core/jobs/jobQueue';

/** A job that ends when the test says so (cancel ends it 'cancelled'), recording that it started. */
function controllable(log: string[], name: string): { start: () => Startable<string>; finish: (r: string) => void } {
  let finish!: (r: string) => void;
  const done = new Promise<string>((r) => (finish = r));
  return {
    finish: (r) => finish(r),
    start: () => {
      log.push(`start ${name}`);
      return { done, cancel: () => finish('cancelled') };
    },
  };
}

describe('job queue', () => {
  it('runs at most `concurrency` jobs, the rest in order as slots free up', async () => {
    const log: string[] = [];
    const q = createJobQueue({ concurrency: 2 });
    const jobs = ['a', 'b', 'c', 'd'].map((n) => ({ n, c: controllable(log, n) }));
    const handles = jobs.map(({ n, c }) => q.submit({ jobId: n, runId: `run-${n}`, kind: 'train', start: c.start, cancelledResult: () => 'cancelled' }));
    expect(log).toEqual(['start a', 'start b']);
    expect(q.list().map((j) => [j.jobId, j.state, j.position])).toEqual([
      ['a', 'running', undefined],
      ['b', 'running', undefined],
      ['c', 'queued', 1],
      ['d', 'queued', 2],
    ]);
    jobs[1].c.finish('completed');
    await handles[1].done;
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['start a', 'start b', 'start c']);
    // Cancelling a queued job ends it without ever starting it.
    expect(q.cancel('d')).toBe(true);
    await expect(handles[3].done).resolves.toBe('cancelled');
    jobs[0].c.finish('completed');
    jobs[2].c.finish('completed');
    await Promise.all([handles[0].done, handles[2].done]);
    expect(log).toEqual(['start a', 'start b', 'start c']);
    expect(q.list()).toEqual([]);
  });

  it('refuses a second job for the same run folder while the first is queued or running, and a full queue', () => {
    const log: string[] = [];
    const q = createJobQueue({ concurrency: 1, maxQueued: 2 });
    const submit = (id: string, runId: string) => q.submit({ jobId: id, runId, kind: 'train', start: controllable(log, id).start, cancelledResult: () => 'cancelled' });
    submit('1', 'same');
    expect(() => submit('2', 'same')).toThrow(/'same' already has a running job/);
    submit('3', 'x');
    expect(() => submit('4', 'x')).toThrow(/'x' already has a queued job/);
    submit('5', 'y');
    expect(() => submit('6', 'z')).toThrow(/queue is full \(2 waiting, 1 running\)/);
  });

  it('drain cancels queued and running jobs and waits for the running ones (bounded)', async () => {
    const log: string[] = [];
    const q = createJobQueue({ concurrency: 1 });
    const a = q.submit({ jobId: 'a', runId: 'a', kind: 'train', start: controllable(log, 'a').start, cancelledResult: () => 'cancelled' });
    const b = q.submit({ jobId: 'b', runId: 'b', kind: 'train', start: controllable(log, 'b').start, cancelledResult: () => 'cancelled' });
    await q.drain(5_000);
    await expect(a.done).resolves.toBe('cancelled');
    await expect(b.done).resolves.toBe('cancelled');
    expect(log).toEqual(['start a']);
    // A job that ignores cancel cannot hold the drain past its time limit.
    const stubborn = q.submit({ jobId: 'c', runId: 'c', kind: 'train', start: () => ({ done: new Promise<string>(() => {}), cancel: () => {} }), cancelledResult: () => 'cancelled' });
    void stubborn;
    const t0 = Date.now();
    await q.drain(50);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});
