import { createContext, useContext } from 'react';

/** Switches the visible view (by its id in VIEWS); views use it for "open in …" links. */
export const NavigateContext = createContext<(viewId: string) => void>(() => {});

export function useNavigate(): (viewId: string) => void {
  return useContext(NavigateContext);
}
