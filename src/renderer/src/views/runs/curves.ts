import { accKeys, keySeries, lineStyleName, lossPoints, metricPoints, type CurveSeries, type CurveSet, type StepPoint, type StepRecord } from '../../figure/curves';
import { aggregateSeries } from './seedAggregate';

/**
 * Loss and accuracy curves of logged runs (Runs view); the series model and the chart are in
 * figure/curves.ts and figure/StepChart.tsx. The run shown is drawn solid, each compared run in its own
 * line style (dashed, dotted, dash-dot, …); or, grouped by seed, the seeds' mean ± sd over thin lines.
 */

export interface RunLines {
  id: string;
  lines: readonly StepRecord[];
}

/**
 * Loss and accuracy curves of a run, with the compared runs overlaid, each in its own line style
 * (the first dashed, then dotted, dash-dot, long dash). Colour follows the metric (the same split has
 * the same colour in every run); the line style marks the run, and the legend names each run's style.
 */
export function runCurves(primary: RunLines, compare?: RunLines | readonly RunLines[] | null): CurveSet {
  const compared = compare ? (Array.isArray(compare) ? (compare as readonly RunLines[]) : [compare as RunLines]) : [];
  const runs = [primary, ...compared];
  const several = runs.length > 1;
  // Two runs keep the historical solid / dashed model; three or more name each style.
  const styled = runs.length > 2;
  const label = (what: string, run: RunLines, i: number) => (several ? `${what} · ${run.id}${i > 0 ? ` (${lineStyleName(i)})` : ''}` : what);
  const style = (r: RunLines, i: number) => ({ ...(several ? { run: r.id } : {}), dashed: i > 0, ...(styled ? { lineStyle: i } : {}) });
  const loss = keySeries(runs.map((r, i) => ({ label: label('loss', r, i), group: 'loss', ...style(r, i), colourIndex: 0, points: lossPoints(r.lines) })));
  const keys = accKeys(runs.flatMap((r) => r.lines));
  const acc = keySeries(
    runs.flatMap((r, i) =>
      keys
        .map((k, ki) => ({ label: label(k, r, i), group: k, ...style(r, i), colourIndex: ki, points: metricPoints(r.lines, k) }))
        .filter((s) => s.points.length > 0),
    ),
  );
  return { loss, acc };
}

/**
 * Seeds of one configuration as mean ± 1 sd: each seed of each metric as a thin translucent line (CSV
 * column `metric · run`), then per metric the mean over the steps every seed logged, with its band
 * (columns `metric · mean`, `metric · sd`, `metric · n`). A metric some seed never logged has no mean.
 */
export function seedCurves(runs: readonly RunLines[]): CurveSet {
  const meanRun = `mean of ${runs.length} seeds`;
  type Drawn = { seeds: Omit<CurveSeries, 'key'>[]; mean: Omit<CurveSeries, 'key'>[] };
  const metric = (group: string, colourIndex: number, pointsOf: (r: RunLines) => StepPoint[]): Drawn => {
    const per = runs.map(pointsOf);
    const seeds = runs.map((r, i) => ({ label: `${group} · ${r.id}`, group, run: r.id, colourIndex, dashed: false, thin: true, points: per[i] })).filter((s) => s.points.length > 0);
    const agg = per.every((p) => p.length > 0) ? aggregateSeries(per) : [];
    if (agg.length === 0) return { seeds, mean: [] };
    const mean = {
      label: `${group} · mean`,
      group,
      run: meanRun,
      colourIndex,
      dashed: false,
      points: agg.map((a) => ({ step: a.step, value: a.mean })),
      band: agg.map((a) => ({ step: a.step, lo: a.mean - a.sd, hi: a.mean + a.sd })),
      csvExtra: [
        { label: `${group} · sd`, points: agg.map((a) => ({ step: a.step, value: a.sd })) },
        { label: `${group} · n`, points: agg.map((a) => ({ step: a.step, value: a.n })) },
      ],
    };
    return { seeds, mean: [mean] };
  };
  // Every thin seed line first, so no metric's seeds cross over another metric's mean.
  const ordered = (drawn: Drawn[]) => keySeries([...drawn.flatMap((d) => d.seeds), ...drawn.flatMap((d) => d.mean)]);
  const loss = ordered([metric('loss', 0, (r) => lossPoints(r.lines))]);
  const keys = accKeys(runs.flatMap((r) => r.lines));
  const acc = ordered(keys.map((k, ki) => metric(k, ki, (r) => metricPoints(r.lines, k))));
  return { loss, acc };
}
