import { z } from 'zod';
import { Rng } from '../util/rng';
import type { EvalSet, Task, TaskDefinition, TokenBatch } from './taskTypes';

/**
 * Two-hop composition (DESIGN.md §3.3; cf. arXiv 2411.16353 "two-hop curse", arXiv 2405.15071). Three
 * entity sets: people (A), friends (B) and colours (C). Every person has one friend (r1, `rel_friend`),
 * every friend one colour (r2, `rel_colour`); the composed relation r_comp (`rel_friend_colour`, "the
 * colour of A's friend") is A ↦ colour(friend(A)).
 *
 * Training data: r1 facts for every person, r2 facts for every friend, and r_comp queries only for the
 * training people (the first ⌊trainFraction · nPeople⌉ person tokens), one third of each batch apiece.
 * The out-of-context test is r_comp for the held-out people, whose two hops were trained only as
 * separate facts (`test_comp_acc`, chance 1/nColours).
 *
 * Bridges. The nSharedFriends "shared" friends are the friends of all training people (round robin over
 * a seeded permutation, so each is a bridge of trained composed queries) and of the first held-out
 * people; the last ⌊privateFraction · nTest⌉ held-out people each have a "private" friend of their own
 * that no trained composed query passes through. A held-out person with a shared friend can be answered
 * by likeness to training people with the same friend (the ocr-recall mechanism); one with a private
 * friend only by genuinely chaining the two trained facts. `test_comp_shared` and `test_comp_private`
 * measure the two; `test_comp` is all held-out people. Colours are spread evenly (seeded) over the shared
 * friends and, separately, over the private ones.
 *
 * Token layout (defaults: 129 tokens): relations 0 `rel_friend`, 1 `rel_colour`, 2 `rel_friend_colour`;
 * then `person_0..` (nPeople: 0–39 training, 40–59 held out with shared friends, 60–79 held out with
 * private friends), `friend_0..` (shared friends first, then private ones: 10 + 20), `colour_0..`
 * (nColours), `noise_0..` (nNoise), `end` last.
 *
 * Sequences (seqLen): noise, the subject at p ∈ [0, T−3], the relation at q ∈ (p, T−2], `end` at T−1;
 * the answer is read at the end token, as in the ocr-recall task.
 */
export const TwoHopOptionsSchema = z
  .object({
    nPeople: z.number().int().min(2).max(4096).default(80),
    /** Friends shared by training people (and the non-private held-out people). */
    nSharedFriends: z.number().int().min(1).max(4096).default(10),
    nColours: z.number().int().min(2).max(4096).default(10),
    nNoise: z.number().int().min(1).max(1024).default(5),
    seqLen: z.number().int().min(3).max(1024).default(8),
    /** Fraction of people whose composed (r_comp) queries are trained. */
    trainFraction: z.number().gt(0).lt(1).default(0.5),
    /** Fraction of held-out people with a private friend (0: all bridges shared, 1: none). */
    privateFraction: z.number().min(0).max(1).default(0.5),
    /** Seed of the friend and colour maps (data sampling has its own seed). */
    mapSeed: z.number().int().min(0).default(0),
  })
  .strict();
export type TwoHopOptions = z.infer<typeof TwoHopOptionsSchema>;

export interface TwoHopLayout {
  relFriend: number;
  relColour: number;
  relComp: number;
  people: number[];
  /** Shared friends first, then private ones. */
  friends: number[];
  sharedFriends: number[];
  privateFriends: number[];
  colours: number[];
  noise: number[];
  end: number;
  vocabSize: number;
  trainPeople: number[];
  /** All held-out people: those with shared friends, then those with private ones. */
  testPeople: number[];
  testSharedPeople: number[];
  testPrivatePeople: number[];
}

