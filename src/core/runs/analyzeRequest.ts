import type { AnalysisRequest, AnalysisResult } from '../../shared/api';
import type { HookName } from '../../shared/hooks';
import { ovSpectrum } from '../analysis/ovSpectrum';
import { projectRun } from '../analysis/projectRun';
import { ApiArgumentError } from '../apiErrors';
import { readManifest } from '../io/runStore';
import { openRun, openRunCheckpoints } from './openRun';
import { attentionOf, lensOf, patchingOf, projectFinetunedRun } from './runAnalyses';

/**
 * One `analyze` request of the API on a run folder `dir` (already resolved and checked to lie in the
 * workspace): the function the analysis worker runs.
 */
export function analyzeRequest(dir: string, req: AnalysisRequest): AnalysisResult {
  switch (req.kind) {
    case 'attention': {
      const run = openRun(dir, req.step);
      return { kind: 'attention', id: req.id, step: run.step, ...attentionOf(run, { prompt: req.prompt }) };
    }
    case 'logit-lens': {
      const run = openRun(dir, req.step);
      return { kind: 'logit-lens', id: req.id, step: run.step, vocab: [...run.vocab], ...lensOf(run, { prompt: req.prompt, answer: req.answer, topK: req.topK }) };
    }
    case 'patching': {
      const run = openRun(dir, req.step);
      return { kind: 'patching', id: req.id, step: run.step, ...patchingOf(run, { prompt: req.prompt, corrupt: req.corrupt, answer: req.answer, wrong: req.wrong }) };
    }
    case 'ov-spectrum': {
      const { config, checkpoints } = openRunCheckpoints(dir);
      return { kind: 'ov-spectrum', id: req.id, ov: config.ov, ovRank: config.ov === 'factorized' ? config.ovRank : undefined, ...ovSpectrum(config, checkpoints, { top: req.top }) };
    }
    case 'projection': {
      const o = { source: req.source === 'embed' ? ('embed' as const) : (req.source as HookName), method: req.method, promptsPerSet: req.promptsPerSet, nNeighbors: req.neighbors, minDist: req.minDist };
      if (readManifest(dir).finetune) {
        if (o.source === 'embed') throw new ApiArgumentError('a fine-tuned run shares its base model’s embeddings: project a hook such as blocks.0.hook_resid_post');
        return { kind: 'projection', id: req.id, ...projectFinetunedRun(dir, { ...o, source: o.source }) };
      }
      const run = openRun(dir, req.step);
      return { kind: 'projection', id: req.id, step: run.step, ...projectRun(run.config, run.params, run.vocab, run.task, o) };
    }
  }
}
