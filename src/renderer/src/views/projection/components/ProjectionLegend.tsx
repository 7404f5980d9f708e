import { categoryLabel, type ColourAssignment, type ColourField } from '../projectionData';

/**
 * The colour key: one row per category with its count (when colours are hashed, the largest ones).
 * Clicking a row focuses that category (the others fade); clicking it again clears the focus.
 */
export function ProjectionLegend({ colours, field, focus, onFocus, testId }: { colours: ColourAssignment; field: ColourField; focus: string | null; onFocus: (c: string | null) => void; testId?: string }) {
  return (
    <div className="projection__legend" data-testid={testId} aria-label={`Colour key: ${field}`}>
      <ul>
        {colours.legend.map((e) => (
          <li key={e.label}>
            <button
              type="button"
              className={focus === null ? undefined : focus === e.label ? 'projection__legend-item--focus' : 'projection__legend-item--faded'}
              aria-pressed={focus === e.label}
              title={`${e.label}: ${e.count} point${e.count === 1 ? '' : 's'}. Click to ${focus === e.label ? 'show all' : 'highlight'}.`}
              onClick={() => onFocus(focus === e.label ? null : e.label)}
            >
              <span className="projection__swatch" style={{ background: e.colour }} aria-hidden="true" />
              <span className="projection__legend-label">{categoryLabel(e.label, field)}</span>
              <span className="projection__legend-count">{e.count}</span>
            </button>
          </li>
        ))}
      </ul>
      {colours.hashed && (
        <p className="projection__legend-note">
          {colours.total} {field}s: the {colours.legend.length} largest shown; colours are hashed from names and repeat.
        </p>
      )}
    </div>
  );
}
