import { describe, expect, it } from 'vitest';
import { CANCELLED, FAILED, STUDY, TRAINING } from '../../shell/mocks/jobs';
import { activeJob, defaultRunName, formatEta, jobOutcome, jobsOfKind, parseOptionalNumber, progressText, runNameError, LR_RULE, stageLines, studyRequest, takenNames, trainRequest } from './trainData';

describe('run names', () => {
  it('defaults to preset plus local yyyymmdd-hhmmss', () => {
    expect(defaultRunName('ocr-factorized', new Date(2026, 0, 2, 3, 4, 5))).toBe('ocr-factorized-20260102-030405');
    expect(runNameError(defaultRunName('ocr-factorized', new Date()))).toBeNull();
  });

  it('refuses what cannot be a folder name', () => {
    expect(runNameError('')).toMatch(/Enter/);
    expect(runNameError('a b')).toMatch(/letters, digits/);
    expect(runNameError('group/name')).toMatch(/letters, digits/);
    expect(runNameError('..')).toMatch(/cannot be/);
    expect(runNameError('x'.repeat(201))).toMatch(/too long/);
    expect(runNameError('my_run.v2-1')).toBeNull();
  });

  it('refuses a name the workspace already uses, including study folders', () => {
    const taken = takenNames(['ocr-factorized', 'lora-vs-steering/lora', 'lora-vs-steering/steer']);
    expect([...taken]).toEqual(['ocr-factorized', 'lora-vs-steering/lora', 'lora-vs-steering', 'lora-vs-steering/steer']);
    expect(runNameError('ocr-factorized', taken)).toBe('A run named ocr-factorized already exists.');
    expect(runNameError('lora-vs-steering', taken)).toMatch(/already exists/);
    expect(runNameError('new-run', taken)).toBeNull();
    expect(studyRequest({ kind: 'locations', name: 'lora-vs-steering', seed: '0', loraSteps: '', steerSteps: '' }, taken).errors.name).toMatch(/already exists/);
  });
});

describe('trainRequest', () => {
  const form = { preset: 'ocr-factorized', name: 'r1', steps: '', seed: '', lr: '' };

  it('sends no overrides when all are blank', () => {
    expect(trainRequest(form)).toEqual({ request: { preset: 'ocr-factorized', name: 'r1' }, errors: {} });
  });

  it('sends only the overrides that are filled', () => {
    expect(trainRequest({ ...form, steps: '300', lr: ' 0.001 ' }).request).toEqual({ preset: 'ocr-factorized', name: 'r1', overrides: { steps: 300, lr: 0.001 } });
    expect(trainRequest({ ...form, seed: '0' }).request?.overrides).toEqual({ seed: 0 });
    expect(trainRequest({ ...form, ovRank: '4', batchSize: '64', weightDecay: '0' }).request?.overrides).toEqual({ ovRank: 4, batchSize: 64, weightDecay: 0 });
    expect(trainRequest({ ...form, ovRank: '2.5', batchSize: '0' }).errors).toEqual({ ovRank: 'OV rank must be a whole number.', batchSize: 'Batch size must be at least 1 and at most 100000.' });
  });

  it('reports each bad field and sends nothing', () => {
    const r = trainRequest({ preset: '', name: 'bad name', steps: '2.5', seed: '-1', lr: '0' });
    expect(r.request).toBeUndefined();
    expect(Object.keys(r.errors).sort()).toEqual(['lr', 'name', 'preset', 'seed', 'steps']);
    expect(r.errors.steps).toBe('Steps must be a whole number.');
    expect(r.errors.lr).toBe('Learning rate must be above 0 and at most 10.');
  });

  it('parses optional numbers', () => {
    expect(parseOptionalNumber('', LR_RULE)).toEqual({});
    expect(parseOptionalNumber('abc', LR_RULE).error).toMatch(/must be a number/);
    expect(parseOptionalNumber('1e-3', LR_RULE)).toEqual({ value: 0.001 });
    expect(parseOptionalNumber('11', LR_RULE).error).toMatch(/at most 10/);
  });
});

