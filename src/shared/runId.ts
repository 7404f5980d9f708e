import { z } from 'zod';

/**
 * One folder name of a run id: letters, digits, . _ -, not starting with a dot (so never '.', '..' or
 * a hidden folder) — no '/', '\', NUL or any other character a path could be bent with.
 */
const SEGMENT = '[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}';

/** A run's id: its folder relative to the workspace (one level of nesting: `group/name`), never leaving it. */
export const RunId = z
  .string()
  .min(1)
  .max(300)
  .regex(new RegExp(`^${SEGMENT}(/${SEGMENT})?$`), 'a run id is a folder name (optionally group/name) of letters, digits, . _ -, not starting with a dot');

/**
 * The name of a new run or study: exactly one folder name directly in the workspace (so a new run can
 * never be created inside another run's folder, as `x/checkpoints` would).
 */
export const RunName = z
  .string()
  .min(1)
  .max(200)
  .regex(new RegExp(`^${SEGMENT}$`), 'a run name is one folder name of letters, digits, . _ - (no /), not starting with a dot');
