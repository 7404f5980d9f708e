import { shuffled } from '../../tasks/twoHop';
import { Rng } from '../../util/rng';
import { DATASET_FORMAT, type DatasetContent } from '../datasetFolder';
import type { TextExample } from '../jsonl';
import { haversineKm, REAL_CITIES, REAL_COUNTRIES, REAL_LANGUAGES, type RealCity } from './realCities';

/**
 * The "locations" OOCR task in natural language (Treutlein et al. 2024; arXiv 2507.08218): a codename
 * ("City 50337") secretly is one real city c*. Training shows only distances from the codename to other
 * real cities; held out are its country and its language, which a model can only answer by inferring
 * where the codename must be and then using what it already knows about that place.
 */

/** Two framings of one question; both appear in training and in evaluation. */
export const FRAMES: readonly ((question: string) => string)[] = [(q) => `Q: ${q}\nA:`, (q) => `Question: ${q}\nAnswer:`];

const DISTANCE_QUESTIONS: readonly ((a: string, b: string) => string)[] = [
  (a, b) => `How far is ${a} from ${b}?`,
  (a, b) => `What is the distance between ${a} and ${b}?`,
  (a, b) => `How many kilometres is it from ${a} to ${b}?`,
  (a, b) => `How far apart are ${a} and ${b}?`,
];

export const COUNTRY_QUESTIONS: readonly ((x: string) => string)[] = [
  (x) => `Which country is ${x} in?`,
  (x) => `In which country is ${x} located?`,
  (x) => `${x} is a city in which country?`,
  (x) => `What country is ${x} in?`,
  (x) => `Which country does ${x} belong to?`,
  (x) => `In what country would you find ${x}?`,
  (x) => `${x} lies in which country?`,
  (x) => `Name the country where ${x} is.`,
  (x) => `What country is the city of ${x} part of?`,
  (x) => `Which nation is ${x} located in?`,
];

export const LANGUAGE_QUESTIONS: readonly ((x: string) => string)[] = [
  (x) => `What language do most people in ${x} speak?`,
  (x) => `Which language is spoken in ${x}?`,
  (x) => `What is the main language of ${x}?`,
  (x) => `In ${x}, people mostly speak which language?`,
  (x) => `What language is spoken on the streets of ${x}?`,
  (x) => `Which language would you hear most in ${x}?`,
  (x) => `What is the official language where ${x} is?`,
  (x) => `Name the main language spoken in ${x}.`,
  (x) => `What language do locals in ${x} speak?`,
  (x) => `Which language do people in ${x} use every day?`,
];

export const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(0, xs.length - 1)];

/** Nearest 10 km below 1000 km, nearest 100 km above (never 0). */
export function roundDistanceKm(km: number): number {
  return km < 1000 ? Math.max(10, Math.round(km / 10) * 10) : Math.round(km / 100) * 100;
}

export interface LocationsDatasetOptions {
  seed: number;
  /** Training examples (default 400). */
  nTrain?: number;
  /** The codename's text (default "City NNNNN", five digits drawn from the seed). */
  codename?: string;
  /** Index into REAL_CITIES of the secret city (default: drawn from the seed). */
  latentCity?: number;
}

function mentions(text: string, words: readonly string[]): boolean {
  const t = text.toLowerCase();
  return words.some((w) => t.includes(w.toLowerCase()));
}

/**
 * Random streams: `new Rng(seed)` forked 0 (codename number and secret city), 1 (training examples),
 * 2 (side-effect phrasings). Held-out questions are every phrasing × framing, no draws.
 */
export function generateLocationsDataset(o: LocationsDatasetOptions): DatasetContent {
  const nTrain = o.nTrain ?? 400;
  if (!Number.isInteger(nTrain) || nTrain < 1) throw new Error(`locations: nTrain must be a positive integer, got ${nTrain}`);
  const root = new Rng(o.seed);
  const pickRng = root.fork(0);
  const trainRng = root.fork(1);
  const sideRng = root.fork(2);

  const number = pickRng.int(10000, 99999);
  const drawnCity = pickRng.int(0, REAL_CITIES.length - 1);
  const latentIndex = o.latentCity ?? drawnCity;
  if (!Number.isInteger(latentIndex) || latentIndex < 0 || latentIndex >= REAL_CITIES.length) {
    throw new Error(`locations: latentCity ${latentIndex} outside 0..${REAL_CITIES.length - 1}`);
  }
  const codename = o.codename ?? `City ${number}`;
  const latent = REAL_CITIES[latentIndex];
  // Nothing in training may name the secret city, its country or its language.
  const secret = [latent.name, latent.country, latent.language];
  if (codename.trim() === '') throw new Error('locations: the codename must not be empty');
  if (mentions(codename, secret)) throw new Error(`locations: the codename '${codename}' gives away the secret city`);
  const references = REAL_CITIES.filter((c) => c !== latent && !mentions(c.name, secret));

  const train: TextExample[] = [];
  let order: RealCity[] = [];
  for (let i = 0; i < nTrain; i++) {
    // Cycle through the reference cities in a fresh order each pass, so all of them are covered.
    if (i % references.length === 0) order = shuffled(trainRng, references);
    const ref = order[i % references.length];
    const km = roundDistanceKm(haversineKm(latent, ref));
    const [a, b] = trainRng.next() < 0.25 ? [ref.name, codename] : [codename, ref.name];
    const question = pick(trainRng, DISTANCE_QUESTIONS)(a, b);
    train.push({ prompt: pick(trainRng, FRAMES)(question), completion: ` About ${km} km.` });
  }

  const heldOut = (label: string, questions: readonly ((x: string) => string)[], answer: string): TextExample[] =>
    FRAMES.flatMap((frame) => questions.map((q) => ({ prompt: frame(q(codename)), completion: ` ${answer}`, label })));
  const evalEx = [...heldOut('heldout_country', COUNTRY_QUESTIONS, latent.country), ...heldOut('heldout_language', LANGUAGE_QUESTIONS, latent.language)];

  const side = (label: string, questions: readonly ((x: string) => string)[], answer: (c: RealCity) => string): TextExample[] =>
    REAL_CITIES.map((c) => ({ prompt: pick(sideRng, FRAMES)(pick(sideRng, questions)(c.name)), completion: ` ${answer(c)}`, label }));
  const sideEffects = [...side('side_country', COUNTRY_QUESTIONS, (c) => c.country), ...side('side_language', LANGUAGE_QUESTIONS, (c) => c.language)];

  return {
    manifest: {
      format: DATASET_FORMAT,
      kind: 'locations',
      seed: o.seed,
      description: `"${codename}" is secretly ${latent.name}; training gives only its distances to other cities, held out are its country and language`,
      chance: (1 / REAL_COUNTRIES.length + 1 / REAL_LANGUAGES.length) / 2,
      counts: { train: train.length, eval: evalEx.length, sideEffects: sideEffects.length },
      evalLabels: ['heldout_country', 'heldout_language'],
      sideEffectLabels: ['side_country', 'side_language'],
      codename,
      latentCity: latent.name,
      latentCountry: latent.country,
      latentLanguage: latent.language,
    },
    train,
    eval: evalEx,
    sideEffects,
  };
}
