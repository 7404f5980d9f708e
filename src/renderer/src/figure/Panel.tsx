import { useEffect, useRef, useState, useSyncExternalStore, type ReactNode } from 'react';
import { useReportError } from '../shell/errors';
import { canvasToPng, finishSvg, saveBlob, saveText, slug, svgElementToStandalone, svgToPng, type LegendEntry } from './exportFigure';
import { loadFigureFont } from './font';
import { EXPORT_PRESETS, pngScale, presetById, presetPixelWidth, presetWidthPt, PRINT_FONT_PT, printTheme, svgBox, type ExportPreset, type PresetId } from './presets';
import { ThemeContext, useFigureTheme, type FigureTheme } from './theme';

export interface PanelProps {
  title: string;
  /** Short description under the title (what is plotted, units). */
  caption?: ReactNode;
  /** Base of exported file names (default: the title, slugged). */
  fileName?: string;
  /**
   * Standalone SVG document of the figure, laid out with `theme`: the figure theme on screen, or a
   * print theme (type in points, `fitWidth` = the column) for the size presets. A figure that ignores
   * the theme is scaled to the column instead. Default: the first <svg> inside the panel, serialised
   * (for a print preset, from a copy rendered off screen with the print theme).
   */
  svg?: (theme: FigureTheme) => string | Promise<string>;
  /**
   * For figures whose PNG is not their SVG rasterised (a WebGL scene): an SVG document laid out like
   * the `svg` one, whose raster parts are drawn at `pixelsPerUnit` pixels per layout unit. Panel
   * rasterises it at that scale.
   */
  pngSvg?: (theme: FigureTheme, pixelsPerUnit: number) => string | Promise<string>;
  /** PNG of the figure (older figures). Default: the SVG rasterised (2× on screen, 300 dpi in print). */
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

// ─── The export size, shared by every panel (and remembered) ──────────────────────────────────────

const PRESET_KEY = 'oocr.figure.exportPreset';
let currentPreset: PresetId = (() => {
  try {
    return presetById(globalThis.localStorage?.getItem(PRESET_KEY) ?? 'screen').id;
  } catch {
    return 'screen';
  }
})();
const listeners = new Set<() => void>();

export function setExportPreset(id: PresetId): void {
  currentPreset = id;
  try {
    globalThis.localStorage?.setItem(PRESET_KEY, id);
  } catch {
    // Storage unavailable: the choice lasts for this page only.
  }
  listeners.forEach((l) => l());
}

function useExportPreset(): ExportPreset {
  const id = useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => currentPreset,
    () => currentPreset,
  );
  return presetById(id);
}

/** Resolves after two animation frames: whatever React committed has been laid out and painted. */
function frames(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve())));
}

/** A figure whose width is this far from the column's was not laid out for it: lay it out again at its own scale. */
const REFIT_TOLERANCE = 0.06;
/**
 * A figure of fixed width was designed around its theme's type: laid out again for print, its type
 * never grows past it (a wide figure then prints below 8 pt rather than with its labels colliding).
 */
const MAX_TYPE_GROWTH = 1;

/**
 * One figure with its export buttons. Exports go through the same functions whatever the figure
 * (recharts SVG, heatmap, 3D canvas), so every panel writes PNG, SVG and CSV the same way, at the size
 * chosen in the header: the screen, or a journal column (laid out again with 8 pt type, SVG in inches,
 * PNG at 300 dpi). Every SVG carries the figure font.
 */
