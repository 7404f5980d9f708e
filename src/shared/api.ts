import type { BackendInfo } from './backend';

/**
 * The WorkbenchApi contract: the one interface the renderer talks to, whatever the transport (Electron
 * IPC through the preload now; loopback HTTP/WebSocket in web mode later). Methods return Promises and
 * take and return plain data only (structured clone); events will be `onX(listener) => unsubscribe`.
 */
export interface WorkbenchApi {
  /** The compute backend in use, with the backends tried before it and why each failed. */
  getBackendInfo(): Promise<BackendInfo>;
}

/** Every IPC channel starts with this; the preload refuses any other. */
export const IPC_PREFIX = 'workbench:';

export type IpcChannel = `${typeof IPC_PREFIX}${string}`;

/** Request/response methods of WorkbenchApi. Events (`onProgress`, …) will get their own map. */
export type WorkbenchMethod = keyof WorkbenchApi;

/** Method → IPC channel. Main registers one `ipcMain.handle` per entry; the preload invokes them. */
export const IPC_CHANNELS = {
  getBackendInfo: 'workbench:getBackendInfo',
} as const satisfies { [M in WorkbenchMethod]: IpcChannel };