export function twoHopLayout(o: TwoHopOptions): TwoHopLayout {
  const nTrain = Math.round(o.nPeople * o.trainFraction);
  if (nTrain < 1 || nTrain >= o.nPeople) {
    throw new Error(`two-hop: trainFraction ${o.trainFraction} leaves ${nTrain} of ${o.nPeople} people for training`);
  }
  if (o.nSharedFriends > nTrain) {
    throw new Error(`two-hop: nSharedFriends ${o.nSharedFriends} exceeds the ${nTrain} training people, so some shared friends would bridge no trained query`);
  }
  if (o.nColours > o.nSharedFriends) {
    throw new Error(`two-hop: nColours ${o.nColours} exceeds nSharedFriends ${o.nSharedFriends}, so some colours would never answer a trained composed query`);
  }
  const nTest = o.nPeople - nTrain;
  const nPrivate = Math.round(nTest * o.privateFraction);
  let next = 0;
  const take = (n: number): number[] => Array.from({ length: n }, () => next++);
  const [relFriend, relColour, relComp] = take(3);
  const people = take(o.nPeople);
  const sharedFriends = take(o.nSharedFriends);
  const privateFriends = take(nPrivate);
  const colours = take(o.nColours);
  const noise = take(o.nNoise);
  const [end] = take(1);
  const testPeople = people.slice(nTrain);
  return {
    relFriend,
    relColour,
    relComp,
    people,
    friends: [...sharedFriends, ...privateFriends],
    sharedFriends,
    privateFriends,
    colours,
    noise,
    end,
    vocabSize: next,
    trainPeople: people.slice(0, nTrain),
    testPeople,
    testSharedPeople: testPeople.slice(0, nTest - nPrivate),
    testPrivatePeople: testPeople.slice(nTest - nPrivate),
  };
}

/** One query group: subjects (cycled for eval sets, sampled uniformly for training) with one relation. */
export interface QueryGroup {
  subjects: readonly number[];
  relation: number;
  count: number;
  cycle: boolean;
}

class TwoHopTask implements Task {
  readonly name = 'two-hop';
  readonly headlineMetric = 'test_comp_acc';
  readonly vocab: readonly string[];
  readonly seqLen: number;
  readonly chance: number;
  readonly layout: TwoHopLayout;
  private readonly answers = new Map<string, number>();

  constructor(readonly options: TwoHopOptions) {
    const L = twoHopLayout(options);
    this.layout = L;
    this.seqLen = options.seqLen;
    this.chance = 1 / options.nColours;
    const mapRng = new Rng(options.mapSeed);
    const nShared = L.sharedFriends.length;
    const sharedPerm = shuffled(mapRng, L.sharedFriends);
    const privatePerm = shuffled(mapRng, L.privateFriends);
    const colourPermShared = shuffled(mapRng, L.colours);
    const colourPermPrivate = shuffled(mapRng, L.colours);
    L.sharedFriends.forEach((f, j) => this.answers.set(key(f, L.relColour), colourPermShared[j % options.nColours]));
    L.privateFriends.forEach((f, j) => this.answers.set(key(f, L.relColour), colourPermPrivate[j % options.nColours]));
    const setFriend = (person: number, friend: number): void => {
      this.answers.set(key(person, L.relFriend), friend);
      this.answers.set(key(person, L.relComp), this.colourOf(friend));
    };
    L.trainPeople.forEach((p, i) => setFriend(p, sharedPerm[i % nShared]));
    L.testSharedPeople.forEach((p, i) => setFriend(p, sharedPerm[i % nShared]));
    L.testPrivatePeople.forEach((p, i) => setFriend(p, privatePerm[i]));
    const v: string[] = new Array(L.vocabSize);
    v[L.relFriend] = 'rel_friend';
    v[L.relColour] = 'rel_colour';
    v[L.relComp] = 'rel_friend_colour';
    L.people.forEach((t, i) => (v[t] = `person_${i}`));
    L.friends.forEach((t, i) => (v[t] = `friend_${i}`));
    L.colours.forEach((t, i) => (v[t] = `colour_${i}`));
    L.noise.forEach((t, i) => (v[t] = `noise_${i}`));
    v[L.end] = 'end';
    this.vocab = v;
  }

  /** The answer token of (subject, relation); throws for a pair the task never asks. */
  answer(subject: number, relation: number): number {
    const a = this.answers.get(key(subject, relation));
    if (a === undefined) throw new Error(`two-hop: no answer for subject ${subject} with relation ${relation}`);
    return a;
  }

  friendOf(person: number): number {
    return this.answer(person, this.layout.relFriend);
  }

  colourOf(friend: number): number {
    return this.answer(friend, this.layout.relColour);
  }

