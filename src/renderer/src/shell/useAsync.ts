import { useCallback, useEffect, useState } from 'react';
import { errorMessage } from './errors';

export type AsyncState<T> =
  | { status: 'idle'; data?: undefined; error?: undefined }
  | { status: 'loading'; data?: T; error?: undefined }
  | { status: 'ready'; data: T; error?: undefined }
  | { status: 'error'; data?: T; error: string };

/**
 * Runs `fn` whenever `key` changes (null: do nothing) and keeps the last result while reloading, so
 * views do not flash empty. Stale answers (an older key finishing late) are dropped.
 */
export function useAsync<T>(key: string | null, fn: () => Promise<T>): AsyncState<T> & { reload: () => void } {
  const [state, setState] = useState<AsyncState<T>>({ status: 'idle' });
  const [nonce, setNonce] = useState(0);
  useEffect(() => {
    if (key === null) {
      setState({ status: 'idle' });
      return;
    }
    let live = true;
    setState((s) => ({ status: 'loading', data: s.data }));
    fn().then(
      (data) => live && setState({ status: 'ready', data }),
      (err: unknown) => live && setState((s) => ({ status: 'error', data: s.data, error: errorMessage(err) })),
    );
    return () => {
      live = false;
    };
    // `key` names everything fn depends on, so fn itself is not a dependency.
  }, [key, nonce]);
  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { ...state, reload };
}
