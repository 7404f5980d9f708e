/**
 * Sandboxed preload (built to CommonJS: out/preload/index.cjs). Exposes exactly one object,
 * `window.workbench`, implementing WorkbenchApi over IPC. It never hands `ipcRenderer` itself to the page,
 * and refuses any channel without the `workbench:` prefix.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { IPC_CHANNELS, type WorkbenchApi } from '../shared/api';
import { assertWorkbenchChannel } from '../shared/ipcChannels';

function invoke<T>(channel: string, ...args: unknown[]): Promise<T> {
  assertWorkbenchChannel(channel);
  return ipcRenderer.invoke(channel, ...args) as Promise<T>;
}

const api: WorkbenchApi = {
  getBackendInfo: () => invoke(IPC_CHANNELS.getBackendInfo),
};

contextBridge.exposeInMainWorld('workbench', api);
