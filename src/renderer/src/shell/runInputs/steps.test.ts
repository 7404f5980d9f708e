import { describe, expect, it } from 'vitest';
import { resolveStep } from './steps';

describe('checkpoint steps', () => {
  it('keeps a chosen step only when the run has it', () => {
    expect(resolveStep(500, [250, 500], 250)).toBe(500);
    expect(resolveStep(750, [250, 500], 250)).toBe(250);
    expect(resolveStep(null, [250, 500], 500)).toBe(500);
  });
});
