import { useState } from 'react';
import { defaultRunName, STUDY_COST, studyRequest, type StudyKind, type StudyRequest } from '../trainData';
import { NameField, NumberField, StartActions, useStartForm } from './formParts';

/** The LoRA-vs-steering reproduction: LoRA, then steering vectors, into a new study folder. */
export function StudyForm({ taken, onStart }: { taken: ReadonlySet<string>; onStart: (req: StudyRequest) => Promise<unknown> }) {
  const start = useStartForm(onStart, 'Start LoRA vs steering study');
  const [kind, setKind] = useState<StudyKind>('locations');
  const [seed, setSeed] = useState('0');
  const [loraSteps, setLoraSteps] = useState('');
  const [steerSteps, setSteerSteps] = useState('');

  const form = { kind, name: start.name ?? defaultRunName(`study-${kind}`, start.stamp), seed, loraSteps, steerSteps };
  const { request, errors } = studyRequest(form, taken);

  return (
    <form className="train__form" onSubmit={start.submit(request)} aria-label="LoRA vs steering study" data-testid="study-form">
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
      <NameField label="Name" value={form.name} onChange={start.setName} error={errors.name} testId="study-name" />
      <fieldset className="train__overrides">
        <legend>Settings</legend>
        <NumberField label="Seed" value={seed} onChange={setSeed} error={errors.seed} testId="study-seed" step="1" min="0" />
        <NumberField label="LoRA steps" value={loraSteps} onChange={setLoraSteps} error={errors.loraSteps} testId="study-lora-steps" step="1" min="1" />
        <NumberField label="Steering steps" value={steerSteps} onChange={setSteerSteps} error={errors.steerSteps} testId="study-steer-steps" step="1" min="1" />
      </fieldset>
      <StartActions prefix="study" label="Start study" failure="Could not start the study" form={start} disabled={!request} />
    </form>
  );
}
