import type { LegendEntry } from '../../../figure/exportFigure';

/** The legend on screen (recharts' own is HTML outside the SVG; exports draw `Panel.legend` instead). */
export function ScreenLegend({ entries }: { entries: readonly LegendEntry[] }) {
  if (entries.length < 1) return null;
  return (
    <ul aria-label="Legend" style={{ listStyle: 'none', display: 'flex', flexWrap: 'wrap', gap: '0.2rem 0.9rem', margin: '0.15rem 0 0', padding: 0, fontSize: '0.85rem' }}>
      {entries.map((e) => (
        <li key={e.label} style={{ display: 'flex', alignItems: 'center', gap: '0.35rem' }}>
          <span aria-hidden style={{ width: 12, height: 12, background: e.colour, display: 'inline-block', borderRadius: 2 }} />
          {e.label}
        </li>
      ))}
    </ul>
  );
}
