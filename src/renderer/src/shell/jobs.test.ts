import { describe, expect, it } from 'vitest';
import { applySweepState } from './jobs';

describe('live sweeps in the status bar', () => {
  it('follows sweep-state events: queued and running kept by name, ended ones dropped, other events ignored', () => {
    let s = applySweepState({}, { kind: 'sweep-state', sweep: 'rank', state: 'queued' });
    expect(s).toEqual({ rank: 'queued' });
    s = applySweepState(s, { kind: 'sweep-state', sweep: 'rank', state: 'running' });
    s = applySweepState(s, { kind: 'sweep-state', sweep: 'other', state: 'running' });
    expect(s).toEqual({ rank: 'running', other: 'running' });
    expect(applySweepState(s, { kind: 'workspace-changed' } as never)).toBe(s);
    s = applySweepState(s, { kind: 'sweep-state', sweep: 'rank', state: 'completed' });
    s = applySweepState(s, { kind: 'sweep-state', sweep: 'other', state: 'cancelled', message: 'x' });
    expect(s).toEqual({});
  });
});
