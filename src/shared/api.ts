import type { BackendInfo } from './backend';
import type { MetricsLine, RunManifest } from './modelConfig';
import type { JobEvent } from './progress';

/**
 * The WorkbenchApi contract: the one interface the renderer talks to, whatever the transport (Electron
 * IPC through the preload, or the loopback HTTP server of web mode). Methods return Promises and take
 * and return plain data only; every argument is validated by the schema below at the receiving end.
 */
export interface WorkbenchApi {
  /** Subscribes to pushed events (training progress, job ends); returns the unsubscribe function. */
  onEvent?(listener: (e: WorkbenchEvent) => void): () => void;
  /** The compute backend in use, with the backends tried before it and why each failed. */
  getBackendInfo(): Promise<BackendInfo>;
  /** Runs in the workspace (folders holding run.json, one level of nesting allowed). */
  listRuns(): Promise<RunSummary[]>;
  /** One run's manifest and logged metrics. `id` is the run's path relative to the workspace. */
  getRun(args: { id: string }): Promise<{ id: string; manifest: RunManifest; metrics: MetricsLine[] }>;
  /** Named starting configurations for the Train view. */
  listPresets(): Promise<{ name: string; description: string }[]>;
  /** Starts training a preset into a new run folder `name` of the workspace; progress arrives as events. */
  startTraining(args: { preset: string; name: string; overrides?: { steps?: number; seed?: number; lr?: number } }): Promise<{ jobId: string; runId: string }>;
  /** Asks a job to stop after its current step (its weights are saved). */
  cancel(args: { jobId: string }): Promise<{ cancelled: boolean }>;
}

export interface RunSummary {
  id: string;
  status?: RunManifest['status'];
  preset?: string | null;
  task?: string;
  step?: number;
  finalMetrics?: Record<string, number>;
  /** Set when run.json cannot be read; the run is listed anyway so nothing disappears silently. */
  error?: string;
}

/** Events pushed to the renderer. */
export type WorkbenchEvent = { jobId: string; runId: string } & (JobEvent | { kind: 'finished'; status: string } | { kind: 'failed'; message: string });

/** Every IPC channel starts with this; the preload refuses any other. */
export const IPC_PREFIX = 'workbench:';

export type IpcChannel = `${typeof IPC_PREFIX}${string}`;

/** Request/response methods of WorkbenchApi. */
export type WorkbenchMethod = Exclude<keyof WorkbenchApi, 'onEvent'>;

/** Method → IPC channel. Main registers one `ipcMain.handle` per entry; the preload invokes them. */
export const IPC_CHANNELS = {
  getBackendInfo: 'workbench:getBackendInfo',
  listRuns: 'workbench:listRuns',
  getRun: 'workbench:getRun',
  listPresets: 'workbench:listPresets',
  startTraining: 'workbench:startTraining',
  cancel: 'workbench:cancel',
} as const satisfies { [M in WorkbenchMethod]: IpcChannel };

/** The event channel (main → renderer). */
export const IPC_EVENT_CHANNEL: IpcChannel = 'workbench:event';
