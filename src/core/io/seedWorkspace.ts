import fs from 'node:fs';
import path from 'node:path';
import { listRuns } from './runStore';

/**
 * Makes `dir` a workspace: creates it, and when it holds no runs yet copies the example workspace
 * into it. The shipped example stays pristine: runs trained later land in the copy, never in
 * resources/. Returns whether it copied.
 */
export function seedWorkspace(dir: string, exampleDir: string): boolean {
  fs.mkdirSync(dir, { recursive: true });
  if (listRuns(dir).length > 0) return false;
  if (!fs.existsSync(exampleDir)) throw new Error(`example workspace ${exampleDir} is missing`);
  // Copy into a temporary sibling, then move each entry: an interrupted copy leaves no half run.
  const tmp = fs.mkdtempSync(path.join(dir, '.seed-'));
  try {
    fs.cpSync(exampleDir, tmp, { recursive: true });
    for (const entry of fs.readdirSync(tmp)) {
      const to = path.join(dir, entry);
      if (!fs.existsSync(to)) fs.renameSync(path.join(tmp, entry), to);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return true;
}
