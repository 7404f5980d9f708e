// `npm start`: build with electron-vite, then launch Electron on out/main. Arguments after `--` go to
// the app, e.g. `npm start -- --backend=wasm`.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Path of the Electron binary, or null when the electron package has none (download blocked). */
function electronBinary() {
  try {
    const path = require('electron'); // the package's main export is the binary's path
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

if (!electronBinary()) {
  console.error(
    [
      'The Electron binary is not installed: node_modules/electron has no downloaded binary.',
      'Downloads from GitHub are blocked on this machine. On a machine with internet access run',
      '  node node_modules/electron/install.js',
      'and then `npm start` again. A browser-based web mode (`npm run web`) is coming.',
    ].join('\n'),
  );
  process.exit(1);
}

const { preview } = await import('electron-vite');
process.env.ELECTRON_CLI_ARGS = JSON.stringify(process.argv.slice(2));
await preview({}, { skipBuild: false });
