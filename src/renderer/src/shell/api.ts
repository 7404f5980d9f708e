import { createContext, useContext } from 'react';
import type { WorkbenchApi } from '../../../shared/api';

export const ApiContext = createContext<WorkbenchApi | null>(null);

/** The workbench API (Electron preload or web-mode HTTP client); App renders nothing without one. */
export function useApi(): WorkbenchApi {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi outside ApiContext');
  return api;
}
