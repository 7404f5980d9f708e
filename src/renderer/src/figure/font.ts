import greek400 from '@fontsource/arimo/files/arimo-greek-400-normal.woff2?inline';
import greek600 from '@fontsource/arimo/files/arimo-greek-600-normal.woff2?inline';
import latin400 from '@fontsource/arimo/files/arimo-latin-400-normal.woff2?inline';
import latin600 from '@fontsource/arimo/files/arimo-latin-600-normal.woff2?inline';

/**
 * The figure font: Arimo (SIL OFL, from @fontsource/arimo), metric-compatible with Helvetica and
 * Arial, so a viewer that ignores the embedded font still sets every line at the same width. Figures
 * are laid out with its advance widths (fontMetrics.ts), drawn with it on screen (loaded from bytes,
 * so the page's CSP needs no font-src), and exported SVGs carry it as WOFF2 data URIs in an
 * @font-face: the latin subset always, the greek one when the figure has greek letters, each at the
 * weights the figure uses (400 text, 600 titles).
 */

export const FIGURE_FONT = 'Arimo';
/** The font stack every figure uses: the embedded font first, then its metric twins. */
export const FIGURE_FONT_FAMILY = `${FIGURE_FONT}, 'Liberation Sans', Helvetica, Arial, sans-serif`;

interface Face {
  subset: 'latin' | 'greek';
  weight: 400 | 600;
  dataUri: string;
  /** The subset's unicode-range (as @fontsource declares it). */
  range: string;
}

const LATIN_RANGE = 'U+0000-00FF,U+0131,U+0152-0153,U+02BB-02BC,U+02C6,U+02DA,U+02DC,U+0304,U+0308,U+0329,U+2000-206F,U+20AC,U+2122,U+2191,U+2193,U+2212,U+2215,U+FEFF,U+FFFD';
const GREEK_RANGE = 'U+0370-0377,U+037A-037F,U+0384-038A,U+038C,U+038E-03A1,U+03A3-03FF';

export const FACES: readonly Face[] = [
  { subset: 'latin', weight: 400, dataUri: latin400, range: LATIN_RANGE },
  { subset: 'latin', weight: 600, dataUri: latin600, range: LATIN_RANGE },
  { subset: 'greek', weight: 400, dataUri: greek400, range: GREEK_RANGE },
  { subset: 'greek', weight: 600, dataUri: greek600, range: GREEK_RANGE },
];

const isGreek = (cp: number): boolean => cp >= 0x370 && cp <= 0x3ff;

/**
 * The @font-face rules an SVG needs: latin at 400 always, 600 when `bold`, greek at the same weights
 * when `text` has a greek letter. Empty string when `faces` is empty.
 */
export function fontFaceCss(text: string, bold: boolean, faces: readonly Face[] = FACES): string {
  const greek = [...text].some((ch) => isGreek(ch.codePointAt(0) as number));
  return faces
    .filter((f) => (f.subset === 'latin' || greek) && (f.weight === 400 || bold))
    .map((f) => `@font-face{font-family:${FIGURE_FONT};font-style:normal;font-weight:${f.weight};src:url(${f.dataUri}) format('woff2');unicode-range:${f.range};}`)
    .join('');
}

function bytesOf(dataUri: string): ArrayBuffer {
  const bin = atob(dataUri.slice(dataUri.indexOf(',') + 1));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out.buffer;
}

let loading: Promise<void> | null = null;

/**
 * Adds the figure font to the document (once) so on-screen figures, canvas drawings and rasterised
 * exports use it. Resolves when every face is ready; never rejects (a failure leaves the fallbacks,
 * which have the same metrics).
 */
export function loadFigureFont(): Promise<void> {
  if (loading) return loading;
  if (typeof document === 'undefined' || typeof FontFace === 'undefined') return (loading = Promise.resolve());
  loading = Promise.all(
    FACES.map(async (f) => {
      const face = new FontFace(FIGURE_FONT, bytesOf(f.dataUri), { weight: String(f.weight), style: 'normal', unicodeRange: f.range });
      document.fonts.add(await face.load());
    }),
  ).then(
    () => undefined,
    (err: unknown) => console.warn('figure font could not load; using its metric twins', err),
  );
  return loading;
}
