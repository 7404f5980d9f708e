import { escapeXml, standaloneSvg } from '../../../figure/exportFigure';
import { Panel } from '../../../figure/Panel';
import { useFigureTheme } from '../../../figure/theme';
import { toCsv } from '../../../../../shared/csv';
import type { RunDetails } from '../../../../../shared/api';
import { detailRowsSvg, runDetailRows, type DetailRow } from '../runsData';

const GROUPS: DetailRow['group'][] = ['Run', 'Final evaluation', 'Model', 'Training', 'Fine-tune'];

/** The selected run's manifest in brief: model, training config, backend and time. */
export function RunCard({ details }: { details: RunDetails }) {
  const theme = useFigureTheme();
  const rows = runDetailRows(details);
  const title = `Run ${details.id}`;
  return (
    <Panel
      title={title}
      fileName={`run-${details.id.replace(/[^A-Za-z0-9._-]+/g, '_')}`}
      csv={() => toCsv(['group', 'field', 'value'], rows.map((r) => [r.group, r.key, r.value]))}
      svg={() => {
        const t = detailRowsSvg(rows, theme.fontSize, escapeXml);
        return standaloneSvg(t.body, t.width, t.height, theme, { title });
      }}
      testId="run-details"
    >
      <div className="runs__card">
        {GROUPS.map((g) => {
          const items = rows.filter((r) => r.group === g);
          if (!items.length) return null;
          return (
            <dl key={g} className="runs__card-group">
              <dt className="runs__card-heading">{g}</dt>
              {items.map((r) => (
                <div key={r.key} className="runs__card-item" data-field={r.key}>
                  <dt>{r.key}</dt>
                  <dd>{r.value}</dd>
                </div>
              ))}
            </dl>
          );
        })}
      </div>
    </Panel>
  );
}
