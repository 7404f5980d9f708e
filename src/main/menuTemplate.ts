import type { MenuItemConstructorOptions } from 'electron';

export interface MenuHandlers {
  openWorkspace(): void;
  /** A Hugging Face model folder; `withAdapter` asks for a PEFT adapter folder next. */
  openModel(withAdapter: boolean): void;
  newRun(): void;
  exportScreenshot(): void;
  toggleFigureTheme(): void;
}

/**
 * The application menu as data (only Electron's types are imported, so tests can check it without
 * the Electron binary). Roles give the platform's standard items and shortcuts.
 */
export function menuTemplate(h: MenuHandlers, opts: { isMac: boolean; dev: boolean; figureTheme: boolean }): MenuItemConstructorOptions[] {
  const file: MenuItemConstructorOptions = {
    label: 'File',
    submenu: [
      { id: 'open-workspace', label: 'Open Workspace…', accelerator: 'CmdOrCtrl+O', click: () => h.openWorkspace() },
      { id: 'open-model', label: 'Open Model…', accelerator: 'CmdOrCtrl+Shift+O', click: () => h.openModel(false) },
      { id: 'open-model-adapter', label: 'Open Model with Adapter…', click: () => h.openModel(true) },
      { id: 'new-run', label: 'New Run…', accelerator: 'CmdOrCtrl+N', click: () => h.newRun() },
      { type: 'separator' },
      { id: 'export-screenshot', label: 'Export Window Screenshot…', accelerator: 'CmdOrCtrl+Shift+S', click: () => h.exportScreenshot() },
      { type: 'separator' },
      opts.isMac ? { role: 'close' } : { role: 'quit' },
    ],
  };
  const view: MenuItemConstructorOptions = {
    label: 'View',
    submenu: [
      { id: 'figure-theme', label: 'Figure Theme', type: 'checkbox', checked: opts.figureTheme, accelerator: 'CmdOrCtrl+Shift+F', click: () => h.toggleFigureTheme() },
      { type: 'separator' },
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
      ...(opts.dev ? ([{ type: 'separator' }, { role: 'reload' }, { role: 'toggleDevTools' }] as MenuItemConstructorOptions[]) : []),
    ],
  };
  const edit: MenuItemConstructorOptions = { label: 'Edit', submenu: [{ role: 'undo' }, { role: 'redo' }, { type: 'separator' }, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }] };
  return [...(opts.isMac ? [{ role: 'appMenu' } as MenuItemConstructorOptions] : []), file, edit, view, { role: 'windowMenu' }];
}
