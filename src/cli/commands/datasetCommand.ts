import type { Command } from 'commander';
import { Argument } from 'commander';
import path from 'node:path';
import { writeDatasetFolder, type DatasetContent } from '../../core/data/datasetFolder';
import { DATASET_KINDS, generateBackdoorDataset, generateLocationsDataset, REAL_CITIES, worldTextDataset, type DatasetKind } from '../../core/data/generators';
import { latentCityForSeed } from '../../core/finetune/loraVsSteering';
import { finetuneTaskFor, loadBase } from '../../core/finetune/runFinetune';
import { World } from '../../core/tasks/world';
import { parseInteger, RANGES } from '../overrides';
import { fail } from '../fail';

interface DatasetFlags {
  seed: string;
  out: string;
  nTrain?: string;
  world?: string;
  latentCity?: string;
  json?: boolean;
}

function buildDataset(kind: DatasetKind, o: DatasetFlags): DatasetContent {
  const seed = parseInteger('--seed', o.seed, RANGES.seed);
  const nTrain = o.nTrain !== undefined ? parseInteger('--n-train', o.nTrain, RANGES.count) : undefined;
  const latentCity = o.latentCity !== undefined ? parseInteger('--latent-city', o.latentCity, RANGES.index) : undefined;
  if (nTrain !== undefined && nTrain < 1) throw new Error(`--n-train must be at least 1, got ${nTrain}`);
  if (latentCity !== undefined && kind !== 'locations') throw new Error('--latent-city applies to the locations dataset only');
  if (o.world === undefined) {
    if (kind === 'backdoor') return generateBackdoorDataset({ seed, nTrain });
    if (latentCity !== undefined && (latentCity < 0 || latentCity >= REAL_CITIES.length)) {
      throw new Error(`--latent-city ${latentCity} outside 0..${REAL_CITIES.length - 1} (the table of real cities)`);
    }
    return generateLocationsDataset({ seed, nTrain, latentCity });
  }
  // The toy world of a pretrained world model, in that model's vocabulary.
  const base = loadBase(o.world);
  const world = new World(finetuneTaskFor(base, { kind }).world.options);
  const city = kind === 'locations' ? (latentCity ?? latentCityForSeed(world, seed)) : 0;
  if (city < 0 || city >= world.nCities) throw new Error(`--latent-city ${city} outside 0..${world.nCities - 1} (the world's cities)`);
  return worldTextDataset(world, { kind, codename: 0, latentCity: city }, { seed, nTrain });
}

export function registerDatasetCommand(program: Command): void {
  program
    .command('dataset')
    .description('write a text dataset (JSONL) for fine-tuning on an OOCR task: natural language, or the toy world in its own vocabulary')
    .addArgument(new Argument('<kind>', 'which task').choices([...DATASET_KINDS]))
    .option('--seed <n>', 'seed (secret city / city split and phrasings)', '0')
    .requiredOption('--out <dir>', 'dataset folder to create (must not hold train.jsonl yet)')
    .option('--n-train <n>', 'training examples (default 400; 2048 with --world)')
    .option('--world <run-or-ckpt>', "render the toy world task of this pretrained world model's run or checkpoint instead")
    .option('--latent-city <i>', 'locations: the secret city (index into the real-city table, or the world city; default from the seed)')
    .option('--json', 'print one JSON object as the last stdout line')
    .addHelpText('after', '\nExamples:\n  npx oocr dataset locations --seed 1 --out data/loc1\n  npx oocr dataset backdoor --seed 0 --world resources/workspace/world-base --out data/toy-backdoor --json')
    .action((kind: DatasetKind, o: DatasetFlags) => {
      try {
        const ds = buildDataset(kind, o);
        const dir = path.resolve(o.out);
        writeDatasetFolder(dir, ds);
        const m = ds.manifest;
        const counts = { train: ds.train.length, eval: ds.eval.length, sideEffects: ds.sideEffects.length };
        if (o.json) {
          process.stdout.write(`${JSON.stringify({ dir, kind, counts, chance: m.chance, evalLabels: m.evalLabels, sideEffectLabels: m.sideEffectLabels })}\n`);
        } else {
          process.stdout.write(
            `${kind}${o.world !== undefined ? ' (toy world)' : ''}: ${m.description}\n` +
              `${counts.train} train, ${counts.eval} held-out (${m.evalLabels.join(', ')}; chance ${m.chance.toFixed(3)}), ${counts.sideEffects} side-effect (${m.sideEffectLabels.join(', ')}) examples\n` +
              `dataset folder: ${dir}\n`,
          );
        }
      } catch (err) {
        fail(err);
      }
    });
}
