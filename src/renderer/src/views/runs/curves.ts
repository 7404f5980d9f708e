import { accKeys, keySeries, lossPoints, metricPoints, type CurveSet, type StepRecord } from '../../figure/curves';

/**
 * Loss and accuracy curves of logged runs (Runs view); the series model and the chart are in
 * figure/curves.ts and figure/StepChart.tsx. Solid lines are the run shown, dashed ones the run it
 * is compared with.
 */

/**
 * Loss and accuracy curves of a run, with a second run overlaid dashed when given. Colour follows
 * the metric (the same split has the same colour in both runs); the dash marks the compared run.
 */
export function runCurves(primary: { id: string; lines: readonly StepRecord[] }, compare?: { id: string; lines: readonly StepRecord[] } | null): CurveSet {
  const runs = compare ? [primary, compare] : [primary];
  const label = (what: string, run: { id: string }, i: number) => (compare ? `${what} · ${run.id}${i === 1 ? ' (dashed)' : ''}` : what);
  const run = (r: { id: string }) => (compare ? { run: r.id } : {});
  const loss = keySeries(runs.map((r, i) => ({ label: label('loss', r, i), group: 'loss', ...run(r), colourIndex: 0, dashed: i === 1, points: lossPoints(r.lines) })));
  const keys = accKeys(runs.flatMap((r) => r.lines));
  const acc = keySeries(
    runs.flatMap((r, i) =>
      keys
        .map((k, ki) => ({ label: label(k, r, i), group: k, ...run(r), colourIndex: ki, dashed: i === 1, points: metricPoints(r.lines, k) }))
        .filter((s) => s.points.length > 0),
    ),
  );
  return { loss, acc };
}