export function Panel({ title, caption, fileName, svg, pngSvg, png, csv, legend, controls, children, testId }: PanelProps) {
  const theme = useFigureTheme();
  const body = useRef<HTMLDivElement>(null);
  const offscreen = useRef<HTMLDivElement>(null);
  const report = useReportError();
  const [busy, setBusy] = useState(false);
  const preset = useExportPreset();
  const base = fileName ?? slug(title);
  // The children rendered off screen with a print theme (default exports of print presets).
  const [offTheme, setOffTheme] = useState<FigureTheme | null>(null);
  const offDrawn = useRef<(() => void) | null>(null);

  useEffect(() => {
    void loadFigureFont();
  }, []);

  useEffect(() => {
    const done = offDrawn.current;
    if (!offTheme || !done) return;
    offDrawn.current = null;
    void frames().then(done);
  }, [offTheme]);

  const renderOffscreen = (t: FigureTheme): Promise<void> =>
    new Promise((resolve) => {
      offDrawn.current = resolve;
      setOffTheme(t);
    });

  const domSvg = (root: HTMLElement | null, t: FigureTheme): string => {
    const el = root?.querySelector('svg.recharts-surface, svg[data-figure]') ?? root?.querySelector('svg');
    if (!el) throw new Error(`${title}: nothing to export yet`);
    return svgElementToStandalone(el as SVGSVGElement, t, { title, legend });
  };

  /** The figure's SVG document laid out with `t` (`t` is the panel's theme for the screen preset). */
  const figureSvg = async (t: FigureTheme): Promise<string> => {
    if (svg) return svg(t);
    if (t === theme) return domSvg(body.current, t);
    await renderOffscreen(t);
    return domSvg(offscreen.current, t);
  };

  /**
   * The theme to lay the figure out with for `p`, and the document: for a print preset, first at the
   * column's width; a figure that kept its own width is laid out again with type scaled to it, so it
   * too prints at 8 pt once scaled to the column.
   */
  const layout = async (p: ExportPreset, make: (t: FigureTheme) => Promise<string>): Promise<{ doc: string; theme: FigureTheme }> => {
    if (p.widthIn === null) return { doc: await make(theme), theme };
    let t = printTheme(theme, p);
    let doc = await make(t);
    const { width } = svgBox(doc);
    if (t.fitWidth && Math.abs(width - t.fitWidth) / t.fitWidth > REFIT_TOLERANCE) {
      const k = Math.min(width / presetWidthPt(p), (theme.fontSize * MAX_TYPE_GROWTH) / PRINT_FONT_PT);
      t = printTheme(theme, p, k);
      doc = await make(t);
    }
    return { doc, theme: t };
  };

  const exportSvg = async (p: ExportPreset): Promise<string> => {
    try {
      const { doc } = await layout(p, figureSvg);
      return finishSvg(doc, p);
    } finally {
      setOffTheme(null);
    }
  };

  const exportPng = async (p: ExportPreset): Promise<Blob> => {
    await loadFigureFont();
    try {
      if (pngSvg) {
        // Laid out like the SVG first (its width decides the pixels per unit), then drawn with the raster parts.
        const { doc, theme: t } = await layout(p, figureSvg);
        const scale = pngScale(p, svgBox(doc).width);
        return await svgToPng(finishSvg(await pngSvg(t, scale), p), scale);
      }
      if (png && (p.widthIn === null || !svg)) {
        const blob = await png();
        return p.widthIn === null ? blob : await resample(blob, presetPixelWidth(p) as number);
      }
      const { doc } = await layout(p, figureSvg);
      return await svgToPng(finishSvg(doc, p), pngScale(p, svgBox(doc).width));
    } finally {
      setOffTheme(null);
    }
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

  const suffix = preset.widthIn === null ? '' : `-${preset.id}-column`;
  return (
    <section className="panel" data-testid={testId} aria-label={title}>
      <header className="panel__header">
        <h3 className="panel__title">{title}</h3>
        <div className="panel__controls">{controls}</div>
        <div className="panel__exports" role="group" aria-label={`Export ${title}`}>
          <select aria-label="Export size" title="Size of exported figures (every panel)" value={preset.id} disabled={busy} onChange={(e) => setExportPreset(e.target.value as PresetId)}>
            {EXPORT_PRESETS.map((p) => (
              <option key={p.id} value={p.id}>
                {p.label}
              </option>
            ))}
          </select>
          <button type="button" disabled={busy} onClick={run('PNG', async () => saveBlob(await exportPng(preset), `${base}${suffix}.png`))}>
            PNG
          </button>
          {(svg !== undefined || png === undefined) && (
            <button type="button" disabled={busy} onClick={run('SVG', async () => saveText(await exportSvg(preset), `${base}${suffix}.svg`, 'image/svg+xml'))}>
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
      {offTheme && (
        // The figure again, with the print theme, for the export to serialise; never seen or reached.
        <div ref={offscreen} aria-hidden="true" inert style={{ position: 'fixed', left: -100_000, top: 0, pointerEvents: 'none' }} data-export-copy="">
          <ThemeContext.Provider value={offTheme}>{children}</ThemeContext.Provider>
        </div>
      )}
    </section>
  );
}

/** A PNG scaled to `width` pixels (for figures that only make their own PNG). */
async function resample(blob: Blob, width: number): Promise<Blob> {
  const bitmap = await createImageBitmap(blob);
  const height = Math.round((bitmap.height * width) / bitmap.width);
  return canvasToPng(width, height, (ctx) => {
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, 0, 0, width, height);
  });
}
