import { useState } from 'react';
import type { PresetSummary } from '../../../../../shared/api';
import { defaultRunName, trainRequest, type TrainForm as Form, type TrainRequest } from '../trainData';
import { NameField, NumberField, StartActions, useStartForm } from './formParts';

/** Preset, run name and optional overrides; Start calls startTraining. */
export function TrainForm({ presets, taken, onStart }: { presets: readonly PresetSummary[]; taken: ReadonlySet<string>; onStart: (req: TrainRequest) => Promise<unknown> }) {
  const start = useStartForm(onStart, 'Start training');
  const [preset, setPreset] = useState('');
  const [steps, setSteps] = useState('');
  const [seed, setSeed] = useState('');
  const [lr, setLr] = useState('');
  const [weightDecay, setWeightDecay] = useState('');
  const [batchSize, setBatchSize] = useState('');
  const [ovRank, setOvRank] = useState('');

  const presetName = preset || presets[0]?.name || '';
  // The name follows the preset and the time of the last start until it is edited.
  const p = presets.find((x) => x.name === presetName);
  const factorized = p?.ovRank !== undefined;
  const form: Form = { preset: presetName, name: start.name ?? defaultRunName(presetName, start.stamp), steps, seed, lr, weightDecay, batchSize, ovRank: factorized ? ovRank : '' };
  const { request, errors } = trainRequest(form, taken);
  const description = p?.description;

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
        <NumberField label="Steps" value={steps} onChange={setSteps} error={errors.steps} testId="train-steps" step="1" min="1" placeholder={p && String(p.steps)} />
        <NumberField label="Seed" value={seed} onChange={setSeed} error={errors.seed} testId="train-seed" step="1" min="0" placeholder={p && String(p.seed)} />
        <NumberField label="Learning rate" value={lr} onChange={setLr} error={errors.lr} testId="train-lr" step="any" min="0" placeholder={p && String(p.lr)} />
        <NumberField label="Weight decay" value={weightDecay} onChange={setWeightDecay} error={errors.weightDecay} testId="train-weight-decay" step="any" min="0" placeholder={p && String(p.weightDecay)} />
        <NumberField label="Batch size" value={batchSize} onChange={setBatchSize} error={errors.batchSize} testId="train-batch-size" step="1" min="1" placeholder={p && String(p.batchSize)} />
        <NumberField
          label="OV rank"
          value={factorized ? ovRank : ''}
          onChange={setOvRank}
          error={errors.ovRank}
          testId="train-ov-rank"
          step="1"
          min="1"
          placeholder={factorized ? String(p?.ovRank) : 'factorized presets only'}
          disabled={!factorized}
        />
      </fieldset>
      <StartActions prefix="train" label="Start training" failure="Could not start training" form={start} disabled={!request} />
    </form>
  );
}
