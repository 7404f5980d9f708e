import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { Redis } from 'ioredis';

/**
 * A real redis-server for the distributed-sweep tests: the one `.ci/run` started (OOCR_TEST_REDIS_URL),
 * else one started here on a free loopback port (stopped by `stop`), else none (the tests skip,
 * saying why).
 */
export interface TestRedis {
  url: string;
  stop: () => Promise<void>;
}

export const REDIS_UNAVAILABLE =
  process.env.OOCR_TEST_REDIS_URL || spawnSync('redis-server', ['--version']).status === 0 ? null : 'no redis-server on PATH and OOCR_TEST_REDIS_URL unset (.ci/run installs Debian redis-server)';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function ping(url: string): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  r.on('error', () => {});
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/** The shared server (OOCR_TEST_REDIS_URL's when set), or with `own` always a new one (a test may kill it), on `port` if given. */
export async function startTestRedis(opts: { own?: boolean; port?: number } = {}): Promise<TestRedis> {
  const given = process.env.OOCR_TEST_REDIS_URL;
  if (given && !opts.own) return { url: given, stop: async () => {} };
  const port = opts.port ?? (await freePort());
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  while (!(await ping(url))) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode} on port ${port}`);
    if (Date.now() > deadline) throw new Error(`redis-server did not answer on ${url} within 20 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
