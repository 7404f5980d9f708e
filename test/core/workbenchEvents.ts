import type { WorkbenchEvent } from '../../src/shared/api';

/**
 * Every event a workbench pushes, kept in order, and a wait for the first one (earlier ones count) that
 * satisfies a predicate: tests wait on events, never on a clock. Subscribe with `record`.
 */
export function eventLog(): { events: WorkbenchEvent[]; record: (e: WorkbenchEvent) => void; waitFor: (pred: (e: WorkbenchEvent) => boolean, ms?: number) => Promise<WorkbenchEvent> } {
  const events: WorkbenchEvent[] = [];
  const waiters = new Set<() => void>();
  const record = (e: WorkbenchEvent): void => {
    events.push(e);
    for (const w of [...waiters]) w();
  };
  /** Resolves with the first matching event; rejects after `ms` naming the kinds that arrived. */
  const waitFor = (pred: (e: WorkbenchEvent) => boolean, ms = 120_000): Promise<WorkbenchEvent> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = events.find(pred);
        if (!hit) return false;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(hit);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no such event in ${ms} ms; got ${events.map((e) => e.kind).join(', ')}`));
      }, ms);
      if (!check()) waiters.add(check);
    });
  return { events, record, waitFor };
}
