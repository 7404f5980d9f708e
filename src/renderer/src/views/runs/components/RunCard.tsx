import { escapeXml, standaloneSvg } from '../../../figure/exportFigure';
import { Panel } from '../../../figure/Panel';
import { textWidth, wrapText } from '../../../figure/text';
import type { FigureTheme } from '../../../figure/theme';
import { toCsv } from '../../../../../shared/csv';
import type { RunDetails } from '../../../../../shared/api';
import { runDetailRows, type DetailRow } from '../runsData';

const GROUPS: DetailRow['group'][] = ['Run', 'Final evaluation', 'Model', 'Training', 'Fine-tune'];

const n2 = (v: number): string => String(Math.round(v * 100) / 100);

/** Widest the card is laid out on screen (em of its type): past it, values wrap. */
const SCREEN_MAX_EM = 48;

/**
 * The card as a standalone SVG laid out with `theme`: as wide as `theme.fitWidth` for a column (else
 * as its longest line, at most 48 em), a heading per group, keys in a column sized to the longest key,
 * values wrapped at the width (measured in the figure font), so it prints at the theme's type.
 */
export function runCardSvg(rows: readonly DetailRow[], theme: FigureTheme, title: string): string {
  const fs = theme.fontSize;
  const lineH = fs * 1.3;
  const pad = Math.min(12, fs);
  const indent = fs * 0.6;
  const keyW = Math.max(0, ...rows.map((r) => textWidth(r.key, fs))) + fs;
  const natural = 2 * pad + indent + keyW + Math.max(0, ...rows.map((r) => textWidth(r.value, fs)));
  const width = Math.ceil(theme.fitWidth ?? Math.min(natural, SCREEN_MAX_EM * fs));
  const valueW = Math.max(fs * 4, width - 2 * pad - indent - keyW);
  const out: string[] = [];
  let y = fs * 0.4;
  for (const g of GROUPS) {
    const items = rows.filter((r) => r.group === g);
    if (!items.length) continue;
    y += lineH;
    out.push(`<text x="${n2(pad)}" y="${n2(y)}" font-weight="600">${escapeXml(g)}</text>`);
    for (const r of items) {
      const lines = wrapText(r.value, valueW, fs);
      y += lineH;
      out.push(`<text x="${n2(pad + indent)}" y="${n2(y)}" fill="${theme.muted}">${escapeXml(r.key)}</text>`);
      lines.forEach((l, i) => out.push(`<text x="${n2(pad + indent + keyW)}" y="${n2(y + i * lineH)}">${escapeXml(l)}</text>`));
      y += (lines.length - 1) * lineH;
    }
    y += fs * 0.35;
  }
  return standaloneSvg(out.join(''), width, Math.ceil(y + fs * 0.6), theme, { title });
}

/** The selected run's manifest in brief: model, training config, backend and time. */
export function RunCard({ details }: { details: RunDetails }) {
  const rows = runDetailRows(details);
  const title = `Run ${details.id}`;
  return (
    <Panel
      title={title}
      fileName={`run-${details.id.replace(/[^A-Za-z0-9._-]+/g, '_')}`}
      csv={() => toCsv(['group', 'field', 'value'], rows.map((r) => [r.group, r.key, r.value]))}
      svg={(t) => runCardSvg(rows, t, title)}
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
