/** A labelled <select> of a run's checkpoint steps. */
export function StepSelect({ label, steps, value, onChange, testId }: { label: string; steps: readonly number[]; value: number | null; onChange: (step: number) => void; testId?: string }) {
  return (
    <label className="picker">
      {label}{' '}
      <select data-testid={testId} value={value ?? ''} onChange={(e) => onChange(Number(e.target.value))} disabled={!steps.length}>
        {!steps.length && <option value="">(no checkpoints)</option>}
        {steps.map((s) => (
          <option key={s} value={s}>
            step {s}
          </option>
        ))}
      </select>
    </label>
  );
}
