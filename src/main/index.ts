/**
 * Electron main process: one secure window, a strict CSP, and the IPC handlers of WorkbenchApi.
 * Everything computed here comes from src/core; the renderer only ever sees plain data over IPC.
 */
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, session, type IpcMainInvokeEvent } from 'electron';
import { initBackend, parseBackendName } from '../core/backend/initBackend';
import { writeFileAtomicSync } from '../core/io/atomicWrite';
import { seedWorkspace } from '../core/io/seedWorkspace';
import { createWorkbench, type Workbench } from '../core/workbench';
import { menuTemplate } from './menuTemplate';
import { IPC_CHANNELS, IPC_EVENT_CHANNEL, type WorkbenchMethod } from '../shared/api';
import type { BackendInfo, BackendName } from '../shared/backend';

/** Same policy as the <meta> tag in src/renderer/index.html (test/app/security.test.ts checks both). */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Set by `electron-vite dev` to the renderer dev server; absent in a built app. */
const DEV_URL = !app.isPackaged ? process.env['ELECTRON_RENDERER_URL'] : undefined;
const RENDERER_DIR = resolve(import.meta.dirname, '../renderer');
const RENDERER_INDEX = join(RENDERER_DIR, 'index.html');
const PRELOAD = join(import.meta.dirname, '../preload/index.cjs');

let mainWindow: BrowserWindow | null = null;

/** True for URLs of our own renderer: the dev server's origin, or files under out/renderer. */
function isAppUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (DEV_URL !== undefined) return parsed.origin === new URL(DEV_URL).origin;
  if (parsed.protocol !== 'file:') return false;
  const path = resolve(fileURLToPath(parsed));
  return path === RENDERER_DIR || path.startsWith(RENDERER_DIR + sep);
}

/** Only the main frame of our own window, showing our own page, may call the API. */
function isTrustedSender(event: IpcMainInvokeEvent): boolean {
  const win = mainWindow;
  const frame = event.senderFrame;
  return (
    win !== null &&
    !win.isDestroyed() &&
    event.sender === win.webContents &&
    frame !== null &&
    frame === win.webContents.mainFrame &&
    isAppUrl(frame.url)
  );
}

/** Registers a WorkbenchApi method; calls from any other sender are rejected. */
function handle<A extends unknown[], R>(channel: string, fn: (...args: A) => Promise<R>): void {
  ipcMain.handle(channel, (event, ...args: unknown[]) => {
    if (!isTrustedSender(event)) {
      throw new Error(`IPC '${channel}' refused: untrusted sender ${event.senderFrame?.url ?? '(no frame)'}`);
    }
    return fn(...(args as A));
  });
}

/** `--backend=<name>` forces one compute backend (DESIGN.md §2); otherwise OOCR_BACKEND or the default order. */
function backendFromArgv(argv: readonly string[]): BackendName | undefined {
  const arg = argv.find((a) => a.startsWith('--backend='));
  return arg === undefined ? undefined : parseBackendName(arg.slice('--backend='.length));
}

let backend: Promise<BackendInfo> | undefined;
function getBackend(): Promise<BackendInfo> {
  // async so that a bad --backend value becomes a rejected promise the renderer can show.
  backend ??= (async () => initBackend({ backend: backendFromArgv(process.argv) }))();
  return backend;
}

function hardenSession(): void {
  const ses = session.defaultSession;
  // In dev the dev server's index.html carries its own <meta> CSP (with hashes for Vite's inline
  // scripts, see electron.vite.config.ts); the header is set for the built app.
  if (DEV_URL === undefined) {
    ses.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
    });
  }
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    title: 'OOCR Workbench',
    show: false,
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      sandbox: true,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  if (DEV_URL !== undefined) void win.loadURL(DEV_URL);
  else void win.loadURL(pathToFileURL(RENDERER_INDEX).href);
  return win;
}

// Every web contents: no new windows, no webviews, no navigation away from our own page.
app.on('web-contents-created', (_event, contents) => {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
});

handle(IPC_CHANNELS.getBackendInfo, () => getBackend());

/** The example workspace: beside the app's resources when packaged, in the source tree otherwise. */
const EXAMPLE_WORKSPACE = app.isPackaged ? join(process.resourcesPath, 'workspace') : resolve(import.meta.dirname, '../../resources/workspace');

/**
 * `--workspace=<dir>` opens that folder; otherwise a workspace in the app's user-data folder, seeded
 * with a copy of the example workspace on first start (so the first screen shows real runs, and new
 * runs never land in the shipped example).
 */
function initialWorkspace(argv: readonly string[]): string {
  const arg = argv.find((a) => a.startsWith('--workspace='));
  if (arg) return resolve(arg.slice('--workspace='.length));
  const dir = join(app.getPath('userData'), 'workspace');
  seedWorkspace(dir, EXAMPLE_WORKSPACE);
  return dir;
}

