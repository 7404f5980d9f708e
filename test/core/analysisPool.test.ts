import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { AnalysisStoppedError, createAnalysisClient } from '../../src/core/jobs/analysisClient';
import type { AnalysisCallRequest } from '../../src/core/jobs/jobProtocol';

/**
 * The analysis workers: requests spread over a pool, a request past the time limit or aborted stops
 * (its worker is replaced), and the next request is answered.
 */

const RUN = path.resolve('resources/workspace/ocr-factorized');
const attention = { id: 'ocr-factorized', kind: 'attention' } as AnalysisCallRequest;

describe('analysis worker pool', () => {
  it('answers requests on two workers, and a second request is not held behind the first', async () => {
    const client = createAnalysisClient({ workers: 2, timeoutMs: 120_000 });
    try {
      const [a, b] = await Promise.all([client.run({ dir: RUN, req: attention }), client.run({ dir: RUN, req: { ...attention, kind: 'ov-spectrum' } as AnalysisCallRequest })]);
      expect(a).toHaveProperty('layers');
      expect(b).toBeDefined();
      expect(client.stats()).toMatchObject({ workers: 2, running: 0, waiting: 0 });
    } finally {
      client.dispose();
    }
  });

  it('stops a request past its time limit with a clear error, then answers the next one', async () => {
    const client = createAnalysisClient({ workers: 1, timeoutMs: 1 });
    try {
      const slow = client.run({ dir: RUN, req: attention });
      await expect(slow).rejects.toThrow(AnalysisStoppedError);
      await expect(slow).rejects.toThrow(/took longer than 0 s and was stopped/);
    } finally {
      client.dispose();
    }
    const ok = createAnalysisClient({ workers: 1, timeoutMs: 120_000 });
    try {
      await expect(ok.run({ dir: RUN, req: attention })).resolves.toHaveProperty('layers');
    } finally {
      ok.dispose();
    }
  });

  it('an aborted request (the caller went away) is dropped while waiting and stopped while running', async () => {
    const client = createAnalysisClient({ workers: 1, timeoutMs: 120_000 });
    try {
      const running = new AbortController();
      const waiting = new AbortController();
      const first = client.run({ dir: RUN, req: attention, signal: running.signal });
      const second = client.run({ dir: RUN, req: attention, signal: waiting.signal });
      const third = client.run({ dir: RUN, req: attention });
      expect(client.stats()).toMatchObject({ running: 1, waiting: 2 });
      waiting.abort();
      await expect(second).rejects.toThrow(/analysis cancelled/);
      running.abort();
      await expect(first).rejects.toThrow(/analysis cancelled/);
      await expect(third).resolves.toHaveProperty('layers');
    } finally {
      client.dispose();
    }
  });
});
