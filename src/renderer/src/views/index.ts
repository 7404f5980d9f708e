import type { ComponentType } from 'react';
import { AttentionView } from './attention/AttentionView';
import { LensPatchingView } from './lensPatching/LensPatchingView';
import { LoraSteeringView } from './loraSteering/LoraSteeringView';
import { ProjectionView } from './projection/ProjectionView';
import { RunsView } from './runs/RunsView';
import { SaeView } from './sae/SaeView';
import { SweepsView } from './sweeps/SweepsView';
import { TrainView } from './train/TrainView';
import { WeightsView } from './weights/WeightsView';

export interface ViewEntry {
  /** URL hash (#/weights). */
  id: string;
  /** The navigation item's visible name. */
  name: string;
  component: ComponentType;
}

/** The views, in navigation order; names are part of the product (tests and docs use them). */
export const VIEWS: readonly ViewEntry[] = [
  { id: 'runs', name: 'Runs', component: RunsView },
  { id: 'train', name: 'Train', component: TrainView },
  { id: 'weights', name: 'Weights', component: WeightsView },
  { id: 'attention', name: 'Attention', component: AttentionView },
  { id: 'projection', name: 'Projection', component: ProjectionView },
  { id: 'lora-steering', name: 'LoRA vs Steering', component: LoraSteeringView },
  { id: 'lens-patching', name: 'Lens & Patching', component: LensPatchingView },
  { id: 'sae', name: 'SAE', component: SaeView },
  { id: 'sweeps', name: 'Sweeps', component: SweepsView },
];