let workspaceDir: string | undefined;
let workbench: Workbench | undefined;

function sendEvent(e: unknown): void {
  if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(IPC_EVENT_CHANNEL, e);
}

function getWorkbench(): Workbench {
  if (!workbench) {
    workspaceDir ??= initialWorkspace(process.argv);
    workbench = createWorkbench({ workspaceDir, backend: backendFromArgv(process.argv), exampleBase: join(EXAMPLE_WORKSPACE, 'world-base') });
    // Events go to our window only; nothing else is subscribed.
    workbench.subscribe(sendEvent);
  }
  return workbench;
}

/** File → Open Workspace: running jobs of the old workspace are cancelled (their weights are saved). */
async function openWorkspace(): Promise<void> {
  if (!mainWindow) return;
  const r = await dialog.showOpenDialog(mainWindow, { title: 'Open Workspace', properties: ['openDirectory', 'createDirectory'] });
  if (r.canceled || !r.filePaths[0]) return;
  workbench?.dispose();
  workbench = undefined;
  workspaceDir = r.filePaths[0];
  getWorkbench();
  sendEvent({ kind: 'workspace-changed', dir: workspaceDir });
  mainWindow.setTitle(`OOCR Workbench — ${workspaceDir}`);
}

/**
 * File → Open Model…: a Hugging Face model folder (and, with an adapter, a PEFT adapter folder for it)
 * through the workbench's openModel, which checks both and records them in the workspace's models.json;
 * the renderer reloads its lists on the models-changed event. A refusal is shown as a message box.
 */
async function openModel(withAdapter: boolean): Promise<void> {
  if (!mainWindow) return;
  const r = await dialog.showOpenDialog(mainWindow, { title: 'Open Model (a Hugging Face folder: config.json, *.safetensors)', properties: ['openDirectory'] });
  if (r.canceled || !r.filePaths[0]) return;
  let adapter: string | undefined;
  if (withAdapter) {
    const a = await dialog.showOpenDialog(mainWindow, { title: 'PEFT Adapter for this Model (adapter_config.json)', defaultPath: dirname(r.filePaths[0]), properties: ['openDirectory'] });
    if (a.canceled || !a.filePaths[0]) return;
    adapter = a.filePaths[0];
  }
  try {
    await getWorkbench().call('openModel', { path: r.filePaths[0], ...(adapter ? { adapter } : {}) });
  } catch (err) {
    await dialog.showMessageBox(mainWindow, { type: 'error', title: 'Open Model', message: 'Could not open the model', detail: err instanceof Error ? err.message : String(err) });
  }
}

/** File → Export Window Screenshot: the window's pixels (capturePage) as a PNG, written atomically. */
async function exportScreenshot(): Promise<void> {
  if (!mainWindow) return;
  try {
    const image = await mainWindow.webContents.capturePage();
    const r = await dialog.showSaveDialog(mainWindow, { title: 'Export Window Screenshot', defaultPath: 'oocr-workbench.png', filters: [{ name: 'PNG image', extensions: ['png'] }] });
    if (r.canceled || !r.filePath) return;
    writeFileAtomicSync(r.filePath, image.toPNG());
    sendEvent({ kind: 'menu', command: 'export-screenshot-saved' });
  } catch (err) {
    console.error('screenshot export failed:', err);
    sendEvent({ kind: 'menu', command: 'export-screenshot-failed' });
  }
}

let figureTheme = false;
function installMenu(): void {
  const template = menuTemplate(
    {
      openWorkspace: () => void openWorkspace(),
      openModel: (withAdapter) => void openModel(withAdapter),
      newRun: () => sendEvent({ kind: 'menu', command: 'new-run' }),
      exportScreenshot: () => void exportScreenshot(),
      toggleFigureTheme: () => {
        figureTheme = !figureTheme;
        sendEvent({ kind: 'menu', command: 'toggle-figure-theme' });
      },
    },
    { isMac: process.platform === 'darwin', dev: DEV_URL !== undefined, figureTheme },
  );
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

// Every other method goes through the core's validated `call`: arguments are checked there, once.
for (const method of Object.keys(IPC_CHANNELS) as WorkbenchMethod[]) {
  if (method === 'getBackendInfo') continue;
  handle(IPC_CHANNELS[method], (args?: unknown) => getWorkbench().call(method, args));
}
app.on('before-quit', () => workbench?.dispose());

// Training, studies and analyses run in worker_threads workers (the jobWorker entry of
// electron.vite.config.ts); main only wires IPC to them.
app.whenReady().then(
  () => {
    hardenSession();
    // Start the backend now so the status bar does not wait; errors surface through the IPC call.
    getBackend().catch(() => undefined);
    installMenu();
    mainWindow = createWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow();
    });
  },
  (err: unknown) => {
    console.error('OOCR Workbench failed to start:', err);
    app.exit(1);
  },
);

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
