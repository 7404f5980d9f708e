import type { MenuItemConstructorOptions } from 'electron';
import { describe, expect, it } from 'vitest';
import { menuTemplate, type MenuHandlers } from '../../src/main/menuTemplate';

function items(t: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] {
  return t.flatMap((m) => [m, ...(Array.isArray(m.submenu) ? items(m.submenu) : [])]);
}

describe('application menu', () => {
  it('has open workspace, open model (with or without an adapter), new run, export screenshot and figure theme, each wired to its handler', () => {
    const calls: string[] = [];
    const h: MenuHandlers = {
      openWorkspace: () => calls.push('open'),
      openModel: (withAdapter) => calls.push(withAdapter ? 'model+adapter' : 'model'),
      newRun: () => calls.push('new'),
      exportScreenshot: () => calls.push('shot'),
      toggleFigureTheme: () => calls.push('theme'),
    };
    const all = items(menuTemplate(h, { isMac: false, dev: false, figureTheme: true }));
    const byId = (id: string) => all.find((i) => i.id === id) as MenuItemConstructorOptions & { click: () => void };
    for (const id of ['open-workspace', 'open-model', 'open-model-adapter', 'new-run', 'export-screenshot', 'figure-theme']) byId(id).click();
    expect(calls).toEqual(['open', 'model', 'model+adapter', 'new', 'shot', 'theme']);
    expect(byId('open-model').label).toBe('Open Model…');
    // File menu order: workspace, models, then runs.
    const file = menuTemplate(h, { isMac: false, dev: false, figureTheme: false }).find((m) => m.label === 'File');
    expect((file?.submenu as MenuItemConstructorOptions[]).slice(0, 4).map((i) => i.id)).toEqual(['open-workspace', 'open-model', 'open-model-adapter', 'new-run']);
    expect(byId('figure-theme').type).toBe('checkbox');
    expect(byId('figure-theme').checked).toBe(true);
    expect(byId('export-screenshot').label).toMatch(/Screenshot/);
  });

  it('offers dev tools only in development, and the app menu only on macOS', () => {
    const h = { openWorkspace() {}, openModel() {}, newRun() {}, exportScreenshot() {}, toggleFigureTheme() {} };
    const roles = (o: { isMac: boolean; dev: boolean }) => items(menuTemplate(h, { ...o, figureTheme: false })).map((i) => i.role).filter(Boolean);
    expect(roles({ isMac: false, dev: false })).not.toContain('toggleDevTools');
    expect(roles({ isMac: false, dev: true })).toContain('toggleDevTools');
    expect(roles({ isMac: true, dev: false })).toContain('appMenu');
    expect(roles({ isMac: false, dev: false })).toContain('quit');
  });
});
