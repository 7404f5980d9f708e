import type { PromptSamples } from '../../../../shared/api';
import { exampleOf, examplePrompts, type ExamplePrompt } from './promptText';
import { HINT } from '../styles';
import { TokenInput } from './TokenInput';

export interface PromptPickerProps {
  samples: PromptSamples | undefined;
  /** The prompt in use ('' = the backend's default held-out prompt). */
  value: string;
  /** Called with a new prompt: a picked example (with its answer) or checked typed text. */
  onChange(text: string, example?: ExamplePrompt): void;
  /** The model's context length, when known. */
  maxLen?: number;
  /** data-testid prefix: `${p}-select`, `${p}-input`, `${p}-error`. */
  testId: string;
  label?: string;
}

/**
 * A prompt: pick an example (grouped by eval split) or type space-separated tokens; typed text is
 * checked against the vocabulary as you type and applied with Enter.
 */
export function PromptPicker({ samples, value, onChange, maxLen, testId, label = 'Prompt' }: PromptPickerProps) {
  const example = exampleOf(samples, value);
  const selected = example?.key ?? (value.trim() ? 'custom' : '');
  const examples = examplePrompts(samples);
  const pick = (key: string) => {
    if (key === '') onChange('');
    const e = examples.find((x) => x.key === key);
    if (e) onChange(e.tokens.join(' '), e);
  };
  return (
    <div className="view__toolbar" style={{ marginBottom: 0 }}>
      <label className="picker">
        {label}{' '}
        <select data-testid={`${testId}-select`} value={selected} onChange={(e) => pick(e.target.value)} style={{ maxWidth: '30rem' }}>
          <option value="">(default: a held-out prompt)</option>
          {selected === 'custom' && <option value="custom">(typed prompt)</option>}
          {samples?.sets.map((s, si) => (
            <optgroup key={s.name} label={s.name}>
              {s.prompts.map((p, pi) => (
                <option key={pi} value={`${si}:${pi}`}>
                  {p.tokens.join(' ')} → {p.answer}
                </option>
              ))}
            </optgroup>
          ))}
        </select>
      </label>
      <div style={{ flex: '1 1 36rem' }}>
        <TokenInput
          label="Tokens"
          value={value}
          onCommit={(t) => onChange(t, exampleOf(samples, t))}
          vocab={samples?.vocab}
          maxLen={maxLen}
          testId={testId}
          placeholder={examples[0] ? `space-separated tokens, e.g. ${examples[0].tokens.join(' ')}` : 'space-separated tokens'}
        >
          {example && <span style={HINT}>answer: {example.answer}</span>}
        </TokenInput>
      </div>
    </div>
  );
}
