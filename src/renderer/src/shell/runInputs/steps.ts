/** `step` when it is one of the checkpoints, else `fallback`. */
export function resolveStep(step: number | null | undefined, checkpoints: readonly number[], fallback: number): number {
  return step !== null && step !== undefined && checkpoints.includes(step) ? step : fallback;
}
