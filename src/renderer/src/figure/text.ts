import { ADVANCE_400, ADVANCE_600, CODE_POINTS } from './fontMetrics';

/**
 * Text for figures, measured with the figure font's own advance widths (fontMetrics.ts, generated
 * from the font files the exports embed), so what is laid out is what is drawn: widths, wrapping and
 * title fitting. Characters the embedded subsets lack are typeset with ones they have: superscripts
 * and subscripts as raised / lowered digits and letters at 70 %, ‖ as ||, a few rare symbols spelled
 * out. Arrows and relations (→ ≤ ≥ ≈ ≠ √) are drawn by the font's metric twins (Liberation Sans,
 * Helvetica, Arial: every one has them, at the widths below).
 */

export type Weight = 400 | 600;

const ADV = { 400: new Map<number, number>(), 600: new Map<number, number>() };
CODE_POINTS.forEach((cp, i) => {
  ADV[400].set(cp, ADVANCE_400[i]);
  ADV[600].set(cp, ADVANCE_600[i]);
});

/** Whether the figure font has a glyph for the code point. */
export function fontCovers(cp: number): boolean {
  return ADV[400].has(cp);
}

const SUPER: Record<string, string> = { '⁰': '0', '¹': '1', '²': '2', '³': '3', '⁴': '4', '⁵': '5', '⁶': '6', '⁷': '7', '⁸': '8', '⁹': '9', '⁺': '+', '⁻': '−', '⁼': '=', '⁽': '(', '⁾': ')', ⁿ: 'n', ⁱ: 'i' };
const SUB: Record<string, string> = {
  '₀': '0', '₁': '1', '₂': '2', '₃': '3', '₄': '4', '₅': '5', '₆': '6', '₇': '7', '₈': '8', '₉': '9',
  '₊': '+', '₋': '−', '₌': '=', '₍': '(', '₎': ')', ₐ: 'a', ₑ: 'e', ₒ: 'o', ₓ: 'x', ₕ: 'h', ₖ: 'k', ₗ: 'l', ₘ: 'm', ₙ: 'n', ₚ: 'p', ₛ: 's', ₜ: 't',
};
/** Plain spellings of symbols neither the figure font nor its metric twins have. */
const SPELL: Record<string, string> = { '‖': '||', '⇒': '=>', '∈': 'in', '⇥': 'tab', '⌈': '[', '⌉': ']', '∑': 'Σ', '∆': 'Δ' };
/** Symbols drawn by the metric twins (WGL4: Liberation Sans, Helvetica, Arial), with their advance widths (1/1000 em). */
export const TWIN_GLYPHS: Readonly<Record<string, number>> = { '→': 1000, '←': 1000, '↑': 500, '↓': 500, '≤': 549, '≥': 549, '≈': 549, '≠': 549, '√': 549 };

/** Size of raised and lowered text relative to the line's. */
export const SCRIPT_SCALE = 0.7;
/** Baseline shifts (em of the line's font) of superscripts and subscripts. */
const SUPER_SHIFT = 0.35;
const SUB_SHIFT = 0.2;

export interface Run {
  text: string;
  shift: 'none' | 'super' | 'sub';
}

/** `s` as runs the figure font can draw: plain text, and raised or lowered script runs. */
export function typeset(s: string): Run[] {
  const runs: Run[] = [];
  const push = (text: string, shift: Run['shift']) => {
    const last = runs[runs.length - 1];
    if (last && last.shift === shift) last.text += text;
    else runs.push({ text, shift });
  };
  for (const ch of s) {
    if (SUPER[ch] !== undefined) push(SUPER[ch], 'super');
    else if (SUB[ch] !== undefined) push(SUB[ch], 'sub');
    else push(SPELL[ch] ?? ch, 'none');
  }
  return runs;
}

/** Advance width of one character (em); characters outside the font count as a wide glyph. */
function advance(cp: number, weight: Weight): number {
  return (ADV[weight].get(cp) ?? TWIN_GLYPHS[String.fromCodePoint(cp)] ?? (cp < 0x2e80 ? 600 : 1000)) / 1000;
}

/** Width of `s` set in the figure font at `size` (user units), after typesetting. */
export function textWidth(s: string, size: number, weight: Weight = 400): number {
  let w = 0;
  for (const r of typeset(s)) {
    const k = r.shift === 'none' ? 1 : SCRIPT_SCALE;
    for (const ch of r.text) w += advance(ch.codePointAt(0) as number, weight) * size * k;
  }
  return w;
}

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

const f3 = (v: number): string => String(Math.round(v * 1000) / 1000);

