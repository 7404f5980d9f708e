import { useState, type FormEvent } from 'react';
import { errorMessage, useReportError } from '../../../shell/errors';
import { defaultRunName, trainRequest, type TrainForm as Form, type TrainRequest } from '../trainData';

/** Preset, run name and optional overrides; Start calls startTraining. */
export function TrainForm({ presets, taken, onStart }: { presets: readonly { name: string; description: string }[]; taken: ReadonlySet<string>; onStart: (req: TrainRequest) => Promise<unknown> }) {
  const report = useReportError();
  const [preset, setPreset] = useState('');
  // null: the name follows the preset and the time of the last start (a fresh folder each time).
  const [name, setName] = useState<string | null>(null);
  const [stamp, setStamp] = useState(() => new Date());
  const [steps, setSteps] = useState('');
  const [seed, setSeed] = useState('');
  const [lr, setLr] = useState('');
  const [busy, setBusy] = useState(false);
  const [apiError, setApiError] = useState<string | null>(null);

  const presetName = preset || presets[0]?.name || '';
  const form: Form = { preset: presetName, name: name ?? defaultRunName(presetName, stamp), steps, seed, lr };
  const { request, errors } = trainRequest(form, taken);
  const description = presets.find((p) => p.name === presetName)?.description;

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
      report(err, 'Start training');
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="train__form" onSubmit={submit} aria-label="Train a model" data-testid="train-form">
      <label className="train__field">
        <span>Preset</span>
        <select value={presetName} onChange={(e) => setPreset(e.target.value)} data-testid="train-preset" disabled={!presets.length}>
          {presets.map((p) => (
            <option key={p.name} value={p.name}>
              {p.name}
            </option>
          ))}
        </select>
      </label>
      {description && (
        <p className="train__hint" data-testid="train-preset-description">
          {description}
        </p>
      )}
      <label className="train__field">
        <span>Run name</span>
        <input
          type="text"
          value={form.name}
          onChange={(e) => setName(e.target.value)}
          aria-invalid={Boolean(errors.name)}
          aria-describedby={errors.name ? 'train-name-error' : undefined}
          data-testid="train-name"
          spellCheck={false}
          size={34}
        />
      </label>
      {errors.name && (
        <p className="train__field-error" id="train-name-error" data-testid="train-name-error">
          {errors.name}
        </p>
      )}
      <fieldset className="train__overrides">
        <legend>Overrides (blank: the preset’s value)</legend>
        <NumberField label="Steps" value={steps} onChange={setSteps} error={errors.steps} testId="train-steps" step="1" min="1" />
        <NumberField label="Seed" value={seed} onChange={setSeed} error={errors.seed} testId="train-seed" step="1" min="0" />
        <NumberField label="Learning rate" value={lr} onChange={setLr} error={errors.lr} testId="train-lr" step="any" min="0" />
      </fieldset>
      <div className="train__actions">
        <button type="submit" className="primary" disabled={!request || busy} data-testid="train-start">
          {busy ? 'Starting…' : 'Start training'}
        </button>
      </div>
      {apiError && (
        <p className="view__error" role="alert" data-testid="train-error">
          Could not start training: {apiError}
        </p>
      )}
    </form>
  );
}

export function NumberField({ label, value, onChange, error, testId, step, min }: { label: string; value: string; onChange: (v: string) => void; error?: string; testId: string; step: string; min: string }) {
  return (
    <div className="train__number">
      <label className="train__field">
        <span>{label}</span>
        <input type="number" value={value} onChange={(e) => onChange(e.target.value)} step={step} min={min} placeholder="default" aria-invalid={Boolean(error)} data-testid={testId} />
      </label>
      {error && (
        <p className="train__field-error" data-testid={`${testId}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}
