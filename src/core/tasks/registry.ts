import { ocrRecallTask } from './ocrRecall';
import { reversalTask } from './reversal';
import type { Task, TaskDefinition } from './taskTypes';
import { twoHopTask } from './twoHop';
import { worldTask } from './world';

/** The one list of tasks. A test checks names are unique. */
export const TASKS: readonly TaskDefinition<unknown>[] = [
  ocrRecallTask as TaskDefinition<unknown>,
  worldTask as TaskDefinition<unknown>,
  twoHopTask as TaskDefinition<unknown>,
  reversalTask as TaskDefinition<unknown>,
];

export function taskDefinition(name: string): TaskDefinition<unknown> {
  const def = TASKS.find((t) => t.name === name);
  if (!def) throw new Error(`unknown task '${name}': expected one of ${TASKS.map((t) => t.name).join(', ')}`);
  return def;
}

export function createTask(name: string, options: Record<string, unknown>): Task {
  const def = taskDefinition(name);
  return def.create(def.resolveOptions(options));
}
