import type { ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { TrainConfig } from '../../shared/modelConfig';
import { PRESETS } from '../presets';
import { checkTrainConfig } from '../train/trainRun';
import type { RunSnapshot } from './runSnapshot';

/**
 * What the coordinator (`oocr sweep --redis`) and the workers (`oocr worker`) agree on: the BullMQ
 * queue, the job payloads, and the Redis keys beside the queue that carry run folders (so no shared
 * filesystem is needed) and a sweep's cancel flag.
 */

export const DEFAULT_QUEUE = 'oocr-cells';
/** Old payloads are refused by name rather than misread. */
export const CELL_JOB_FORMAT = 'oocr-cell/1';
/** The field of a cell's file hash naming who may write it (a worker's job token, or the coordinator). */
export const OWNER_FIELD = '\u0000owner';

export interface CellJobData {
  format: typeof CELL_JOB_FORMAT;
  sweepId: string;
  sweepName: string;
  cellId: string;
  preset: string;
  config: TrainConfig;
  versions?: Record<string, string>;
}

/** What the ids may look like: they become folder names on the worker. */
const SWEEP_ID = /^[A-Za-z0-9-]{1,64}$/;
const CELL_ID = /^[A-Za-z0-9.+%_-]{1,200}$/;

/**
 * Checks a job's payload before anything runs: anyone who can write to the queue reaches this, so ids
 * that would climb out of the workspace, unknown presets and invalid configs are refused by name.
 */
export function checkCellJob(data: unknown): CellJobData {
  const d = data as Partial<CellJobData> | null;
  if (typeof d !== 'object' || d === null || d.format !== CELL_JOB_FORMAT) throw new Error(`not an ${CELL_JOB_FORMAT} cell (format ${JSON.stringify(d?.format)})`);
  if (typeof d.sweepId !== 'string' || !SWEEP_ID.test(d.sweepId)) throw new Error(`bad sweep id ${JSON.stringify(d.sweepId)}`);
  if (typeof d.cellId !== 'string' || !CELL_ID.test(d.cellId) || /^\.+$/.test(d.cellId)) throw new Error(`bad cell id ${JSON.stringify(d.cellId)}`);
  if (typeof d.sweepName !== 'string') throw new Error('no sweep name');
  if (typeof d.preset !== 'string' || !Object.hasOwn(PRESETS, d.preset)) throw new Error(`unknown preset ${JSON.stringify(d.preset)}`);
  const config = checkTrainConfig(d.config);
  if (d.versions !== undefined && (typeof d.versions !== 'object' || d.versions === null || Object.values(d.versions).some((v) => typeof v !== 'string'))) throw new Error('versions must map names to strings');
  return { format: CELL_JOB_FORMAT, sweepId: d.sweepId, sweepName: d.sweepName, cellId: d.cellId, preset: d.preset, config, ...(d.versions ? { versions: d.versions } : {}) };
}

export interface CellJobResult {
  status: 'completed' | 'cancelled';
  finalMetrics?: Record<string, number>;
  steps: number;
  worker: string;
}

/** What a worker reports through job.updateProgress. */
export interface CellProgress {
  worker: string;
  step: number;
  totalSteps: number;
  loss?: number;
}

export interface RedisTarget {
  url: string;
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
}

/** A Redis URL fit for messages and logs: its password replaced by ***. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

/** Parses `redis://[user:pass@]host[:port][/db]` (or `rediss://` for TLS), with a clear error otherwise. */
export function parseRedisUrl(url: string): RedisTarget {
  const shown = redactRedisUrl(url);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--redis ${JSON.stringify(shown)}: not a URL; expected redis://HOST:PORT`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`--redis ${shown}: expected a redis:// or rediss:// URL`);
  if (!u.hostname) throw new Error(`--redis ${shown}: no host`);
  const port = u.port ? Number(u.port) : 6379;
  const dbPart = u.pathname.replace(/^\//, '');
  const db = dbPart === '' ? 0 : Number(dbPart);
  if (!Number.isInteger(db) || db < 0 || db > 15) throw new Error(`--redis ${shown}: database must be 0–15, got '${dbPart}'`);
  return {
    url,
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    tls: u.protocol === 'rediss:',
  };
}

/** Options for ioredis and BullMQ connections (BullMQ's blocking worker connection needs maxRetriesPerRequest null). */
export function connectionOptions(t: RedisTarget): ConnectionOptions & RedisOptions {
  return {
    host: t.host,
    port: t.port,
    db: t.db,
    ...(t.username ? { username: t.username } : {}),
    ...(t.password ? { password: t.password } : {}),
    ...(t.tls ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
    // Fail a first connection quickly with the address in the message instead of retrying forever.
    retryStrategy: (times: number) => (times > 20 ? null : Math.min(times * 200, 2000)),
  };
}

/** A plain client for the keys beside the queue; resolves once connected, or rejects naming the address. */
export async function connectRedis(t: RedisTarget): Promise<Redis> {
  const client = new Redis({ ...connectionOptions(t), lazyConnect: true, retryStrategy: (n: number) => (n > 3 ? null : 200) });
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    client.disconnect();
    throw new Error(`cannot reach Redis at ${t.host}:${t.port} (${(err as Error).message}); is redis-server running there?`);
  }
  return client;
}

/** BullMQ job ids may not contain ':'; sweep ids are UUIDs and cell ids are [A-Za-z0-9.+%_-]. */
export function cellJobId(sweepId: string, cellId: string): string {
  return `${sweepId}.${cellId}`;
}

export function filesKey(queue: string, jobId: string): string {
  return `oocr:${queue}:files:${jobId}`;
}

export function cancelKey(queue: string, sweepId: string): string {
  return `oocr:${queue}:cancel:${sweepId}`;
}

/**
 * Replaces some files of a cell's hash and removes others, only while `owner` still owns it: a worker
 * that lost its job (its lock expired and another took over) must not overwrite the new owner's run.
 */
const UPLOAD = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
local nDel = tonumber(ARGV[3])
for i = 1, nDel do redis.call('HDEL', KEYS[1], ARGV[3 + i]) end
for i = 4 + nDel, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
`;

export class LostOwnershipError extends Error {
  constructor(jobId: string) {
    super(`cell ${jobId}: another worker has taken this cell over; this copy stops`);
    this.name = 'LostOwnershipError';
  }
}

/**
 * A cell's run folder in Redis, written by whoever owns the cell. Uploads are deltas: only files
 * whose bytes changed since the last upload travel again.
 */
export class CellFiles {
  private sent = new Map<string, Buffer>();

  constructor(
    private readonly redis: Redis,
    readonly key: string,
    readonly owner: string,
  ) {}

  /** Takes the cell over (a new attempt) and returns the files stored so far (empty for a fresh cell). */
  async claim(): Promise<RunSnapshot> {
    await this.redis.hset(this.key, OWNER_FIELD, this.owner);
    const all = await this.redis.hgetallBuffer(this.key);
    const snap: RunSnapshot = new Map();
    for (const [k, v] of Object.entries(all)) if (k !== OWNER_FIELD) snap.set(k, v);
    this.sent = new Map(snap);
    return snap;
  }

  /** Makes the hash hold exactly `snap`; throws LostOwnershipError when another owner has claimed it. */
  async upload(snap: RunSnapshot): Promise<void> {
    const removed = [...this.sent.keys()].filter((k) => !snap.has(k));
    const changed = [...snap].filter(([k, v]) => !this.sent.get(k)?.equals(v));
    if (removed.length === 0 && changed.length === 0) return;
    const args: (string | Buffer)[] = [OWNER_FIELD, this.owner, String(removed.length), ...removed];
    for (const [k, v] of changed) args.push(k, v);
    const ok = await this.redis.eval(UPLOAD, 1, this.key, ...args);
    if (ok !== 1) throw new LostOwnershipError(this.key);
    this.sent = new Map(snap);
  }
}

/** The files of a cell as stored (without the owner field); empty when none. */
export async function readCellFiles(redis: Redis, key: string): Promise<RunSnapshot> {
  const all = await redis.hgetallBuffer(key);
  return new Map(Object.entries(all).filter(([k]) => k !== OWNER_FIELD));
}
