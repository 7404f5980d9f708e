import type { Metrics } from './modelConfig';

/** Streamed by every long job; plain data so it crosses worker, IPC and WebSocket boundaries. */
export interface ProgressEvent {
  kind: 'progress';
  step: number;
  totalSteps: number;
  loss: number;
  metrics?: Metrics;
  stepsPerSecond: number;
  etaSeconds: number;
}

export type JobEvent =
  | ProgressEvent
  | { kind: 'log'; message: string }
  | { kind: 'checkpoint'; step: number; file: string };
