import type { JobState } from '../jobs';

/** Jobs as the jobs context holds them after some pushed events. */

const base: Omit<JobState, 'jobId' | 'runId' | 'kind' | 'label' | 'startedAt'> = {
  status: 'running',
  step: 0,
  totalSteps: 0,
  stepsPerSecond: 0,
  etaSeconds: NaN,
  curve: [],
  log: [],
};

/** A training job a third of the way through: loss every ~100 ms, metrics every 50 steps. */
export const TRAINING: JobState = {
  ...base,
  jobId: 'job-1',
  runId: 'ocr-factorized-20260102-030405',
  kind: 'train',
  label: 'ocr-factorized-20260102-030405 (ocr-factorized)',
  startedAt: 1000,
  step: 100,
  totalSteps: 300,
  stepsPerSecond: 212.4,
  etaSeconds: 0.94,
  curve: [
    { step: 1, loss: 4.85, metrics: { train_fact_acc: 0.02, test_fact_acc: 0.03, test_impl_acc: 0.01 } },
    { step: 23, loss: 4.1 },
    { step: 50, loss: 3.6, metrics: { train_fact_acc: 0.07, test_fact_acc: 0.1, test_impl_acc: 0 } },
    { step: 71, loss: 3.2 },
    { step: 100, loss: 2.9, metrics: { train_fact_acc: 0.5, test_fact_acc: 0.58, test_impl_acc: 0 } },
  ],
};

/** A study in its second stage: LoRA finished, the steering vector is training. */
export const STUDY: JobState = {
  ...base,
  jobId: 'job-2',
  runId: 'study-locations-20260102-030500',
  kind: 'study',
  label: 'study-locations-20260102-030500 (locations, seed 0)',
  startedAt: 2000,
  step: 40,
  totalSteps: 200,
  stepsPerSecond: 80,
  etaSeconds: 2,
  curve: [
    { step: 1, loss: 11, metrics: { heldout_acc: 0, side_effect_acc: 1 } },
    { step: 50, loss: 0.002, metrics: { heldout_acc: 1, side_effect_acc: 0.93 } },
    { step: 1, loss: 9.5, metrics: { heldout_country_acc: 0, heldout_acc: 0 } },
    { step: 20, loss: 2.5 },
    { step: 40, loss: 0.4, metrics: { heldout_country_acc: 0.7, heldout_acc: 0.6 } },
  ],
  log: ['lora: fine-tuning 300 steps', 'steer: training the steering vector'],
};

export const FAILED: JobState = {
  ...TRAINING,
  jobId: 'job-3',
  startedAt: 3000,
  status: 'failed',
  log: ['loss became NaN at step 101; training stopped and the last good checkpoint is checkpoints/step-000100.safetensors'],
};

export const CANCELLED: JobState = { ...TRAINING, jobId: 'job-4', startedAt: 500, status: 'cancelled', step: 120 };
