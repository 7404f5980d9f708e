import type { ModelLoadingEvent } from '../../../shared/api';
import { loadingPercent, loadingText } from '../../../shared/modelLoading';

/** A model folder the backend is reading for an analysis, as the status bar shows it. */
export interface ModelLoad {
  /** The model id, and ' + adapter' when one was asked for: one row per pair. */
  key: string;
  text: string;
  percent: number;
  bytesRead: number;
  totalBytes: number;
}

const keyOf = (e: ModelLoadingEvent): string => (e.adapter !== undefined ? `${e.id} + ${e.adapter}` : e.id);

/**
 * Applies one `model-loading` event (pure; tested without a DOM): a row per model being read, updated
 * in place, gone with the load's last event (`done`). Never goes backwards within one load.
 */
export function applyModelLoading(loads: readonly ModelLoad[], e: ModelLoadingEvent): ModelLoad[] {
  const key = keyOf(e);
  const rest = loads.filter((l) => l.key !== key);
  if (e.done) return rest;
  const prior = loads.find((l) => l.key === key);
  const bytesRead = prior && prior.totalBytes === e.totalBytes ? Math.max(prior.bytesRead, e.bytesRead) : e.bytesRead;
  const row: ModelLoad = { key, text: loadingText({ ...e, bytesRead }), percent: loadingPercent(bytesRead, e.totalBytes), bytesRead, totalBytes: e.totalBytes };
  return prior ? loads.map((l) => (l.key === key ? row : l)) : [...rest, row];
}
