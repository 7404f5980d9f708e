import type { CSSProperties } from 'react';
import type { LegendEntry } from './exportFigure';

/** A legend entry on screen; `dashed` draws a line swatch dashed (e.g. the compared run's line style). */
export interface ScreenLegendEntry extends LegendEntry {
  dashed?: boolean;
}

export interface ScreenLegendProps {
  entries: readonly ScreenLegendEntry[];
  /** 'box': a filled square (bars, one colour per series); 'line': a short stroke, dashed where the entry is. */
  swatch?: 'box' | 'line';
  /** Overrides of the list's style (font size, gaps, an indent lining it up with the plot area). */
  style?: CSSProperties;
}

const LIST: CSSProperties = { listStyle: 'none', display: 'flex', flexWrap: 'wrap', gap: '0.2rem 0.9rem', margin: '0.15rem 0 0', padding: 0, fontSize: '0.85rem' };

/**
 * The legend on screen, as HTML under the chart: recharts' own legend would shrink the plot as
 * entries are added, and lies outside the SVG; exports draw the same entries through `Panel.legend`.
 * Renders nothing without entries.
 */
export function ScreenLegend({ entries, swatch = 'box', style }: ScreenLegendProps) {
  if (entries.length < 1) return null;
  return (
    <ul aria-label="Legend" style={{ ...LIST, ...style }}>
      {entries.map((e, i) => (
        <li key={`${i}|${e.label}`} style={{ display: 'flex', alignItems: 'center', gap: swatch === 'line' ? '0.3rem' : '0.35rem' }}>
          {swatch === 'line' ? (
            <svg width="22" height="10" aria-hidden="true">
              <line x1="1" y1="5" x2="21" y2="5" stroke={e.colour} strokeWidth={2} strokeDasharray={e.dashed ? '5 3' : undefined} />
            </svg>
          ) : (
            <span aria-hidden style={{ width: 12, height: 12, background: e.colour, display: 'inline-block', borderRadius: 2 }} />
          )}
          {e.label}
        </li>
      ))}
    </ul>
  );
}
