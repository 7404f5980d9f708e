/**
 * Sandboxed preload (built to CommonJS: out/preload/index.cjs). Exposes exactly one object,
 * `window.workbench`, implementing WorkbenchApi over IPC. It never hands `ipcRenderer` itself to the page,
 * and refuses any channel without the `workbench:` prefix.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { IPC_CHANNELS, IPC_EVENT_CHANNEL, type WorkbenchApi, type WorkbenchEvent } from '../shared/api';
import { assertWorkbenchChannel } from '../shared/ipcChannels';

function invoke<T>(channel: string, ...args: unknown[]): Promise<T> {
  assertWorkbenchChannel(channel);
  return ipcRenderer.invoke(channel, ...args) as Promise<T>;
}

const api: WorkbenchApi = {
  getBackendInfo: () => invoke(IPC_CHANNELS.getBackendInfo),
  listRuns: () => invoke(IPC_CHANNELS.listRuns),
  getRun: (args) => invoke(IPC_CHANNELS.getRun, args),
  listPresets: () => invoke(IPC_CHANNELS.listPresets),
  startTraining: (args) => invoke(IPC_CHANNELS.startTraining, args),
  cancel: (args) => invoke(IPC_CHANNELS.cancel, args),
  listJobs: () => invoke(IPC_CHANNELS.listJobs),
  resumeRun: (args) => invoke(IPC_CHANNELS.resumeRun, args),
  samplePrompts: (args) => invoke(IPC_CHANNELS.samplePrompts, args),
  analyze: (args) => invoke(IPC_CHANNELS.analyze, args),
  listStudies: () => invoke(IPC_CHANNELS.listStudies),
  getStudy: (args) => invoke(IPC_CHANNELS.getStudy, args),
  startStudy: (args) => invoke(IPC_CHANNELS.startStudy, args),
  listSweeps: () => invoke(IPC_CHANNELS.listSweeps),
  listSweepPresets: () => invoke(IPC_CHANNELS.listSweepPresets),
  getSweep: (args) => invoke(IPC_CHANNELS.getSweep, args),
  checkSweep: (args) => invoke(IPC_CHANNELS.checkSweep, args),
  startSweep: (args) => invoke(IPC_CHANNELS.startSweep, args),
  cancelSweep: (args) => invoke(IPC_CHANNELS.cancelSweep, args),
  listSaes: () => invoke(IPC_CHANNELS.listSaes),
  getSae: (args) => invoke(IPC_CHANNELS.getSae, args),
  startSae: (args) => invoke(IPC_CHANNELS.startSae, args),
  saeFeatures: (args) => invoke(IPC_CHANNELS.saeFeatures, args),
  saeIntervention: (args) => invoke(IPC_CHANNELS.saeIntervention, args),
  listModels: () => invoke(IPC_CHANNELS.listModels),
  openModel: (args) => invoke(IPC_CHANNELS.openModel, args),
  onEvent: (listener) => {
    assertWorkbenchChannel(IPC_EVENT_CHANNEL);
    const handler = (_e: unknown, payload: WorkbenchEvent): void => listener(payload);
    ipcRenderer.on(IPC_EVENT_CHANNEL, handler);
    return () => ipcRenderer.off(IPC_EVENT_CHANNEL, handler);
  },
};

contextBridge.exposeInMainWorld('workbench', api);
