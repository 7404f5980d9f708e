import { z } from 'zod';

/**
 * One folder name of a run id: letters, digits, . _ -, not starting with a dot (so never '.', '..' or
 * a hidden folder) — no '/', '\', NUL or any other character a path could be bent with.
 */
const SEGMENT = '[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}';

/**
 * A sweep cell's folder name (src/core/sweeps/sweepSpec.ts cellId): `key-value` parts joined by `_`,
 * values %-escaped, so also `%` and `+`; it starts with a key (a letter), never with a dot.
 */
const CELL = '[A-Za-z0-9][A-Za-z0-9._%+-]{0,399}';

/**
 * A run's id: its folder relative to the workspace (one level of nesting: `group/name`), or a sweep
 * cell's run (`sweeps/<sweep>/runs/<cell>`, docs/sweeps.md), never leaving it.
 */
export const RunId = z
  .string()
  .min(1)
  .max(720)
  .regex(
    new RegExp(`^(${SEGMENT}(/${SEGMENT})?|sweeps/${SEGMENT}/runs/${CELL})$`),
    'a run id is a folder name (optionally group/name, or sweeps/<sweep>/runs/<cell>) of letters, digits, . _ -, not starting with a dot',
  );

/**
 * The name of a new run or study: exactly one folder name directly in the workspace (so a new run can
 * never be created inside another run's folder, as `x/checkpoints` would).
 */
export const RunName = z
  .string()
  .min(1)
  .max(200)
  .regex(new RegExp(`^${SEGMENT}$`), 'a run name is one folder name of letters, digits, . _ - (no /), not starting with a dot');
