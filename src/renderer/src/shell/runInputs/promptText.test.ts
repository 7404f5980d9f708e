import { describe, expect, it } from 'vitest';
import { worldSamples } from './mocks/samples';
import { checkPromptText, diffPositions, exampleOf, examplePrompts } from './promptText';

describe('prompt text', () => {
  const vocab = worldSamples.vocab;

  it('accepts known tokens and empty text (backend default)', () => {
    expect(checkPromptText('  city_0   rel_dist end ', vocab)).toEqual({ tokens: ['city_0', 'rel_dist', 'end'], unknown: [], error: null });
    expect(checkPromptText('   ', vocab).error).toBeNull();
  });

  it('lists unknown tokens once each', () => {
    const c = checkPromptText('city_0 citty_3 foo citty_3 end', vocab);
    expect(c.unknown).toEqual(['citty_3', 'foo']);
    expect(c.error).toBe('unknown tokens: citty_3, foo');
  });

  it('checks length against the context and a required length', () => {
    expect(checkPromptText('end end end', vocab, { maxLen: 2 }).error).toMatch(/exceed the model's context of 2/);
    expect(checkPromptText('end end', vocab, { length: 3 }).error).toMatch(/needs 3/);
    expect(checkPromptText('end end end', vocab, { length: 3, maxLen: 6 }).error).toBeNull();
  });

  it('does not flag tokens before the vocabulary is known', () => {
    expect(checkPromptText('anything goes', undefined).error).toBeNull();
  });

  it('finds examples by split and by their text', () => {
    const ex = examplePrompts(worldSamples);
    expect(ex).toHaveLength(6);
    expect(ex[0]).toMatchObject({ key: '0:0', set: 'world_country', answer: 'country_0' });
    expect(exampleOf(worldSamples, ` ${ex[3].tokens.join('  ')} `)?.key).toBe('1:1');
    expect(exampleOf(worldSamples, 'end')).toBeUndefined();
    expect(exampleOf(worldSamples, '')).toBeUndefined();
  });

  it('finds where a corrupted prompt differs', () => {
    expect(diffPositions(['a', 'b', 'c'], ['a', 'x', 'c'])).toEqual([1]);
    expect(diffPositions(['a'], ['b', 'c'])).toEqual([0]);
  });
});
