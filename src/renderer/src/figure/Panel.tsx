import { useRef, useState, type ReactNode } from 'react';
import { useReportError } from '../shell/errors';
import { saveBlob, saveText, slug, svgElementToStandalone, svgToPng, type LegendEntry } from './exportFigure';
import { useFigureTheme } from './theme';

export interface PanelProps {
  title: string;
  /** Short description under the title (what is plotted, units). */
  caption?: ReactNode;
  /** Base of exported file names (default: the title, slugged). */
  fileName?: string;
  /** Standalone SVG document of the figure. Default: the first <svg> inside the panel, serialised. */
  svg?: () => string;
  /** PNG of the figure. Default: the SVG rasterised at 2×. */
  png?: () => Promise<Blob>;
  /** The plotted data as CSV. */
  csv?: () => string;
  /** Legend drawn into exported SVG/PNG (recharts draws its legend in HTML, outside the SVG). */
  legend?: LegendEntry[];
  /** Extra controls in the header (selectors). */
  controls?: ReactNode;
  children: ReactNode;
  testId?: string;
}

/**
 * One figure with its export buttons. Exports go through the same functions whatever the figure
 * (recharts SVG, heatmap, 3D canvas), so every panel writes PNG, SVG and CSV the same way.
 */
export function Panel({ title, caption, fileName, svg, png, csv, legend, controls, children, testId }: PanelProps) {
  const theme = useFigureTheme();
  const body = useRef<HTMLDivElement>(null);
  const report = useReportError();
  const [busy, setBusy] = useState(false);
  const base = fileName ?? slug(title);

  const svgText = (): string => {
    if (svg) return svg();
    const el = body.current?.querySelector('svg.recharts-surface, svg[data-figure]') ?? body.current?.querySelector('svg');
    if (!el) throw new Error(`${title}: nothing to export yet`);
    return svgElementToStandalone(el as SVGSVGElement, theme, { title, legend });
  };

  const run = (what: string, fn: () => Promise<void> | void) => async () => {
    setBusy(true);
    try {
      await fn();
    } catch (err) {
      report(err, `Export ${what} of “${title}”`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel" data-testid={testId} aria-label={title}>
      <header className="panel__header">
        <h3 className="panel__title">{title}</h3>
        <div className="panel__controls">{controls}</div>
        <div className="panel__exports" role="group" aria-label={`Export ${title}`}>
          <button type="button" disabled={busy} onClick={run('PNG', async () => saveBlob(png ? await png() : await svgToPng(svgText(), 2), `${base}.png`))}>
            PNG
          </button>
          {(svg !== undefined || png === undefined) && (
            <button type="button" disabled={busy} onClick={run('SVG', () => saveText(svgText(), `${base}.svg`, 'image/svg+xml'))}>
              SVG
            </button>
          )}
          {csv && (
            <button type="button" disabled={busy} onClick={run('CSV', () => saveText(csv(), `${base}.csv`, 'text/csv'))}>
              CSV
            </button>
          )}
        </div>
      </header>
      {caption && <p className="panel__caption">{caption}</p>}
      <div className="panel__body" ref={body}>
        {children}
      </div>
    </section>
  );
}
