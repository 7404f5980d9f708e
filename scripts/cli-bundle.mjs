// Whether the CLI bundle (out/cli, built by scripts/build-cli.mjs) matches the sources it was built from:
// read by bin/oocr.mjs at every start, so it imports nothing but node:fs and node:path.
import fs from 'node:fs';
import path from 'node:path';

export const STAMP_FORMAT = 'oocr-cli-build/1';

/**
 * The bundle's entry (ROOT/out/cli/index.js) when every file listed in out/cli/stamp.json still has the
 * size and mtime recorded there (a checkout, an edit or a reinstalled tfjs makes it stale), else null.
 */
export function freshBundle(root) {
  try {
    const stamp = JSON.parse(fs.readFileSync(path.join(root, 'out/cli/stamp.json'), 'utf8'));
    if (stamp.format !== STAMP_FORMAT) return null;
    for (const [rel, rec] of Object.entries(stamp.files)) {
      const st = fs.statSync(path.join(root, rel));
      if (st.size !== rec.size || st.mtimeMs !== rec.mtimeMs) return null;
    }
    const entry = path.join(root, 'out/cli/index.js');
    return fs.existsSync(entry) && fs.existsSync(path.join(root, 'out/cli/jobWorker.js')) ? entry : null;
  } catch {
    // No build, or a file it was built from is gone.
    return null;
  }
}
