import type { RunSummary } from '../../../shared/api';
import { useWorkspace } from './workspace';

/** A labelled <select> of the workspace's runs that `accept` admits. */
export function RunPicker({ label = 'Run', value, onChange, accept, testId }: { label?: string; value: string | null; onChange: (id: string) => void; accept: (r: RunSummary) => boolean; testId?: string }) {
  const { runs } = useWorkspace();
  const options = (runs.data ?? []).filter(accept);
  return (
    <label className="picker">
      {label}{' '}
      <select data-testid={testId} value={value ?? ''} onChange={(e) => onChange(e.target.value)} disabled={!options.length}>
        {!options.length && <option value="">(no suitable runs)</option>}
        {options.map((r) => (
          <option key={r.id} value={r.id}>
            {r.id}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Runs trained from scratch with checkpoints (what the analysis views can open). */
export const hasCheckpoints = (r: RunSummary): boolean => !r.error && (r.checkpoints ?? 0) > 0 && !r.finetune;
