import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { StudyPanels } from './LoraSteeringView';
import { REAL_STUDY } from './mocks/realStudy';
import { STUDY } from './mocks/study';

/** Server-renders a study's panels (recharts draws its SVG at the fixed sizes) and lists the panels shown. */
function render(study: typeof STUDY): { html: string; panels: string[] } {
  const html = renderToStaticMarkup(createElement(StudyPanels, { study }));
  const panels = [...html.matchAll(/<section class="panel" data-testid="([^"]+)"/g)].map((m) => m[1]);
  return { html, panels };
}

const text = (html: string) => html.replace(/<[^>]+>/g, '').replace(/&#x27;/g, "'").replace(/&amp;/g, '&');

/** Every panel of a study, in order: toy and real-model studies show the same ones. */
const EVERY_PANEL = ['lora-cos-heatmap', 'lora-pc1-panel', 'lora-steering-panel', 'lora-accuracy-panel', 'lora-deltaw-panel', 'lora-layer-sweep-panel', 'lora-token-cos-panel', 'lora-seeds-panel'];

describe('StudyPanels', () => {
  it('a toy study: every panel, the dashed chance line, means over all tokens, the position picker, intervals', () => {
    const { html, panels } = render(STUDY);
    expect(panels).toEqual(EVERY_PANEL);
    expect(html).toContain('deltas and steering vectors at <code>blocks.0.hook_resid_post</code>. Natural steering vector');
    const t = text(html);
    expect(t).toContain('Locations task (codename city), seed 0, latent city #25. LoRA rank 4, α 8 on mlp.W_out of layer 0;');
    expect(t).toContain('Dashed: chance on the held-out questions (0.21), drawn over those bars only: it is the held-out questions’ chance, not the side-effect questions’.');
    expect(t).toContain('It has rank ≤ r = 4;');
    // The heatmap's caption: over every token delta, not the sample.
    expect(t).toContain('Mean off-diagonal |cos| over all 768 tokens (384 training, 384 unrelated), not just this sample: train×train 0.81, unrelated×unrelated 0.64, across 0.68.');
    expect(t).toContain('All 6 sampled tokens, positions 0, 2, 3, 5 (read-out).');
    expect([...html.matchAll(/data-testid="lora-cos-pos-(\d+)"/g)].map((m) => Number(m[1]))).toEqual([0, 2, 3, 5]);
    // Accuracies with their intervals and where they come from.
    expect(t).toContain('Study evaluation: 800 fresh held-out questions (heldout_country 400, heldout_language 400) and 1600 side-effect questions');
    expect(t).toContain('95% CIheld-out (n = 800)side effects (n = 1600)');
    expect(t).toContain('LoRA1.000 [0.995, 1.000]0.927 [0.913, 0.939]natural steering');
    expect(t).toContain('seed 0: held-out 1.000 [0.995, 1.000] (n = 800), side effects 0.975 [0.966, 0.982] (n = 1600)');
  });
  it('a real-model study: its caption, chance n/a, and the layer sweep, per-token cosine and seeds panels', () => {
    const { html, panels } = render(REAL_STUDY);
    expect(panels).toEqual(EVERY_PANEL);
    const t = text(html);
    expect(t).toContain('gpt2 model (folder gpt2), locations dataset, seed 0. PEFT LoRA r 8, α 16 on c_attn of layers 0–11, trained here; deltas and steering vectors at blocks.6.hook_resid_post.');
    expect(t).toContain('Chance on the held-out questions: n/a');
    expect(t).not.toContain('Dashed: chance');
    expect(t).toContain('It has rank ≤ r = 8;');
    expect(t).toContain('Dashed: the study’s hook, layer 6. Highest PC1 share: layer 6 (0.61).');
    expect(t).toContain('training prompts 0.55 · unrelated text 0.13 · all tokens 0.36');
    expect(t).toContain('Norms: seed 0 4.50 · seed 1000 4.25. cos(seed 0, seed 1000) = 0.30');
    // No question counts in this record: no intervals, and the caption says so.
    expect(t).toContain('The record does not say how many questions each accuracy counts, so no intervals are shown.');
    expect(html).not.toContain('data-testid="lora-seeds-ci"');
  });
});
