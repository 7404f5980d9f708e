import { useEffect, useState } from 'react';
import type { OvSpectrumAnalysis, RunSummary } from '../../../../shared/api';
import { useApi } from '../../shell/api';
import { errorMessage } from '../../shell/errors';
import { useAsync, type AsyncState } from '../../shell/useAsync';
import type { OvKind } from './weightsData';

/**
 * Each admissible run's OV parameterisation ('factorized' | 'combined'), read from its manifest
 * (api.getRun is much cheaper than an OV analysis). Runs whose manifest fails map to null and are
 * listed in `errors` so the view can say so.
 */
export function useOvKinds(runs: readonly RunSummary[] | undefined, accept: (r: RunSummary) => boolean): { ovOf: Record<string, OvKind> | null; errors: string[] } {
  const api = useApi();
  const ids = (runs ?? []).filter(accept).map((r) => r.id);
  const key = runs ? ids.join('\n') : null;
  const [state, setState] = useState<{ key: string | null; ovOf: Record<string, OvKind>; errors: string[] } | null>(null);
  useEffect(() => {
    if (key === null) return;
    let live = true;
    const list = key ? key.split('\n') : [];
    Promise.allSettled(list.map((id) => api.getRun({ id }))).then((res) => {
      if (!live) return;
      const ovOf: Record<string, OvKind> = {};
      const errors: string[] = [];
      res.forEach((r, i) => {
        if (r.status === 'fulfilled') ovOf[list[i]] = r.value.manifest.config?.model?.ov ?? null;
        else {
          ovOf[list[i]] = null;
          errors.push(`${list[i]}: ${errorMessage(r.reason)}`);
        }
      });
      setState({ key, ovOf, errors });
    });
    return () => {
      live = false;
    };
  }, [api, key]);
  if (!state || state.key !== key) return { ovOf: null, errors: [] };
  return { ovOf: state.ovOf, errors: state.errors };
}

/** The OV spectrum of a run at all its checkpoints (no `top`: the effective rank needs every value). */
export function useOvSpectrum(id: string | null): AsyncState<OvSpectrumAnalysis> & { reload: () => void } {
  const api = useApi();
  return useAsync(id === null ? null : `ov-spectrum#${id}`, async () => {
    const r = await api.analyze({ kind: 'ov-spectrum', id: id as string });
    if (r.kind !== 'ov-spectrum') throw new Error(`expected an ov-spectrum result, got ${r.kind}`);
    return r;
  });
}
