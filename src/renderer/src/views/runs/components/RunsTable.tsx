import { useEffect, useState, type KeyboardEvent, type MouseEvent } from 'react';
import type { RunSummary } from '../../../../../shared/api';
import { sweepOfRunId, type SweepListItem } from '../../../../../shared/sweeps';
import type { JobState } from '../../../shell/jobs';
import { hasCheckpoints } from '../../../shell/RunPicker';
import { groupRuns, runRow } from '../runsData';

const stop = (e: MouseEvent) => e.stopPropagation();

/** Columns of the table (the group row of a sweep spans them all). */
const COLUMNS = 9;

/**
 * The workspace's runs, one row each; a run whose run.json could not be read keeps its row and
 * shows why. The cells of a sweep (sweeps/<name>/runs/<cell>) sit under one collapsible row per
 * sweep, with how many of its cells completed; the sweep of the selected run opens by itself.
 * Clicking a row selects it; Open selects it and goes to the Weights view; Compare ticks any number
 * of runs to overlay on the selected one's curves.
 */
export function RunsTable({
  runs,
  sweeps,
  runId,
  compareIds,
  liveJobs,
  onSelect,
  onOpen,
  onCompare,
}: {
  runs: readonly RunSummary[];
  /** The workspace's sweeps (for each group's completed / total); optional. */
  sweeps?: readonly SweepListItem[];
  runId: string | null;
  /** The runs overlaid on the selected run's curves (any number). */
  compareIds: readonly string[];
  liveJobs: ReadonlyMap<string, JobState>;
  onSelect: (id: string) => void;
  onOpen: (id: string) => void;
  /** Ticks (true) or unticks a run for comparison. */
  onCompare: (id: string, compared: boolean) => void;
}) {
  const [open, setOpen] = useState<ReadonlySet<string>>(() => new Set());
  // The sweep holding the selected run shows its cells.
  const selectedSweep = runId ? sweepOfRunId(runId)?.sweep : undefined;
  useEffect(() => {
    if (selectedSweep) setOpen((o) => (o.has(selectedSweep) ? o : new Set([...o, selectedSweep])));
  }, [selectedSweep]);
  const toggle = (name: string) => setOpen((o) => (o.has(name) ? new Set([...o].filter((n) => n !== name)) : new Set([...o, name])));
  const row = (summary: RunSummary, inGroup: boolean) => {
            const r = runRow(summary);
            const selected = r.id === runId;
            const job = liveJobs.get(r.id);
            const openable = hasCheckpoints(summary);
            return (
              <tr
                key={r.id}
                data-testid="run-row"
                data-run-id={r.id}
                className={[selected ? 'selected' : '', inGroup ? 'runs__cell-row' : ''].join(' ').trim() || undefined}
                aria-selected={selected}
                tabIndex={0}
                onClick={() => onSelect(r.id)}
                onKeyDown={(e: KeyboardEvent) => e.key === 'Enter' && e.target === e.currentTarget && onSelect(r.id)}
              >
                <td className="runs__id">{inGroup ? <span title={r.id}>{sweepOfRunId(r.id)?.cell ?? r.id}</span> : r.id}</td>
                {r.error ? (
                  <td colSpan={7} className="runs__row-error" data-testid="run-error">
                    Unreadable run.json: {r.error}
                  </td>
                ) : (
                  <>
                    <td>{r.task}</td>
                    <td>{r.preset}</td>
                    <td className={`runs__status runs__status--${job ? 'running' : r.status}`}>{job ? 'running' : r.status}</td>
                    <td className="num">{job ? `${job.step} / ${job.totalSteps}` : (r.step ?? '—')}</td>
                    <td className="num">{r.checkpoints ?? '—'}</td>
                    <td>{r.finetune}</td>
                    <td className="runs__acc" title={r.accTitle || undefined}>
                      {r.accText || '—'}
                    </td>
                  </>
                )}
                <td>
                  <div className="runs__actions">
                    <button
                      type="button"
                      data-testid="run-open"
                      disabled={!openable}
                      title={openable ? 'Select this run and open it in Weights' : 'No checkpoints to analyse (fine-tune runs open from their study)'}
                      onClick={(e) => {
                        stop(e);
                        onOpen(r.id);
                      }}
                    >
                      Open
                    </button>
                    <label className="runs__compare" onClick={stop} title={selected ? 'This is the selected run' : 'Overlay this run on the selected run’s curves, in its own line style'}>
                      <input type="checkbox" data-testid="run-compare" checked={!selected && compareIds.includes(r.id)} disabled={selected || Boolean(r.error)} onChange={(e) => onCompare(r.id, e.target.checked)} /> Compare
                    </label>
                  </div>
                </td>
              </tr>
            );
  };
  return (
    <div className="runs__table-wrap">
      <table className="data runs__table" data-testid="runs-table">
        <thead>
          <tr>
            <th>Run</th>
            <th>Task</th>
            <th>Preset</th>
            <th>Status</th>
            <th className="num">Step</th>
            <th className="num" title="Saved checkpoints">Ckpts</th>
            <th>Fine-tune</th>
            <th title="Accuracy on held-out splits at the end of training (hover for every split)">Held-out accuracy</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {groupRuns(runs, sweeps).flatMap((item) => {
            if (item.kind === 'run') return [row(item.run, false)];
            const expanded = open.has(item.sweep);
            return [
              <tr key={`sweep:${item.sweep}`} className="runs__group" data-testid="sweep-group-row" data-sweep={item.sweep} data-expanded={expanded} onClick={() => toggle(item.sweep)}>
                <td colSpan={COLUMNS}>
                  <button type="button" className="runs__group-toggle" aria-expanded={expanded} data-testid="sweep-group-toggle" onClick={(e) => (stop(e), toggle(item.sweep))}>
                    {expanded ? '▾' : '▸'} sweep <strong>{item.sweep}</strong>
                  </button>{' '}
                  <span className="runs__group-count" data-testid="sweep-group-count">
                    {item.completed}/{item.total} completed
                  </span>
                  {item.state && item.state !== 'idle' ? <span className="runs__status--running"> ({item.state})</span> : null}
                  <span className="runs__group-hint"> · {item.runs.length} run folders (sweeps/{item.sweep}/runs/)</span>
                </td>
              </tr>,
              ...(expanded ? item.runs.map((r) => row(r, true)) : []),
            ];
          })}
        </tbody>
      </table>
    </div>
  );
}
