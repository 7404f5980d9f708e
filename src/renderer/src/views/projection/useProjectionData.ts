import { useMemo } from 'react';
import type { ProjectionAnalysis, RunDetails, RunSummary } from '../../../../shared/api';
import { useApi } from '../../shell/api';
import { useAsync } from '../../shell/useAsync';
import { checkProjection, sourceChoices, type ProjectionRequest, type Source } from './projectionData';

/** Runs the view can project: trained runs with checkpoints, and LoRA / steering-vector fine-tunes. */
/** Toy runs and their fine-tunes (a fine-tune of a model folder projects through the model and its adapter instead). */
export const canProject = (r: RunSummary): boolean => !r.error && !r.finetuneOfModel && ((r.checkpoints ?? 0) > 0 || r.finetune === 'lora' || r.finetune === 'steer');

export interface RunChoices {
  details: RunDetails;
  /** Fine-tuned runs: no checkpoint steps, no embedding source, and points come with origins. */
  finetune: boolean;
  choices: Source[];
  checkpoints: number[];
}

/** The run's manifest (for its hooks and checkpoints). */
export function useRunChoices(id: string | null) {
  const api = useApi();
  const run = useAsync<RunDetails>(id ? `run:${id}` : null, () => api.getRun({ id: id as string }));
  const choices = useMemo<RunChoices | null>(() => {
    const details = run.data;
    if (!details || details.id !== id) return null;
    const finetune = !!details.manifest.finetune;
    return { details, finetune, choices: sourceChoices(details.manifest.config.model, { embed: !finetune }), checkpoints: details.checkpoints };
  }, [run.data, id]);
  return { ...run, choices };
}

/** The projection for a request (null: nothing yet); keeps the last answer while the next loads. */
export function useProjection(req: ProjectionRequest | null) {
  const api = useApi();
  return useAsync<ProjectionAnalysis>(req ? JSON.stringify(req) : null, async () => checkProjection(await api.analyze(req as ProjectionRequest)));
}
