import type { BackendName } from '../../shared/backend';
import type { JobEvent } from '../../shared/progress';
import { spawnWorker } from './trainingJob';
import type { StudyWorkerRequest, TrainWorkerMessage } from './trainWorker';

export interface StudyJob {
  readonly done: Promise<{ status: 'completed' | 'cancelled'; runDir: string }>;
  cancel(): void;
}

/**
 * A LoRA-vs-steering study (three fine-tunes and the analysis) in the training worker, so the
 * caller's thread stays free; cancel stops the current fine-tune and ends the study as 'cancelled'.
 */
export function startStudyJob(req: StudyWorkerRequest & { outDir: string; backend?: BackendName }, onEvent: (e: JobEvent) => void = () => {}): StudyJob {
  const cancelBuffer = new SharedArrayBuffer(4);
  const flag = new Int32Array(cancelBuffer);
  const { outDir, backend, ...study } = req;
  // `config` and `preset` are unused when `study` is set; the worker protocol keeps one shape.
  const worker = spawnWorker({ study, outDir, backend, cancelBuffer, config: undefined as never, preset: null });
  const done = new Promise<{ status: 'completed' | 'cancelled'; runDir: string }>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      fn();
      void worker.terminate();
    };
    worker.on('message', (m: TrainWorkerMessage) => {
      if (m.type === 'event') onEvent(m.event);
      else if (m.type === 'study-done') settle(() => resolve({ status: m.status, runDir: m.runDir }));
      else if (m.type === 'error') settle(() => reject(new Error(m.message)));
    });
    worker.on('error', (err) => settle(() => reject(new Error(`study worker crashed: ${err.message}`))));
    worker.on('exit', (code) => settle(() => reject(new Error(`study worker exited with code ${code} before finishing`))));
  });
  return { done, cancel: () => Atomics.store(flag, 0, 1) };
}
