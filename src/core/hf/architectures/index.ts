import { gemma } from './gemma';
import { gpt2 } from './gpt2';
import { gptNeox } from './gptNeox';
import { llama } from './llama';
import { qwen2 } from './qwen2';
import type { HfArchitecture } from './types';

/** Adding an architecture: one file in this folder, one entry here, one model in test/hf/make_models.py. */
export const ARCHITECTURES: readonly HfArchitecture[] = [gpt2, gptNeox, llama, qwen2, gemma];

export const SUPPORTED_MODEL_TYPES: readonly string[] = ARCHITECTURES.flatMap((a) => a.modelTypes);

export function architectureFor(modelType: string): HfArchitecture | undefined {
  return ARCHITECTURES.find((a) => a.modelTypes.includes(modelType));
}
