/**
 * How a model's loading progress reads, in the app's status bar and on the CLI's stderr alike:
 * "Loading gpt2… 45% (214 / 475 MB)". Sizes are powers of 1000, as the Hub shows them.
 */

/** Whole percent read, rounded down (100 only once everything is read; an empty model is 100). */
export function loadingPercent(bytesRead: number, totalBytes: number): number {
  if (!(totalBytes > 0)) return 100;
  return Math.max(0, Math.min(100, Math.floor((100 * bytesRead) / totalBytes)));
}

const UNITS: [number, string, number][] = [
  [1e9, 'GB', 1],
  [1e6, 'MB', 0],
  [1e3, 'kB', 0],
];

/** "214 / 475 MB": both numbers in the total's unit. */
export function loadingAmount(bytesRead: number, totalBytes: number): string {
  const [scale, unit, digits] = UNITS.find(([s]) => totalBytes >= s) ?? [1, 'B', 0];
  const f = (n: number): string => (n / scale).toFixed(digits);
  return `${f(Math.min(bytesRead, totalBytes))} / ${f(totalBytes)} ${unit}`;
}

/** "Loading gpt2… 45% (214 / 475 MB)"; with an adapter, "Loading gpt2 + lora…". */
export function loadingText(e: { id: string; adapter?: string; bytesRead: number; totalBytes: number }): string {
  const name = e.adapter !== undefined ? `${e.id} + ${e.adapter}` : e.id;
  return `Loading ${name}… ${loadingPercent(e.bytesRead, e.totalBytes)}% (${loadingAmount(e.bytesRead, e.totalBytes)})`;
}