/**
 * SVG text content for `s` (escaped): plain runs as text, script runs as <tspan>s raised or lowered
 * with `dy` (which every SVG renderer honours, unlike baseline-shift) and set at 70 %, the baseline
 * restored after each.
 */
export function typesetMarkup(s: string): string {
  const runs = typeset(s);
  if (runs.every((r) => r.shift === 'none')) return escapeXml(runs.map((r) => r.text).join(''));
  let out = '';
  let offset = 0; // current baseline offset, em of the line's font (negative = raised)
  for (const r of runs) {
    const target = r.shift === 'super' ? -SUPER_SHIFT : r.shift === 'sub' ? SUB_SHIFT : 0;
    const k = r.shift === 'none' ? 1 : SCRIPT_SCALE;
    const dy = target - offset;
    offset = target;
    const attrs = `${dy !== 0 ? ` dy="${f3(dy / k)}em"` : ''}${k !== 1 ? ` font-size="${k * 100}%"` : ''}`;
    out += attrs ? `<tspan${attrs}>${escapeXml(r.text)}</tspan>` : escapeXml(r.text);
  }
  return out;
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#(\d+)|#x([0-9a-f]+));/gi, (m, name: string, dec?: string, hex?: string) => {
    if (dec) return String.fromCodePoint(Number(dec));
    if (hex) return String.fromCodePoint(parseInt(hex, 16));
    return ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" } as Record<string, string>)[name.toLowerCase()] ?? m;
  });
}

const NEEDS_TYPESETTING = new RegExp(`[${[...Object.keys(SUPER), ...Object.keys(SUB), ...Object.keys(SPELL)].join('')}]`, 'u');

/**
 * Typesets the text of every <text> element of an SVG document (including text inside its
 * <tspan>s) for the figure font: what the export does before it embeds the font.
 */
export function typesetSvg(svg: string): string {
  return svg.replace(/(<text\b[^>]*>)([\s\S]*?)(<\/text>)/g, (_m, open: string, inner: string, close: string) => {
    // Tags and the text between them; only the text is typeset.
    const parts = inner.split(/(<[^>]+>)/);
    for (let i = 0; i < parts.length; i += 2) {
      const t = unescapeXml(parts[i]);
      if (NEEDS_TYPESETTING.test(t)) parts[i] = typesetMarkup(t);
    }
    return open + parts.join('') + close;
  });
}

// ─── Wrapping and fitting ─────────────────────────────────────────────────────────────────────────

/** Splits a word wider than `max` into pieces that fit (at least one character each). */
function breakWord(word: string, max: number, size: number, weight: Weight): string[] {
  const out: string[] = [];
  let cur = '';
  for (const ch of word) {
    if (cur && textWidth(cur + ch, size, weight) > max) {
      out.push(cur);
      cur = ch;
    } else cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}

/**
 * Greedy word wrap of `s` into lines no wider than `max` at `size`: breaks at spaces, and inside a
 * word only when the word alone is wider than a line. Never returns a line wider than `max` unless
 * a single character is.
 */
export function wrapText(s: string, max: number, size: number, weight: Weight = 400): string[] {
  const words = s.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    const next = cur ? `${cur} ${w}` : w;
    if (textWidth(next, size, weight) <= max) {
      cur = next;
      continue;
    }
    if (cur) lines.push(cur);
    if (textWidth(w, size, weight) <= max) cur = w;
    else {
      const pieces = breakWord(w, max, size, weight);
      lines.push(...pieces.slice(0, -1));
      cur = pieces[pieces.length - 1];
    }
  }
  if (cur) lines.push(cur);
  return lines.length ? lines : [''];
}

export interface FittedText {
  lines: string[];
  size: number;
}

/**
 * A title fitted to `max`: on one line at `size` when it fits; else wrapped, shrinking the type (not
 * below `minScale` × size) while that saves a line, at most `maxLines` lines unless even the smallest
 * type needs more. Every line is at most `max` wide.
 */
export function fitTitle(title: string, max: number, size: number, { weight = 600 as Weight, maxLines = 2, minScale = 0.8 } = {}): FittedText {
  const one = textWidth(title, size, weight);
  if (one <= max) return { lines: [title], size };
  // Shrinking alone may be enough.
  const shrunk = size * Math.max(minScale, (max / one) * (1 - 1e-9));
  if (textWidth(title, shrunk, weight) <= max) return { lines: [title], size: shrunk };
  for (let s = size; s >= size * minScale - 1e-9; s -= size * 0.05) {
    const lines = wrapText(title, max, s, weight);
    if (lines.length <= maxLines) return { lines, size: s };
  }
  return { lines: wrapText(title, max, size * minScale, weight), size: size * minScale };
}
