// Flat config: typescript-eslint's recommended rules (not type-aware, to stay fast) plus the layering
// of DESIGN.md §1 / STYLE.md "For this project" 1, enforced with no-restricted-imports per folder:
//   shared → nothing · core → shared · main, cli → core, shared · renderer, preload → shared
// and, inside the renderer, STYLE.md "For this project" 9: a view imports shell/ and figure/, never
// another view's folder (what two views share moves to shell/).
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** An import that climbs out of the current folder (`../…`) into one of these layers of src/. */
const layers = (...names) => ({
  regex: `^(\\.\\./)+(src/)?(${names.join('|')})(/|$)`,
  caseSensitive: true,
  message: `Layering (DESIGN.md §1): this folder may not import from src/{${names.join(',')}}.`,
});

const NODE_BUILTINS = {
  regex: `^(node:.*|(${builtinModules.map((m) => m.replace(/[/]/g, '\\/')).join('|')})(/.*)?)$`,
  caseSensitive: true,
  message: 'Layering: no Node built-ins here (this code runs in a browser or sandbox context).',
};
const TFJS = { group: ['@tensorflow/*'], message: 'Layering: tfjs lives in src/core only; use plain data from src/shared.' };
const ELECTRON = { group: ['electron', 'electron/*'], message: 'Layering: electron is for src/main and src/preload only.' };
const UI = {
  group: ['react', 'react/*', 'react-dom', 'react-dom/*', 'three', 'three/*', '@react-three/*', 'recharts', 'recharts/*'],
  message: 'Layering: UI and DOM libraries belong to src/renderer.',
};

/** The renderer's view folders (src/renderer/src/views/<view>/). */
const VIEWS = fs
  .readdirSync(path.join(import.meta.dirname, 'src/renderer/src/views'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

/** An import from a view folder into another view's folder. */
const otherViews = (view) => ({
  regex: `^(\\.\\./)+(views/)?(${VIEWS.filter((v) => v !== view).join('|')})(/|$)`,
  caseSensitive: true,
  message: `Views (STYLE.md 9): views/${view} may not import another view's files; move what they share to shell/.`,
});

const restrict = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

const NODE_GLOBALS = Object.fromEntries(
  [
    'process', 'console', 'Buffer', 'URL', 'URLSearchParams', 'TextEncoder', 'TextDecoder', 'AbortController',
    'AbortSignal', 'fetch', 'performance', 'queueMicrotask', 'structuredClone', 'setTimeout', 'clearTimeout',
    'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate',
  ].map((name) => [name, 'readonly']),
);

export default defineConfig(
  { ignores: ['out/', 'dist/', 'node_modules/', 'coverage/', 'resources/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: NODE_GLOBALS },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
        },
      ],
    },
  },
  {
    files: ['src/shared/**'],
    rules: restrict(layers('core', 'main', 'cli', 'renderer', 'preload'), NODE_BUILTINS, TFJS, ELECTRON, UI),
  },
  {
    files: ['src/core/**'],
    rules: restrict(layers('main', 'cli', 'renderer', 'preload'), ELECTRON, UI),
  },
  {
    files: ['src/main/**'],
    rules: restrict(layers('cli', 'renderer', 'preload'), UI),
  },
  {
    files: ['src/cli/**'],
    rules: restrict(layers('main', 'renderer', 'preload'), ELECTRON, UI),
  },
  {
    files: ['src/preload/**'],
    rules: restrict(layers('core', 'main', 'cli', 'renderer'), NODE_BUILTINS, TFJS, UI),
  },
  {
    files: ['src/renderer/**'],
    rules: restrict(layers('core', 'main', 'cli', 'preload'), NODE_BUILTINS, TFJS, ELECTRON),
  },
  ...VIEWS.map((view) => ({
    files: [`src/renderer/src/views/${view}/**`],
    rules: restrict(layers('core', 'main', 'cli', 'preload'), NODE_BUILTINS, TFJS, ELECTRON, otherViews(view)),
  })),
);