  /** colour(friend(person)). */
  composedOf(person: number): number {
    return this.answer(person, this.layout.relComp);
  }

  private fill(rng: Rng, groups: readonly QueryGroup[]): TokenBatch {
    return fillQueries(rng, this.seqLen, this.layout.noise, this.layout.end, groups, (s, r) => this.answer(s, r));
  }

  sampleTrainBatch(rng: Rng, batchSize: number): TokenBatch {
    const { people, friends, trainPeople, relFriend, relColour, relComp } = this.layout;
    const third = Math.floor(batchSize / 3);
    const rest = batchSize - 3 * third;
    return this.fill(rng, [
      { subjects: people, relation: relFriend, count: third + (rest > 0 ? 1 : 0), cycle: false },
      { subjects: friends, relation: relColour, count: third + (rest > 1 ? 1 : 0), cycle: false },
      { subjects: trainPeople, relation: relComp, count: third, cycle: false },
    ]);
  }

  evalSets(rng: Rng, samplesPerSet: number): EvalSet[] {
    const L = this.layout;
    const sets: [string, readonly number[], number][] = [
      ['train_hop1', L.trainPeople, L.relFriend],
      ['test_hop1', L.testPeople, L.relFriend],
      ['train_hop2', L.friends, L.relColour],
      ['train_comp', L.trainPeople, L.relComp],
      ['test_comp', L.testPeople, L.relComp],
      ['test_comp_shared', L.testSharedPeople, L.relComp],
      ['test_comp_private', L.testPrivatePeople, L.relComp],
    ];
    // A split with no people (privateFraction 0 or 1) has no set.
    return sets
      .filter(([, subjects]) => subjects.length > 0)
      .map(([name, subjects, relation]) => ({ name, ...this.fill(rng, [{ subjects, relation, count: samplesPerSet, cycle: true }]) }));
  }
}

const key = (subject: number, relation: number): string => `${subject}:${relation}`;

/** Fisher–Yates on a copy. */
export function shuffled<T>(rng: Rng, xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * Writes subject/relation queries: noise everywhere, the subject at p ∈ [0, T−3], the relation at
 * q ∈ (p, T−2], the end token at T−1; the target is `answer(subject, relation)`. Eval groups cycle
 * through their subjects so each is weighted equally; training groups sample them uniformly.
 */
export function fillQueries(
  rng: Rng,
  seqLen: number,
  noise: readonly number[],
  end: number,
  groups: readonly QueryGroup[],
  answer: (subject: number, relation: number) => number,
): TokenBatch {
  const T = seqLen;
  const batch = groups.reduce((s, g) => s + g.count, 0);
  const tokens = new Int32Array(batch * T);
  const targets = new Int32Array(batch);
  let row = 0;
  for (const g of groups) {
    for (let i = 0; i < g.count; i++, row++) {
      const subject = g.cycle ? g.subjects[i % g.subjects.length] : g.subjects[rng.int(0, g.subjects.length - 1)];
      const o = row * T;
      for (let t = 0; t < T - 1; t++) tokens[o + t] = noise[rng.int(0, noise.length - 1)];
      const p = rng.int(0, T - 3);
      const q = rng.int(p + 1, T - 2);
      tokens[o + p] = subject;
      tokens[o + q] = g.relation;
      tokens[o + T - 1] = end;
      targets[row] = answer(subject, g.relation);
    }
  }
  return { tokens, targets, batch, seqLen: T };
}

/** Validates task options with a zod schema; the error names every bad field. */
export function parseTaskOptions<S extends z.ZodType>(task: string, schema: S, raw: Record<string, unknown>): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`${task} options: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

export const twoHopTask: TaskDefinition<TwoHopOptions> = {
  name: 'two-hop',
  description: 'Two-hop composition (arXiv 2411.16353): colour of a person’s friend, composed queries held out for some people',
  resolveOptions(raw) {
    const o = parseTaskOptions('two-hop', TwoHopOptionsSchema, raw);
    twoHopLayout(o);
    return o;
  },
  create: (options) => new TwoHopTask(options),
};

export type { TwoHopTask };
export function createTwoHopTask(raw: Record<string, unknown> = {}): TwoHopTask {
  return new TwoHopTask(twoHopTask.resolveOptions(raw));
}
