import { useEffect, useImperativeHandle, useRef, useState, type Ref } from 'react';
import type { PointLabel } from '../../../../../shared/analysis';
import { useFigureTheme } from '../../../figure/theme';
import { errorMessage } from '../../../shell/errors';
import type { CameraView, Normalised } from '../projectionData';
import { createScatterScene, type ScatterScene } from './scatterScene';

export interface Scatter3DHandle {
  resetView(): void;
  /** The camera now. */
  cameraView(): CameraView;
  /** Size of the view on screen (CSS px). */
  size(): { width: number; height: number };
  /** The export's camera: the view direction now, the whole scene framed in width × height (see ScatterScene). */
  exportView(width: number, height: number, insetPx: number, labelPads: readonly { x: number; y: number }[]): CameraView;
  /** The scene rendered from the export camera at `pixelRatio` pixels per unit, as a PNG data URL, with its view. */
  renderExport(width: number, height: number, insetPx: number, labelPads: readonly { x: number; y: number }[], pixelRatio: number): { view: CameraView; image: string };
}

export interface Scatter3DProps {
  data: Normalised;
  labels: readonly PointLabel[];
  /** Per point '#rrggbb'. */
  colours: readonly string[];
  /** Sphere radius in frame units (the data span [−1, 1]). */
  radius: number;
  showArrows: boolean;
  /** PC1… labels at the axes, or null for no axes (UMAP). */
  axisLabels: readonly string[] | null;
  pinned: number | null;
  onPin: (index: number | null) => void;
  handle: Ref<Scatter3DHandle>;
  testId?: string;
}

function running(s: ScatterScene | null): ScatterScene {
  if (!s) throw new Error('the 3D view is not running');
  return s;
}

/**
 * Orbitable 3D scatter: drag to rotate, wheel to zoom (toward the cursor), right-drag to pan; hover a
 * point for its labels, click to pin it. The three.js scene is created once per mount and fed through
 * setters, so prop changes mutate buffers instead of rebuilding anything.
 */
export function Scatter3D({ data, labels, colours, radius, showArrows, axisLabels, pinned, onPin, handle, testId }: Scatter3DProps) {
  const host = useRef<HTMLDivElement>(null);
  const scene = useRef<ScatterScene | null>(null);
  const theme = useFigureTheme();
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    try {
      scene.current = createScatterScene(el, theme);
    } catch (err) {
      console.error('Projection: WebGL', err);
      setError(`3D view unavailable (WebGL could not start): ${errorMessage(err)}`);
      return;
    }
    return () => {
      scene.current?.dispose();
      scene.current = null;
    };
    // The scene lives as long as the component; the theme is applied below when it changes.
  }, []);

  useEffect(() => scene.current?.setTheme(theme), [theme]);
  useEffect(() => scene.current?.setOnPin(onPin), [onPin]);
  useEffect(() => scene.current?.setData(data, labels), [data, labels]);
  useEffect(() => scene.current?.setColours(colours), [colours]);
  useEffect(() => scene.current?.setRadius(radius), [radius]);
  useEffect(() => scene.current?.setShowArrows(showArrows), [showArrows]);
  useEffect(() => scene.current?.setAxisLabels(axisLabels), [axisLabels]);
  useEffect(() => scene.current?.setPinned(pinned), [pinned]);

  useImperativeHandle(
    handle,
    () => ({
      resetView: () => scene.current?.resetView(),
      cameraView: () => running(scene.current).cameraView(),
      size: () => running(scene.current).size(),
      exportView: (w, h, inset, pads) => running(scene.current).exportView(w, h, inset, pads),
      renderExport: (w, h, inset, pads, ratio) => running(scene.current).renderExport(w, h, inset, pads, ratio),
    }),
    [],
  );

  return (
    <div className="projection__canvas" ref={host} data-testid={testId} role="img" aria-label="3D scatter of the projected points: drag to orbit, scroll to zoom, right-drag to pan, click a point to pin it">
      {error && (
        <p className="view__error projection__gl-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
