#!/usr/bin/env node
// Runs the CLI from its TypeScript sources through tsx's loader (a runtime dependency), so `npx oocr`
// works in a fresh clone without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/index.ts');
