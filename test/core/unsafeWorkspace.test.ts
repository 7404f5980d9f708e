import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { RunSummary } from '../../src/shared/api';
import { startWebServer, type WebServer } from '../../src/cli/commands/serve';
import { analyzeRequest } from '../../src/core/runs/analyzeRequest';
import { createWorkbench, type Workbench } from '../../src/core/workbench';
import { fifoReleaser, linkToDevZero, mkfifo, POSIX, timed } from '../io/unsafeFiles';

/**
 * A workspace with a FIFO run.json, a run whose latest checkpoint is a FIFO and one whose latest
 * checkpoint is a symlink to /dev/zero. Listing, reading and analysing them — in process, through the
 * workbench (analysis worker) and over `oocr serve`'s HTTP API — each answers within a second with an
 * error naming the file and what it is, and the next request is still answered.
 */

const ROOT = path.resolve(__dirname, '../..');
const SOURCE_RUN = path.join(ROOT, 'resources/workspace/ocr-factorized');
const LATEST = 'checkpoints/step-002000.safetensors';

let ws: string;
let staticDir: string;
let releaser: { stop(): void };
let wb: Workbench;
let srv: WebServer;

beforeAll(async () => {
  if (!POSIX) return;
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-unsafe-ws-'));
  staticDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-unsafe-static-'));
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>OOCR Workbench</title>');
  fs.cpSync(SOURCE_RUN, path.join(ws, 'good'), { recursive: true });
  fs.mkdirSync(path.join(ws, 'fifo-manifest'));
  mkfifo(path.join(ws, 'fifo-manifest', 'run.json'));
  for (const name of ['fifo-ckpt', 'zero-ckpt']) {
    fs.cpSync(SOURCE_RUN, path.join(ws, name), { recursive: true });
    fs.rmSync(path.join(ws, name, LATEST));
  }
  mkfifo(path.join(ws, 'fifo-ckpt', LATEST));
  linkToDevZero(path.join(ws, 'zero-ckpt', LATEST));
  // Frees a reader that would block on a FIFO, so a regression fails here instead of hanging.
  releaser = fifoReleaser([path.join(ws, 'fifo-manifest', 'run.json'), path.join(ws, 'fifo-ckpt', LATEST)]);
  wb = createWorkbench({ workspaceDir: ws });
  srv = await startWebServer(createWorkbench({ workspaceDir: ws }), { staticDir, log: () => {} });
});

afterAll(async () => {
  wb?.dispose();
  await srv?.close();
  releaser?.stop();
  if (ws) fs.rmSync(ws, { recursive: true, force: true });
  if (staticDir) fs.rmSync(staticDir, { recursive: true, force: true });
});

const FIFO = /is a FIFO, not a regular file/;
const DEVICE = /is a character device, not a regular file/;

function post(method: string, args?: unknown): Promise<{ status: number; json: { result?: unknown; error?: string } }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(args === undefined ? {} : { args });
    const req = http.request(
      {
        host: '127.0.0.1',
        port: srv.port,
        path: `/api/${method}`,
        method: 'POST',
        headers: { host: `127.0.0.1:${srv.port}`, authorization: `Bearer ${srv.token}`, 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as { result?: unknown; error?: string } }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe.skipIf(!POSIX)('a workspace holding FIFOs and /dev/zero links', () => {
  it('lists its runs at once, the broken one with its error', async () => {
    const r = await timed(() => wb.call('listRuns', undefined) as Promise<RunSummary[]>);
    expect(r.ms).toBeLessThan(1000);
    const runs = r.value as RunSummary[];
    expect(runs.map((x) => x.id).sort()).toEqual(['fifo-ckpt', 'fifo-manifest', 'good', 'zero-ckpt']);
    const broken = runs.find((x) => x.id === 'fifo-manifest');
    expect(broken?.error).toContain(path.join(ws, 'fifo-manifest', 'run.json'));
    expect(broken?.error).toMatch(FIFO);
    expect(runs.find((x) => x.id === 'good')?.error).toBeUndefined();
  });

  it('reading the run with a FIFO run.json is refused at once, naming it', async () => {
    const r = await timed(() => wb.call('getRun', { id: 'fifo-manifest' }));
    expect(r.ms).toBeLessThan(1000);
    expect(r.error?.message).toContain(path.join(ws, 'fifo-manifest', 'run.json'));
    expect(r.error?.message).toMatch(FIFO);
  });

  it('analysing a FIFO or /dev/zero checkpoint is refused at once, in process', async () => {
    for (const [id, problem] of [
      ['fifo-ckpt', FIFO],
      ['zero-ckpt', DEVICE],
    ] as const) {
      const r = await timed(() => analyzeRequest(path.join(ws, id), { kind: 'attention', id }));
      expect(r.ms, id).toBeLessThan(1000);
      expect(r.error?.message).toContain(path.join(ws, id, LATEST));
      expect(r.error?.message).toMatch(problem);
    }
  });

  it('the analysis worker refuses them at once and keeps answering', async () => {
    // The worker's first start (tfjs, the backend) is not what is measured.
    await wb.call('analyze', { kind: 'attention', id: 'good' });
    for (const [id, problem] of [
      ['fifo-ckpt', FIFO],
      ['zero-ckpt', DEVICE],
    ] as const) {
      const r = await timed(() => wb.call('analyze', { kind: 'attention', id }));
      expect(r.ms, id).toBeLessThan(1000);
      expect(r.error?.message).toContain(path.join(ws, id, LATEST));
      expect(r.error?.message).toMatch(problem);
    }
    const again = await timed(() => wb.call('analyze', { kind: 'attention', id: 'good', step: 1750 }));
    expect(again.error).toBeUndefined();
    // An earlier checkpoint of the same runs is still readable.
    expect((await timed(() => wb.call('analyze', { kind: 'attention', id: 'fifo-ckpt', step: 1750 }))).error).toBeUndefined();
  });

  it('oocr serve answers each with a clear error within a second and then the next request', async () => {
    const list = await timed(() => post('listRuns'));
    expect(list.ms).toBeLessThan(1000);
    expect(list.value?.status).toBe(200);
    expect(JSON.stringify(list.value?.json.result)).toMatch(FIFO);

    const run = await timed(() => post('getRun', { id: 'fifo-manifest' }));
    expect(run.ms).toBeLessThan(1000);
    expect(run.value?.status).toBeGreaterThanOrEqual(400);
    expect(run.value?.json.error).toMatch(FIFO);

    await post('analyze', { kind: 'attention', id: 'good' }); // starts the server's analysis worker
    for (const [id, problem] of [
      ['fifo-ckpt', FIFO],
      ['zero-ckpt', DEVICE],
    ] as const) {
      const r = await timed(() => post('analyze', { kind: 'attention', id }));
      expect(r.ms, id).toBeLessThan(1000);
      expect(r.value?.status, id).toBeGreaterThanOrEqual(400);
      expect(r.value?.json.error).toContain(path.join(ws, id, LATEST));
      expect(r.value?.json.error).toMatch(problem);
    }
    const next = await timed(() => post('getRun', { id: 'good' }));
    expect(next.ms).toBeLessThan(1000);
    expect(next.value?.status).toBe(200);
  });
});
