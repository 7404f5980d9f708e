import { accKeys, downsample, keySeries, lossPoints, metricPoints, type CurveSet, type StepRecord } from '../../figure/curves';

/**
 * Curves of live jobs (Train view): a job's curve split into stages, named from its log. The series
 * model and the chart are in figure/curves.ts and figure/StepChart.tsx.
 */

/**
 * Splits a job's curve into stages where the step goes back (a LoRA-vs-steering study trains
 * LoRA, then steering vectors, each counting from step 1). A training job is one stage.
 */
export function splitStages<T extends { step: number }>(curve: readonly T[]): T[][] {
  const stages: T[][] = [];
  let prev = -Infinity;
  for (const p of curve) {
    if (!stages.length || p.step < prev) stages.push([]);
    stages[stages.length - 1].push(p);
    prev = p.step;
  }
  return stages;
}

/** Stage names from a job's log lines of the form `stage: <name>` (a study logs one per stage). */
export function stageNames(log: readonly string[]): string[] {
  return log.flatMap((line) => {
    const m = /^stage:\s*(.+)$/.exec(line.trim());
    return m ? [m[1]] : [];
  });
}

/**
 * Curves of a live job: one loss line per stage, and the accuracy lines (one per `*_acc` key) of
 * the latest stage that logged metrics. Stages are named from `names` where given. Long curves are
 * thinned to `maxPoints` per line.
 */
export function jobCurves(curve: readonly StepRecord[], maxPoints = 600, names: readonly string[] = []): CurveSet {
  const stages = splitStages(curve);
  const many = stages.length > 1;
  const stage = (i: number) => names[i] ?? `stage ${i + 1}`;
  const loss = keySeries(
    stages.map((s, i) => {
      const label = many ? `loss · ${stage(i)}` : 'loss';
      return { label, group: label, colourIndex: i, dashed: false, points: downsample(lossPoints(s), maxPoints) };
    }),
  );
  let accStage = -1;
  for (let i = stages.length - 1; i >= 0 && accStage < 0; i--) if (stages[i].some((p) => p.metrics)) accStage = i;
  const acc =
    accStage < 0
      ? []
      : keySeries(
          accKeys(stages[accStage]).map((k, ki) => ({
            label: many ? `${k} · ${stage(accStage)}` : k,
            group: many ? `${k} · ${stage(accStage)}` : k,
            colourIndex: ki,
            dashed: false,
            points: downsample(metricPoints(stages[accStage], k), maxPoints),
          })),
        );
  return { loss, acc };
}
