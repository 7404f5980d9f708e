import { createContext, useContext } from 'react';
import type { AnalysisRequest, AnalysisResult, WorkbenchApi } from '../../../shared/api';

export const ApiContext = createContext<WorkbenchApi | null>(null);

/** The workbench API (Electron preload or web-mode HTTP client); App renders nothing without one. */
export function useApi(): WorkbenchApi {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi outside ApiContext');
  return api;
}

/** Runs one analysis and checks that the backend answered with the kind asked for. */
export async function analyzeAs<K extends AnalysisResult['kind']>(api: WorkbenchApi, req: AnalysisRequest & { kind: K }): Promise<Extract<AnalysisResult, { kind: K }>> {
  const r = await api.analyze(req);
  if (r.kind !== req.kind) throw new Error(`asked for a ${req.kind} analysis, the backend answered with '${r.kind}'`);
  return r as Extract<AnalysisResult, { kind: K }>;
}
