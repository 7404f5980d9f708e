import { useMemo, useState } from 'react';
import type { JobState } from '../../shell/jobs';
import { useNavigate } from '../../shell/navigation';
import { useWorkspace } from '../../shell/workspace';
import { JobMonitor } from './components/JobMonitor';
import { StudyForm } from './components/StudyForm';
import { TrainForm } from './components/TrainForm';
import { activeJob, jobsOfKind, takenNames } from './trainData';
import { useTrainData } from './useTrainData';
import './train.css';
import { ErrorWithRetry } from '../../shell/ErrorWithRetry';

/**
 * Train: start a preset training run or a LoRA-vs-steering study and watch it. Job state lives in
 * the jobs context, so leaving the view and coming back shows the same jobs, still updating.
 */
export function TrainView() {
  const { presets, jobs, startTraining, startStudy, cancel } = useTrainData();
  const navigate = useNavigate();
  const { runs, setRunId } = useWorkspace();
  const [pickedTrain, setPickedTrain] = useState<string | null>(null);
  const [pickedStudy, setPickedStudy] = useState<string | null>(null);
  const trainJob = activeJob(jobs, 'train', pickedTrain);
  const studyJob = activeJob(jobs, 'study', pickedStudy);

  const openRun = (id: string) => {
    setRunId(id);
    navigate('runs');
  };
  const runExists = (id: string) => (runs.data ?? []).some((r) => r.id === id);
  // Names in use: listed runs plus this session's jobs (a run just started may not be listed yet).
  const taken = useMemo(() => takenNames([...(runs.data ?? []).map((r) => r.id), ...jobs.map((j) => j.runId)]), [runs.data, jobs]);

  return (
    <div className="train" data-testid="view-train">
      <section className="train__section" aria-label="Training">
        <h2 className="train__heading">Train a model</h2>
        {presets.status === 'error' && (
          <ErrorWithRetry onRetry={presets.reload} testId="presets-error">
            Could not load presets: {presets.error}
          </ErrorWithRetry>
        )}
        {presets.status === 'loading' && !presets.data && <p className="view__loading">Loading presets…</p>}
        {presets.data && (
          <TrainForm
            presets={presets.data}
            taken={taken}
            onStart={async (req) => {
              const r = await startTraining(req);
              setPickedTrain(r.jobId);
            }}
          />
        )}
        <JobPicker kind="train" jobs={jobs} value={trainJob?.jobId ?? null} onChange={setPickedTrain} />
        {trainJob ? (
          <JobMonitor
            job={trainJob}
            prefix="train"
            onCancel={cancel}
            actions={
              <button type="button" onClick={() => openRun(trainJob.runId)} data-testid="train-open-run">
                Open {trainJob.runId} in Runs
              </button>
            }
          />
        ) : (
          <p className="view__empty">No training started in this session.</p>
        )}
      </section>

      <section className="train__section" aria-label="LoRA vs steering study">
        <h2 className="train__heading">LoRA vs steering study</h2>
        <StudyForm
          taken={taken}
          onStart={async (req) => {
            const r = await startStudy(req);
            setPickedStudy(r.jobId);
          }}
        />
        <JobPicker kind="study" jobs={jobs} value={studyJob?.jobId ?? null} onChange={setPickedStudy} />
        {studyJob ? (
          <JobMonitor
            job={studyJob}
            prefix="study"
            onCancel={cancel}
            actions={
              <>
                <button type="button" onClick={() => navigate('lora-steering')} data-testid="study-open">
                  Open in LoRA vs Steering
                </button>
                {runExists(`${studyJob.runId}/lora`) && (
                  <button type="button" onClick={() => openRun(`${studyJob.runId}/lora`)} data-testid="study-open-run">
                    Open its LoRA run in Runs
                  </button>
                )}
              </>
            }
          />
        ) : (
          <p className="view__empty">No study started in this session.</p>
        )}
      </section>
    </div>
  );
}

/** Chooses among this session's jobs of a kind (shown once there are two). */
function JobPicker({ kind, jobs, value, onChange }: { kind: JobState['kind']; jobs: readonly JobState[]; value: string | null; onChange: (id: string) => void }) {
  const list = jobsOfKind(jobs, kind);
  if (list.length < 2) return null;
  return (
    <label className="picker train__job-picker">
      Job{' '}
      <select value={value ?? ''} onChange={(e) => onChange(e.target.value)} data-testid={`${kind}-job-select`}>
        {list.map((j) => (
          <option key={j.jobId} value={j.jobId}>
            {j.label} — {j.status}
          </option>
        ))}
      </select>
    </label>
  );
}
