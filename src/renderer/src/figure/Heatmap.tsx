import { useEffect, useId, useMemo, useRef, useState } from 'react';
import { fmt, heatmapAnnotations, heatmapLayout, heatmapMaskMarkup, heatmapSvgBody, type HeatmapSpec } from './heatmapFigure';
import { colourOf, MASKED_FILL, rgbOf, useFigureTheme } from './theme';

export interface HeatmapProps extends HeatmapSpec {
  /** Called with the hovered cell (or null) — e.g. to highlight tokens elsewhere. */
  onHover?: (cell: { row: number; col: number } | null) => void;
  testId?: string;
}

/**
 * A matrix drawn on a pixelated canvas (one pixel per cell, scaled by CSS), with axes, labels and a
 * colour bar in SVG from the same layout the export uses. Hovering shows the cell's labels and value.
 */
export function Heatmap(props: HeatmapProps) {
  const theme = useFigureTheme();
  const canvas = useRef<HTMLCanvasElement>(null);
  const [hover, setHover] = useState<{ row: number; col: number } | null>(null);
  const L = useMemo(() => heatmapLayout(props, theme), [props, theme]);
  // Masked cells: grey on the canvas, hatched by the overlay (the same markup the export writes).
  const maskId = `hm${useId().replace(/[^A-Za-z0-9_-]/g, '')}`;
  const axes = useMemo(() => heatmapSvgBody(props, theme, { cells: false, idPrefix: maskId }), [props, theme, maskId]);
  const annotations = useMemo(() => heatmapMaskMarkup(props, theme, maskId) + heatmapAnnotations(props, theme), [props, theme, maskId]);
  const R = props.values.length;
  const C = R ? props.values[0].length : 0;

  useEffect(() => {
    const ctx = canvas.current?.getContext('2d');
    if (!ctx || !R || !C) return;
    const img = ctx.createImageData(C, R);
    for (let r = 0; r < R; r++)
      for (let c = 0; c < C; c++) {
        const [cr, cg, cb] = rgbOf(props.masked?.(r, c) ? MASKED_FILL : colourOf(props.scale, L.domain, props.values[r][c]));
        const o = (r * C + c) * 4;
        img.data[o] = cr;
        img.data[o + 1] = cg;
        img.data[o + 2] = cb;
        img.data[o + 3] = 255;
      }
    ctx.putImageData(img, 0, 0);
  }, [props.values, props.scale, props.masked, L.domain, R, C]);

  const onMove = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const box = e.currentTarget.getBoundingClientRect();
    const col = Math.floor(((e.clientX - box.left) / box.width) * C);
    const row = Math.floor(((e.clientY - box.top) / box.height) * R);
    const cell = row >= 0 && row < R && col >= 0 && col < C ? { row, col } : null;
    if (cell?.row !== hover?.row || cell?.col !== hover?.col) {
      setHover(cell);
      props.onHover?.(cell);
    }
  };

  return (
    <div className="heatmap" data-testid={props.testId} style={{ position: 'relative', width: L.totalWidth, height: L.totalHeight }}>
      <svg
        data-figure
        width={L.totalWidth}
        height={L.totalHeight}
        fontFamily={theme.fontFamily}
        fontSize={theme.fontSize}
        fill={theme.foreground}
        dangerouslySetInnerHTML={{ __html: axes }}
      />
      <canvas
        ref={canvas}
        width={C}
        height={R}
        className="heatmap__cells"
        style={{ position: 'absolute', left: L.x0, top: L.y0, width: L.width, height: L.height, imageRendering: 'pixelated' }}
        onMouseMove={onMove}
        onMouseLeave={() => {
          setHover(null);
          props.onHover?.(null);
        }}
      />
      {annotations && (
        <svg
          width={L.totalWidth}
          height={L.totalHeight}
          style={{ position: 'absolute', left: 0, top: 0, pointerEvents: 'none' }}
          fontFamily={theme.fontFamily}
          data-testid={props.masked ? 'heatmap-masked-overlay' : undefined}
          dangerouslySetInnerHTML={{ __html: annotations }}
        />
      )}
      {hover && (
        <div className="heatmap__tip" role="tooltip" style={{ left: L.x0 + (hover.col + 1) * L.cell + 4, top: L.y0 + hover.row * L.cell }}>
          {props.rowLabels[hover.row]} → {props.colLabels[hover.col]}: <strong>{props.masked?.(hover.row, hover.col) ? (props.maskedLabel ?? 'masked') : fmt(props.values[hover.row][hover.col])}</strong>
        </div>
      )}
    </div>
  );
}

/** The standalone-SVG body of a heatmap (vector cells), for Panel's `svg` export. */
export { heatmapSvgBody };
