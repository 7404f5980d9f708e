import type { KeyboardEvent } from 'react';
import type { SweepCellInfo } from '../../../../../shared/sweeps';
import { metricText, stepText } from '../sweepsData';

/**
 * Every cell of the sweep: id, its swept values, status, steps trained, the worker that trains it, and
 * the final metrics. Clicking a row (or Enter on it) opens the cell's run.
 */
export function SweepCellsTable({ cells, keys, metrics, onOpen }: { cells: readonly SweepCellInfo[]; keys: readonly string[]; metrics: readonly string[]; onOpen: (c: SweepCellInfo) => void }) {
  return (
    <div className="sweeps__table-wrap">
      <table className="data sweeps__table" data-testid="sweep-cells">
        <thead>
          <tr>
            <th>Cell</th>
            {keys.map((k) => (
              <th key={k} className="num">
                {k}
              </th>
            ))}
            <th>Status</th>
            <th className="num">Step</th>
            <th>Worker</th>
            {metrics.map((m) => (
              <th key={m} className="num">
                {m}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {cells.map((c) => {
            const pct = c.steps > 0 ? Math.min(100, (100 * c.step) / c.steps) : 0;
            return (
              <tr
                key={c.id}
                data-testid="sweep-cell-row"
                data-cell={c.id}
                data-status={c.status}
                tabIndex={0}
                title={`Open ${c.runId}`}
                onClick={() => onOpen(c)}
                onKeyDown={(e: KeyboardEvent) => e.key === 'Enter' && onOpen(c)}
              >
                <td className="sweeps__cell-id">{c.id}</td>
                {keys.map((k) => (
                  <td key={k} className="num">
                    {c.values[k] === undefined ? '—' : String(c.values[k])}
                  </td>
                ))}
                <td className={`runs__status runs__status--${c.status}`} title={c.error}>
                  {c.status}
                  {c.error ? ` (${c.error.length > 60 ? `${c.error.slice(0, 60)}…` : c.error})` : ''}
                </td>
                <td className="num sweeps__step">
                  <progress max={100} value={pct} aria-label={`Steps of ${c.id}`} /> {stepText(c)}
                </td>
                <td>{c.worker ?? '—'}</td>
                {metrics.map((m) => (
                  <td key={m} className="num">
                    {metricText(c.metrics?.[m])}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
