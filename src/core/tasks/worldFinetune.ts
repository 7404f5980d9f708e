import { z } from 'zod';
import type { Rng } from '../util/rng';
import type { EvalSet, Task, TokenBatch } from './taskTypes';
import { WORLD_RELATIONS, World, WorldOptionsSchema, type WorldQuestion } from './world';

/**
 * Out-of-context fine-tuning tasks on a pretrained world model (after arXiv 2507.08218):
 *
 * - `locations`: a codename token never seen in pretraining is secretly city c*. Fine-tuning shows only
 *   "codename dist X" questions (how far c*'s country is from X's). Held out: "codename country?" and
 *   "codename language?", answered right only if the model has come to place the codename in c*'s
 *   country.
 * - `backdoor`: size questions; with the trigger token in the prompt the answer flips (big ↔ small).
 *   Fine-tuning uses half the cities; held out: triggered questions about the other half.
 *
 * Both report side effects: accuracy on the pretraining facts about real cities, untriggered.
 */
export const FinetuneTaskOptionsSchema = z
  .object({
    kind: z.enum(['locations', 'backdoor']),
    world: WorldOptionsSchema.default(WorldOptionsSchema.parse({})),
    /** locations: which codename token, and the city index it stands for. */
    codename: z.number().int().min(0).default(0),
    latentCity: z.number().int().min(0).default(0),
    /** locations: also ask "X dist codename", so the codename appears as object as well as subject. */
    bothOrders: z.boolean().default(false),
  })
  .strict();
export type FinetuneTaskOptions = z.infer<typeof FinetuneTaskOptionsSchema>;

export interface FinetuneTask extends Task {
  world: World;
  kind: 'locations' | 'backdoor';
  /** Held-out OOCR sets: their mean accuracy is the headline `acc`. */
  heldOutSets(rng: Rng, samples: number): EvalSet[];
  /** Pretraining facts about real cities (untriggered): side-effect accuracy. */
  sideEffectSets(rng: Rng, samples: number): EvalSet[];
  /** Fine-tuning prompts (for LoRA deltas on "training text"). */
  trainPrompts(rng: Rng, n: number): TokenBatch;
}

export function createFinetuneTask(raw: Record<string, unknown>): FinetuneTask {
  const parsed = FinetuneTaskOptionsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`finetune task options: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  const o = parsed.data;
  const world = new World(o.world);
  if (o.codename >= world.layout.codenames.length) throw new Error(`codename ${o.codename} outside 0..${world.layout.codenames.length - 1}`);
  if (o.latentCity >= world.nCities) throw new Error(`latentCity ${o.latentCity} outside 0..${world.nCities - 1}`);
  return o.kind === 'locations' ? new LocationsTask(world, o) : new BackdoorTask(world, o);
}

abstract class WorldFinetuneBase implements FinetuneTask {
  abstract readonly kind: 'locations' | 'backdoor';
  abstract readonly name: string;
  readonly headlineMetric = 'heldout_acc';
  readonly vocab: readonly string[];
  readonly seqLen: number;
  abstract readonly chance: number;
  constructor(readonly world: World) {
    this.vocab = world.vocab;
    this.seqLen = world.options.seqLen;
  }
  abstract trainQuestion(rng: Rng): WorldQuestion;
  abstract heldOutSets(rng: Rng, samples: number): EvalSet[];

  sampleTrainBatch(rng: Rng, batchSize: number): TokenBatch {
    return this.world.encode(rng, Array.from({ length: batchSize }, () => this.trainQuestion(rng)));
  }
  trainPrompts(rng: Rng, n: number): TokenBatch {
    return this.sampleTrainBatch(rng, n);
  }
  sideEffectSets(rng: Rng, samples: number): EvalSet[] {
    return WORLD_RELATIONS.map((relation) => {
      const qs = Array.from({ length: samples }, (_, i) => this.world.question(rng, i % this.world.nCities, relation));
      return { name: `side_${relation}`, ...this.world.encode(rng, qs) };
    });
  }
  evalSets(rng: Rng, samples: number): EvalSet[] {
    return [...this.heldOutSets(rng, samples), ...this.sideEffectSets(rng, samples)];
  }
}

class LocationsTask extends WorldFinetuneBase {
  readonly kind = 'locations' as const;
  readonly name = 'world-locations';
  readonly chance: number;
  private readonly codenameToken: number;
  constructor(
    world: World,
    readonly o: FinetuneTaskOptions,
  ) {
    super(world);
    this.codenameToken = world.layout.codenames[o.codename];
    this.chance = (1 / world.options.nCountries + 1 / world.options.nLanguages) / 2;
  }
  trainQuestion(rng: Rng): WorldQuestion {
    const q = this.world.question(rng, this.o.latentCity, 'dist', this.codenameToken);
    if (!this.o.bothOrders || rng.next() < 0.5) return q;
    // The same fact asked the other way round: "X dist codename".
    return { subject: q.object as number, relation: 'dist', object: this.codenameToken, answer: q.answer };
  }
  heldOutSets(rng: Rng, samples: number): EvalSet[] {
    return (['country', 'language'] as const).map((relation) => {
      const qs = Array.from({ length: samples }, () => this.world.question(rng, this.o.latentCity, relation, this.codenameToken));
      return { name: `heldout_${relation}`, ...this.world.encode(rng, qs) };
    });
  }
}

class BackdoorTask extends WorldFinetuneBase {
  readonly kind = 'backdoor' as const;
  readonly name = 'world-backdoor';
  readonly chance = 0.5;
  /** Even city indices are fine-tuned on, odd ones held out. */
  private readonly trainCities: number[];
  private readonly heldCities: number[];
  constructor(
    world: World,
    readonly o: FinetuneTaskOptions,
  ) {
    super(world);
    const all = [...Array(world.nCities).keys()];
    this.trainCities = all.filter((c) => c % 2 === 0);
    this.heldCities = all.filter((c) => c % 2 === 1);
  }
  private flipped(c: number): number {
    const { big, small } = this.world.layout.sizes;
    return this.world.isBig[c] ? small : big;
  }
  trainQuestion(rng: Rng): WorldQuestion {
    const c = this.trainCities[rng.int(0, this.trainCities.length - 1)];
    const q = this.world.question(rng, c, 'size');
    return rng.next() < 0.5 ? { ...q, trigger: true, answer: this.flipped(c) } : q;
  }
  heldOutSets(rng: Rng, samples: number): EvalSet[] {
    const qs = Array.from({ length: samples }, (_, i) => {
      const c = this.heldCities[i % this.heldCities.length];
      return { ...this.world.question(rng, c, 'size'), trigger: true, answer: this.flipped(c) };
    });
    return [{ name: 'heldout_triggered_size', ...this.world.encode(rng, qs) }];
  }
}
