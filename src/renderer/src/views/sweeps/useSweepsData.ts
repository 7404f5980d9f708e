import { useEffect, useRef, useState } from 'react';
import type { SweepCellInfo, SweepDetails, SweepListItem, SweepPresetInfo, SweepWorkbenchEvent } from '../../../../shared/sweeps';
import { useApi } from '../../shell/api';
import { useJobs } from '../../shell/jobs';
import { useAsync } from '../../shell/useAsync';
import { applySweepEvent } from './sweepsData';

/**
 * What the Sweeps view shows: the workspace's sweeps, the shipped presets, the selected sweep with its
 * cells. Cells follow the sweep's events live (status, step, worker); a cell that finishes, or the
 * sweep's state changing, re-reads the list and the sweep (metrics come from sweep.json).
 */
export function useSweepsData() {
  const api = useApi();
  const [selected, setSelected] = useState<string | null>(null);
  const [ownGeneration, setGeneration] = useState(0);
  // Jobs' generation bumps when the workspace changes (File → Open Workspace): everything is read again.
  const generation = `${useJobs().generation}.${ownGeneration}`;
  const list = useAsync<SweepListItem[]>(`sweeps#${generation}`, () => api.listSweeps());
  const presets = useAsync<SweepPresetInfo[]>('sweep-presets', () => api.listSweepPresets());
  const detail = useAsync<SweepDetails>(selected ? `sweep:${selected}#${generation}` : null, () => api.getSweep({ name: selected ?? '' }));
  const [cells, setCells] = useState<readonly SweepCellInfo[]>([]);
  const selectedRef = useRef(selected);
  selectedRef.current = selected;

  // Nothing chosen yet (or the choice vanished): the first sweep.
  useEffect(() => {
    if (!list.data) return;
    if (selected && list.data.some((s) => s.name === selected)) return;
    if (list.data.length) setSelected(list.data[0].name);
  }, [list.data, selected]);

  useEffect(() => {
    if (detail.data && detail.data.name === selected) setCells(detail.data.cells);
  }, [detail.data, selected]);

  useEffect(() => {
    if (!api.onEvent) return;
    return api.onEvent((e) => {
      if (e.kind !== 'sweep-state' && e.kind !== 'sweep-cell' && e.kind !== 'sweep-progress') return;
      const se = e as SweepWorkbenchEvent;
      const name = selectedRef.current;
      if (name) setCells((cs) => applySweepEvent(cs, name, se));
      if (se.kind !== 'sweep-progress') setGeneration((g) => g + 1);
    });
  }, [api]);

  const shown = detail.data && detail.data.name === selected ? detail.data : undefined;
  return {
    list,
    presets,
    selected,
    setSelected,
    detail,
    shown,
    cells: shown ? cells : [],
    reload: () => setGeneration((g) => g + 1),
    cancel: (name: string) => api.cancelSweep({ name }),
  };
}