describe('studyRequest', () => {
  it('defaults the seed to 0 and leaves step counts to the backend', () => {
    expect(studyRequest({ kind: 'backdoor', name: 's', seed: '', loraSteps: '', steerSteps: '' }).request).toEqual({ name: 's', kind: 'backdoor', seed: 0 });
    expect(studyRequest({ kind: 'locations', name: 's', seed: '3', loraSteps: '100', steerSteps: '50' }).request).toEqual({ name: 's', kind: 'locations', seed: 3, loraSteps: 100, steerSteps: 50 });
  });

  it('refuses out-of-range steps', () => {
    const r = studyRequest({ kind: 'locations', name: 's', seed: '0', loraSteps: '0', steerSteps: '100001' });
    expect(r.request).toBeUndefined();
    expect(Object.keys(r.errors).sort()).toEqual(['loraSteps', 'steerSteps']);
  });
});

describe('progress and outcome', () => {
  it('writes step, rate and ETA', () => {
    expect(progressText(TRAINING)).toBe('step 100 / 300 · 212 it/s · ETA 1 s');
    expect(progressText({ ...TRAINING, stepsPerSecond: 3.25, etaSeconds: 125 })).toBe('step 100 / 300 · 3.3 it/s · ETA 2 min 05 s');
    expect(progressText({ ...TRAINING, step: 0, totalSteps: 0 })).toBe('starting…');
    expect(progressText(CANCELLED)).toBe('step 120 / 300 · 212 it/s · ETA 0 s');
    expect(formatEta(NaN)).toBe('—');
  });

  it('says how a job ended', () => {
    expect(jobOutcome(TRAINING)).toEqual({ tone: 'running', text: 'Running' });
    expect(jobOutcome({ ...TRAINING, status: 'completed' }).tone).toBe('ok');
    expect(jobOutcome(CANCELLED).text).toBe('Cancelled at step 120 (weights saved)');
    expect(jobOutcome(FAILED)).toEqual({ tone: 'error', text: `Failed: ${FAILED.log[0]}` });
    expect(stageLines(FAILED)).toEqual([]);
    expect(stageLines(STUDY)).toEqual(STUDY.log);
  });
});

describe('which job to show', () => {
  const jobs = [CANCELLED, TRAINING, STUDY, FAILED];

  it('lists jobs of a kind, newest first', () => {
    expect(jobsOfKind(jobs, 'train').map((j) => j.jobId)).toEqual(['job-3', 'job-1', 'job-4']);
    expect(jobsOfKind(jobs, 'study').map((j) => j.jobId)).toEqual(['job-2']);
  });

  it('shows the picked job, else the latest started', () => {
    expect(activeJob(jobs, 'train', null)?.jobId).toBe('job-3');
    expect(activeJob(jobs, 'train', 'job-4')?.jobId).toBe('job-4');
    // A pick of another kind (or a job no longer listed) falls back to the latest.
    expect(activeJob(jobs, 'train', 'job-2')?.jobId).toBe('job-3');
    expect(activeJob([], 'study', null)).toBeUndefined();
  });
});

describe('queued jobs', () => {
  it('say where they are in the queue, and become running when started', async () => {
    const { applyEvent } = await import('../../shell/jobs');
    let jobs = applyEvent([], { jobId: 'j', runId: 'r', kind: 'queued', position: 2 });
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ status: 'queued', position: 2 });
    expect(progressText(jobs[0])).toBe('waiting for a free slot (2nd in the queue)');
    expect(jobOutcome(jobs[0])).toEqual({ tone: 'running', text: 'Queued' });
    jobs = applyEvent(jobs, { jobId: 'j', runId: 'r', kind: 'started' });
    expect(jobs[0]).toMatchObject({ status: 'running', position: undefined });
    jobs = applyEvent(jobs, { jobId: 'j', runId: 'r', kind: 'finished', status: 'cancelled' });
    expect(jobs[0].status).toBe('cancelled');
  });
});
