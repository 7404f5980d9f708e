import { useState } from 'react';
import { defaultRunName, trainRequest, type TrainForm as Form, type TrainRequest } from '../trainData';
import { NameField, NumberField, StartActions, useStartForm } from './formParts';

/** Preset, run name and optional overrides; Start calls startTraining. */
export function TrainForm({ presets, taken, onStart }: { presets: readonly { name: string; description: string }[]; taken: ReadonlySet<string>; onStart: (req: TrainRequest) => Promise<unknown> }) {
  const start = useStartForm(onStart, 'Start training');
  const [preset, setPreset] = useState('');
  const [steps, setSteps] = useState('');
  const [seed, setSeed] = useState('');
  const [lr, setLr] = useState('');

  const presetName = preset || presets[0]?.name || '';
  // The name follows the preset and the time of the last start until it is edited.
  const form: Form = { preset: presetName, name: start.name ?? defaultRunName(presetName, start.stamp), steps, seed, lr };
  const { request, errors } = trainRequest(form, taken);
  const description = presets.find((p) => p.name === presetName)?.description;

  return (
    <form className="train__form" onSubmit={start.submit(request)} aria-label="Train a model" data-testid="train-form">
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
      <NameField label="Run name" value={form.name} onChange={start.setName} error={errors.name} testId="train-name" />
      <fieldset className="train__overrides">
        <legend>Overrides (blank: the preset’s value)</legend>
        <NumberField label="Steps" value={steps} onChange={setSteps} error={errors.steps} testId="train-steps" step="1" min="1" />
        <NumberField label="Seed" value={seed} onChange={setSeed} error={errors.seed} testId="train-seed" step="1" min="0" />
        <NumberField label="Learning rate" value={lr} onChange={setLr} error={errors.lr} testId="train-lr" step="any" min="0" />
      </fieldset>
      <StartActions prefix="train" label="Start training" failure="Could not start training" form={start} disabled={!request} />
    </form>
  );
}
