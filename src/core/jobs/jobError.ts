/**
 * The one error of a long job (training, fine-tuning, a study), in process or across the worker
 * boundary: the message, and where known the run folder and the newest weights saved in it, so a
 * caller can say what survives. Cancellation is not an error: jobs end with status 'cancelled'.
 */
export class JobError extends Error {
  /** The run folder the job was writing, or null when it failed before creating one. */
  readonly runDir: string | null;
  /** The newest checkpoint saved before the failure, or null when none had been. */
  readonly lastGoodCheckpoint: string | null;

  constructor(message: string, where: { runDir?: string | null; lastGoodCheckpoint?: string | null } = {}) {
    super(message);
    this.name = 'JobError';
    this.runDir = where.runDir ?? null;
    this.lastGoodCheckpoint = where.lastGoodCheckpoint ?? null;
  }
}
