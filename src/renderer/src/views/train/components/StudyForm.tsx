import { useState, type FormEvent } from 'react';
import { errorMessage, useReportError } from '../../../shell/errors';
import { defaultRunName, STUDY_COST, studyRequest, type StudyKind, type StudyRequest } from '../trainData';
import { NumberField } from './TrainForm';

/** The LoRA-vs-steering reproduction: LoRA, then steering vectors, into a new study folder. */
export function StudyForm({ taken, onStart }: { taken: ReadonlySet<string>; onStart: (req: StudyRequest) => Promise<unknown> }) {
  const report = useReportError();
  const [kind, setKind] = useState<StudyKind>('locations');
  const [name, setName] = useState<string | null>(null);
  const [stamp, setStamp] = useState(() => new Date());
  const [seed, setSeed] = useState('0');
  const [loraSteps, setLoraSteps] = useState('');
  const [steerSteps, setSteerSteps] = useState('');
  const [busy, setBusy] = useState(false);
  const [apiError, setApiError] = useState<string | null>(null);

  const form = { kind, name: name ?? defaultRunName(`study-${kind}`, stamp), seed, loraSteps, steerSteps };
  const { request, errors } = studyRequest(form, taken);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!request) return;
    setBusy(true);
    setApiError(null);
    try {
      await onStart(request);
      setName(null);
      setStamp(new Date());
    } catch (err) {
      setApiError(errorMessage(err));
      report(err, 'Start LoRA vs steering study');
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="train__form" onSubmit={submit} aria-label="LoRA vs steering study" data-testid="study-form">
      <label className="train__field">
        <span>Kind</span>
        <select value={kind} onChange={(e) => setKind(e.target.value as StudyKind)} data-testid="study-kind">
          <option value="locations">locations</option>
          <option value="backdoor">backdoor</option>
        </select>
      </label>
      <p className="train__hint" data-testid="study-cost">
        Fine-tunes the world-base model with LoRA, then trains steering vectors (two seeds) and compares them. Takes {STUDY_COST[kind]} with default steps.
      </p>
      <label className="train__field">
        <span>Name</span>
        <input type="text" value={form.name} onChange={(e) => setName(e.target.value)} aria-invalid={Boolean(errors.name)} data-testid="study-name" spellCheck={false} size={34} />
      </label>
      {errors.name && (
        <p className="train__field-error" data-testid="study-name-error">
          {errors.name}
        </p>
      )}
      <fieldset className="train__overrides">
        <legend>Settings</legend>
        <NumberField label="Seed" value={seed} onChange={setSeed} error={errors.seed} testId="study-seed" step="1" min="0" />
        <NumberField label="LoRA steps" value={loraSteps} onChange={setLoraSteps} error={errors.loraSteps} testId="study-lora-steps" step="1" min="1" />
        <NumberField label="Steering steps" value={steerSteps} onChange={setSteerSteps} error={errors.steerSteps} testId="study-steer-steps" step="1" min="1" />
      </fieldset>
      <div className="train__actions">
        <button type="submit" className="primary" disabled={!request || busy} data-testid="study-start">
          {busy ? 'Starting…' : 'Start study'}
        </button>
      </div>
      {apiError && (
        <p className="view__error" role="alert" data-testid="study-error">
          Could not start the study: {apiError}
        </p>
      )}
    </form>
  );
}
