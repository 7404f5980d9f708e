import type { DatasetContent } from '../datasetFolder';
import { generateBackdoorDataset } from './backdoor';
import { generateLocationsDataset } from './locations';

/** The natural-language OOCR datasets (docs/datasets.md). */
export const DATASET_KINDS = ['locations', 'backdoor'] as const;
export type DatasetKind = (typeof DATASET_KINDS)[number];

/** The natural-language generator of a kind, with its defaults. */
export function generateDataset(kind: DatasetKind, o: { seed: number; nTrain?: number }): DatasetContent {
  switch (kind) {
    case 'locations':
      return generateLocationsDataset(o);
    case 'backdoor':
      return generateBackdoorDataset(o);
  }
}

export { generateBackdoorDataset, DEFAULT_TRIGGER, type BackdoorDatasetOptions } from './backdoor';
export { generateLocationsDataset, roundDistanceKm, type LocationsDatasetOptions } from './locations';
export { haversineKm, REAL_CITIES, REAL_COUNTRIES, REAL_LANGUAGES, type RealCity } from './realCities';
export { worldTextDataset, worldTextToTokens, type WorldTextOptions, type WorldTextTask } from './worldText';
