/**
 * A list of texts typed one per line, each optionally labelled: `label<TAB>text`. What the Projection
 * view (points coloured by label) and the LoRA-deltas mode (texts only) send as `texts` / `labels`.
 */
export interface TextList {
  texts: string[];
  /** One label per text when any line has one (unlabelled lines get `DEFAULT_LABEL`); else undefined. */
  labels?: string[];
  /** Why the list cannot be sent (an empty label or text, too many, too long); null when it can. */
  error: string | null;
}

export const DEFAULT_LABEL = 'text';

export function parseTextList(source: string, opts: { maxTexts?: number; maxChars?: number } = {}): TextList {
  const texts: string[] = [];
  const labels: (string | undefined)[] = [];
  let error: string | null = null;
  source.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (!line.trim()) return;
    const tab = line.indexOf('\t');
    const label = tab >= 0 ? line.slice(0, tab).trim() : undefined;
    const text = tab >= 0 ? line.slice(tab + 1) : line;
    if (error) return;
    if (label === '') error = `line ${i + 1}: empty label before the tab`;
    else if (!text.trim()) error = `line ${i + 1}: no text after the label`;
    else if (opts.maxChars !== undefined && text.length > opts.maxChars) error = `line ${i + 1}: ${text.length} characters; at most ${opts.maxChars}`;
    texts.push(text);
    labels.push(label);
  });
  if (!error && opts.maxTexts !== undefined && texts.length > opts.maxTexts) error = `${texts.length} texts; at most ${opts.maxTexts}`;
  const labelled = labels.some((l) => l !== undefined);
  return { texts, ...(labelled ? { labels: labels.map((l) => l ?? DEFAULT_LABEL) } : {}), error };
}

/** The list back as lines (what a text box shows for a parsed list). */
export function formatTextList(list: Pick<TextList, 'texts' | 'labels'>): string {
  return list.texts.map((t, i) => (list.labels ? `${list.labels[i]}\t${t}` : t)).join('\n');
}

/**
 * Example texts for a model (`label<TAB>text` lines when `labelled`): three groups of four, so the
 * colours of a projection show whether the residual stream separates them. A model without a
 * tokenizer reads token ids.
 */
export function exampleTexts(opts: { tokenizer: boolean; labelled: boolean }): string {
  const groups: [string, string[]][] = opts.tokenizer
    ? [
        ['city', ['Paris is a city in France', 'Tokyo is the capital of Japan', 'Berlin is a large city', 'Rome has many old churches']],
        ['animal', ['The cat sat on the mat', 'A dog barked at the mailman', 'The horse ran across the field', 'Birds sing in the morning']],
        ['number', ['One plus one is two', 'Seven times six is forty-two', 'Ten minus three is seven', 'Half of eight is four']],
      ]
    : [
        ['low', ['#1 #2 #3', '#2 #3 #4', '#3 #4 #5 #6', '#4 #5']],
        ['high', ['#40 #41 #42', '#41 #42 #43', '#42 #43 #44 #45', '#43 #44']],
      ];
  return groups.flatMap(([label, texts]) => texts.map((t) => (opts.labelled ? `${label}\t${t}` : t))).join('\n');
}
