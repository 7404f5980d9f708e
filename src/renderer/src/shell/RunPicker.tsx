import type { RunSummary } from '../../../shared/api';
import { useWorkspace } from './workspace';

/**
 * A labelled <select> of the workspace's runs that `accept` admits and, with `models`, its Hugging
 * Face models (a group of their own, by id and architecture).
 */
export function RunPicker({
  label = 'Run',
  value,
  onChange,
  accept,
  models: withModels = false,
  testId,
}: {
  label?: string;
  value: string | null;
  onChange: (id: string) => void;
  accept: (r: RunSummary) => boolean;
  /** Offer the workspace's models too (views whose analyses run on model folders). */
  models?: boolean;
  testId?: string;
}) {
  const { runs, models } = useWorkspace();
  const options = (runs.data ?? []).filter(accept);
  const modelOptions = withModels ? (models.data ?? []).filter((m) => !m.error) : [];
  const none = !options.length && !modelOptions.length;
  return (
    <label className="picker">
      {withModels && label === 'Run' ? 'Run or model' : label}{' '}
      <select data-testid={testId} value={value ?? ''} onChange={(e) => onChange(e.target.value)} disabled={none}>
        {none && <option value="">(no suitable runs)</option>}
        {modelOptions.length > 0 ? (
          <>
            <optgroup label="Runs">
              {options.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.id}
                </option>
              ))}
            </optgroup>
            <optgroup label="Models">
              {modelOptions.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.id} ({m.architecture})
                </option>
              ))}
            </optgroup>
          </>
        ) : (
          options.map((r) => (
            <option key={r.id} value={r.id}>
              {r.id}
            </option>
          ))
        )}
      </select>
    </label>
  );
}

/** Runs trained from scratch with checkpoints (what the analysis views can open). */
export const hasCheckpoints = (r: RunSummary): boolean => !r.error && (r.checkpoints ?? 0) > 0 && !r.finetune;
