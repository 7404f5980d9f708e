// `npm start`: build with electron-vite, then launch Electron on out/main. Arguments after `--` go to
// the app, e.g. `npm start -- --backend=wasm`.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * Path of the Electron binary, or null when the electron package has none (download blocked). Read
 * from the package's path.txt: since Electron 45, `require('electron')` itself tries to download a
 * missing binary.
 */
function electronBinary() {
  try {
    const dir = dirname(require.resolve('electron/package.json'));
    const pathFile = join(dir, 'path.txt');
    if (!existsSync(pathFile)) return null;
    const bin = join(process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(dir, 'dist'), readFileSync(pathFile, 'utf8').trim());
    return existsSync(bin) ? bin : null;
  } catch {
    return null;
  }
}

// package.json's allowScripts denies electron's postinstall so that `npm ci` passes where GitHub is
// unreachable; fetch the binary here instead, on first start, where the network allows it.
if (!electronBinary()) {
  const installer = require.resolve('electron/install.js');
  console.error('Electron binary missing; trying to download it once (node_modules/electron/install.js)…');
  spawnSync(process.execPath, [installer], { stdio: 'inherit', timeout: 180_000 });
}

if (!electronBinary()) {
  console.error(
    [
      'The Electron binary is not installed (node_modules/electron has no downloaded binary),',
      'and downloading it failed (this machine cannot reach GitHub?). With internet access, run',
      '  node node_modules/electron/install.js',
      'and then `npm start` again. Meanwhile the browser-based web mode works here: `npm run web`.',
    ].join('\n'),
  );
  process.exit(1);
}

const { preview } = await import('electron-vite');
process.env.ELECTRON_CLI_ARGS = JSON.stringify(process.argv.slice(2));
await preview({}, { skipBuild: false });
