/**
 * Electron main process: one secure window, a strict CSP, and the IPC handlers of WorkbenchApi.
 * Everything computed here comes from src/core; the renderer only ever sees plain data over IPC.
 */
import { realpath, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, type IpcMainInvokeEvent } from 'electron';
import { APP_INDEX_URL, APP_ORIGIN, APP_SCHEME, contentTypeFor, devRendererUrl, isAppUrl as isAppPageUrl, isInside, resolveAppRequest } from './appProtocol';
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

/**
 * The electron-vite dev server (ELECTRON_RENDERER_URL), honoured only in development: not packaged,
 * started by `electron-vite dev`, and a loopback http URL (appProtocol.ts). Otherwise undefined, and
 * the window loads the built renderer from app://workbench/.
 */
const DEV_URL = devRendererUrl({ isPackaged: app.isPackaged, env: process.env });
if (DEV_URL === undefined && process.env['ELECTRON_RENDERER_URL']) {
  console.warn('OOCR Workbench: ignoring ELECTRON_RENDERER_URL (honoured only under `electron-vite dev`, unpackaged, for an http://localhost or 127.0.0.1 URL)');
}
const RENDERER_DIR = resolve(import.meta.dirname, '../renderer');
const PRELOAD = join(import.meta.dirname, '../preload/index.cjs');

// Before `ready`: app:// is a standard, secure scheme (relative URLs, a real origin for CSP 'self' and
// same-origin checks) that may use fetch. Not corsEnabled (that would let other origins read it) and
// not bypassCSP: the policy below applies to it like to any page.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } }]);

let mainWindow: BrowserWindow | null = null;

/** True for URLs of our own renderer: the dev server's origin in development, else app://workbench/. */
function isAppUrl(url: string): boolean {
  return isAppPageUrl(url, DEV_URL);
}

const RESPONSE_HEADERS = { 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'Cross-Origin-Resource-Policy': 'same-origin' };

function refusal(status: number, text: string): Response {
  return new Response(text, { status, headers: { ...RESPONSE_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' } });
}

/**
 * app://workbench/<path>: a file of out/renderer and nothing else. The path is resolved by
 * resolveAppRequest (dot segments, encoded separators, backslashes, NULs, drives refused), then its
 * real path must still lie inside the renderer folder's (no symlink out of it); GET and HEAD only;
 * requests that other origins start are refused. Every response carries the CSP.
 */
async function serveAppRequest(request: Request): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD') return refusal(405, 'method not allowed');
  // Set by Electron for requests web content makes (absent for the window's own navigation).
  const initiator = (request as Request & { initiatorOrigin?: string }).initiatorOrigin;
  if (initiator !== undefined && initiator !== APP_ORIGIN) return refusal(403, 'forbidden');
  const file = resolveAppRequest(RENDERER_DIR, request.url);
  if (file === null) return refusal(404, 'not found');
  try {
    const [root, real] = await Promise.all([realpath(RENDERER_DIR), realpath(file)]);
    if (!isInside(root, real) || !(await stat(real)).isFile()) return refusal(404, 'not found');
    const body = request.method === 'HEAD' ? null : await readFile(real);
    return new Response(body, { status: 200, headers: { ...RESPONSE_HEADERS, 'Content-Type': contentTypeFor(real), 'Cache-Control': 'no-cache' } });
  } catch {
    return refusal(404, 'not found');
  }
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
  protocol.handle(APP_SCHEME, serveAppRequest);
  // In dev the dev server's index.html carries its own <meta> CSP (with hashes for Vite's inline
  // scripts, see electron.vite.config.ts). In the built app serveAppRequest sends the header, and
  // this adds it to any other response the session sees.
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
  void win.loadURL(DEV_URL ?? APP_INDEX_URL);
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
// Quitting waits (at most 10 s) for running jobs to save their weights: they end 'cancelled' and can
// be resumed, instead of being cut off mid-step.
let quitting = false;
app.on('before-quit', (event) => {
  const wb = workbench;
  if (quitting || !wb) return;
  event.preventDefault();
  quitting = true;
  void wb.shutdown(10_000).finally(() => app.quit());
});

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
