import { useCallback, useEffect, useRef, useState } from 'react';
import type { OvSpectrumAnalysis, RunSummary } from '../../../../shared/api';
import { useApi } from '../../shell/api';
import { errorMessage } from '../../shell/errors';
import type { AsyncState } from '../../shell/useAsync';
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

/**
 * The OV spectra (every checkpoint, every singular value: the summaries need them all) of several
 * runs, one analysis per run however many panels show it. Results are kept when a run leaves the list,
 * so ticking it again is instant; `reload(id)` asks again (after an error).
 */
export function useOvSpectra(ids: readonly (string | null)[]): { of: (id: string | null) => AsyncState<OvSpectrumAnalysis>; reload: (id: string) => void } {
  const api = useApi();
  const [states, setStates] = useState<Record<string, AsyncState<OvSpectrumAnalysis>>>({});
  const [nonces, setNonces] = useState<Record<string, number>>({});
  // The request each run last started (by its nonce), so a late answer to an older one is dropped.
  const started = useRef(new Map<string, number>());
  const key = [...new Set(ids.filter((id): id is string => !!id))].join('\n');
  useEffect(() => {
    for (const id of key ? key.split('\n') : []) {
      const n = nonces[id] ?? 0;
      if (started.current.get(id) === n) continue;
      started.current.set(id, n);
      const live = () => started.current.get(id) === n;
      setStates((s) => ({ ...s, [id]: { status: 'loading', data: s[id]?.data } }));
      api
        .analyze({ kind: 'ov-spectrum', id })
        .then((r) => {
          if (r.kind !== 'ov-spectrum') throw new Error(`expected an ov-spectrum result, got ${r.kind}`);
          if (live()) setStates((s) => ({ ...s, [id]: { status: 'ready', data: r } }));
        })
        .catch((err: unknown) => {
          if (live()) setStates((s) => ({ ...s, [id]: { status: 'error', data: s[id]?.data, error: errorMessage(err) } }));
        });
    }
  }, [api, key, nonces]);
  const of = useCallback((id: string | null): AsyncState<OvSpectrumAnalysis> => (id && states[id]) || (id ? { status: 'loading' } : { status: 'idle' }), [states]);
  const reload = useCallback((id: string) => setNonces((m) => ({ ...m, [id]: (m[id] ?? 0) + 1 })), []);
  return { of, reload };
}
