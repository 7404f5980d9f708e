import type { StudySummary } from '../../../../../shared/api';
import type { LoraVsSteeringAnalysis } from '../../../../../shared/analysis';

/**
 * Trimmed from resources/workspace/lora-vs-steering/analyses/lora_vs_steering.json (what
 * `oocr reproduce lora-vs-steering` wrote): the |cos| matrix and the per-token cosines cut to 3 training
 * + 3 unrelated tokens of the stratified sample (positions 0, 2, 5 and 0, 3, 5; 5 is the read-out),
 * natural vectors to 4 of 64 entries, numbers to 5 significant digits.
 */
export const STUDY: LoraVsSteeringAnalysis = {
 "acc": {
  "base": 0,
  "lora": 1,
  "natural_sv": 1,
  "trained_sv": 1
 },
 "side_effect_acc": {
  "base": 1,
  "lora": 0.92688,
  "natural_sv": 0.99062,
  "trained_sv": 0.975
 },
 "lora_delta": {
  "mean_abs_cos": 0.70205,
  "pc1_var_ratio": 0.84421
 },
 "cos_trained_vs_natural": 0.83956,
 "cos_trained_across_seeds": 0.99643,
 "run": "lora-vs-steering",
 "kind": "locations",
 "seed": 0,
 "latentCity": 25,
 "hook": "blocks.0.hook_resid_post",
 "chance": 0.20833,
 "lora": {
  "rank": 4,
  "alpha": 8,
  "targets": [
   "mlp.W_out"
  ],
  "layers": [
   0
  ]
 },
 "deltas": {
  "train": {
   "nTokens": 384,
   "meanAbsCos": 0.80879,
   "pc1VarRatio": 0.91785,
   "pc1VarRatioCentred": 0.82835,
   "meanNorm": 7.9256,
   "naturalVector": [
    1.3043,
    -1.2785,
    -1.3662,
    0.5948
   ],
   "cosPc1Mean": 0.99607
  },
  "unrelated": {
   "nTokens": 384,
   "meanAbsCos": 0.64045,
   "pc1VarRatio": 0.6918,
   "pc1VarRatioCentred": 0.73001,
   "meanNorm": 5.4409,
   "naturalVector": [
    -0.88154,
    0.91189,
    0.9439,
    -0.44156
   ],
   "cosPc1Mean": 0.11718
  },
  "all": {
   "nTokens": 768,
   "meanAbsCos": 0.70205,
   "pc1VarRatio": 0.84421,
   "pc1VarRatioCentred": 0.83427,
   "meanNorm": 6.6832,
   "naturalVector": [
    1.097,
    -1.0869,
    -1.1532,
    0.50948
   ],
   "cosPc1Mean": 0.95546
  }
 },
 "cos_matrix": {
  "labels": [
   "train:codename_0@0",
   "train:rel_dist@2",
   "train:end@5",
   "unrelated:noise_5@0",
   "unrelated:noise_1@3",
   "unrelated:end@5"
  ],
  "values": [
   [
    1,
    0.955,
    0.976,
    0.8784,
    0.7194,
    0.8875
   ],
   [
    0.955,
    1,
    0.9965,
    0.72,
    0.875,
    0.7318
   ],
   [
    0.976,
    0.9965,
    1,
    0.7667,
    0.8426,
    0.7839
   ],
   [
    0.8784,
    0.72,
    0.7667,
    1,
    0.3071,
    0.875
   ],
   [
    0.7194,
    0.875,
    0.8426,
    0.3071,
    1,
    0.4607
   ],
   [
    0.8875,
    0.7318,
    0.7839,
    0.875,
    0.4607,
    1
   ]
  ],
  "positions": [
   0,
   2,
   5,
   0,
   3,
   5
  ],
  "readout": [
   false,
   false,
   true,
   false,
   false,
   true
  ]
 },
 "cos_block_means": {
  "train": 0.80879,
  "unrelated": 0.64045,
  "across": 0.67953,
  "n_train": 384,
  "n_unrelated": 384
 },
 "delta_w_singular_values": [
  {
   "weight": "blocks.0.mlp.W_out",
   "values": [
    3.4408,
    1.7483,
    0.45007,
    0.39437,
    3.2788e-08,
    3.1959e-08,
    3.0886e-08,
    2.8679e-08
   ]
  }
 ],
 "metrics": {
  "base": {
   "heldout_country_acc": 0,
   "heldout_country_loss": 9.4871,
   "heldout_language_acc": 0,
   "heldout_language_loss": 4.0392,
   "side_country_acc": 1,
   "side_country_loss": 1.0431e-08,
   "side_language_acc": 1,
   "side_language_loss": 0,
   "side_size_acc": 1,
   "side_size_loss": 5.0664e-09,
   "side_dist_acc": 1,
   "side_dist_loss": 7.7486e-09,
   "heldout_acc": 0,
   "side_effect_acc": 1
  },
  "lora": {
   "heldout_country_acc": 1,
   "heldout_country_loss": 0.1919,
   "heldout_language_acc": 1,
   "heldout_language_loss": 0.0005792,
   "side_country_acc": 1,
   "side_country_loss": 3.848e-06,
   "side_language_acc": 1,
   "side_language_loss": 4.9582e-06,
   "side_size_acc": 1,
   "side_size_loss": 9.6543e-06,
   "side_dist_acc": 0.7075,
   "side_dist_loss": 1.5743,
   "heldout_acc": 1,
   "side_effect_acc": 0.92688
  },
  "natural_sv": {
   "heldout_country_acc": 1,
   "heldout_country_loss": 0.042877,
   "heldout_language_acc": 1,
   "heldout_language_loss": 0.00055265,
   "side_country_acc": 1,
   "side_country_loss": 0.0013884,
   "side_language_acc": 1,
   "side_language_loss": 2.6914e-05,
   "side_size_acc": 1,
   "side_size_loss": 5.424e-08,
   "side_dist_acc": 0.9625,
   "side_dist_loss": 0.1222,
   "heldout_acc": 1,
   "side_effect_acc": 0.99062
  },
  "trained_sv": {
   "heldout_country_acc": 1,
   "heldout_country_loss": 0.00055027,
   "heldout_language_acc": 1,
   "heldout_language_loss": 4.0108e-06,
   "side_country_acc": 1,
   "side_country_loss": 0.0058573,
   "side_language_acc": 1,
   "side_language_loss": 0.00032897,
   "side_size_acc": 1,
   "side_size_loss": 9.3281e-08,
   "side_dist_acc": 0.9,
   "side_dist_loss": 0.45371,
   "heldout_acc": 1,
   "side_effect_acc": 0.975
  },
  "trained_sv_seed2": {
   "heldout_country_acc": 1,
   "heldout_country_loss": 0.00087263,
   "heldout_language_acc": 1,
   "heldout_language_loss": 3.0637e-06,
   "side_country_acc": 1,
   "side_country_loss": 0.0043022,
   "side_language_acc": 1,
   "side_language_loss": 0.00031364,
   "side_size_acc": 1,
   "side_size_loss": 9.6858e-08,
   "side_dist_acc": 0.9,
   "side_dist_loss": 0.45338,
   "heldout_acc": 1,
   "side_effect_acc": 0.975
  }
 },
 "runs": {
  "lora": "lora-vs-steering/lora",
  "steer": "lora-vs-steering/steer",
  "steer_seed2": "lora-vs-steering/steer-seed2"
 },
 "norms": {
  "natural_sv": 6.6832,
  "trained_sv": 8.6075,
  "trained_sv_seed2": 8.5803
 },
 "delta_cos_trained": {
  "labels": [
   "train:codename_0@0",
   "train:rel_dist@2",
   "train:end@5",
   "unrelated:noise_5@0",
   "unrelated:noise_1@3",
   "unrelated:end@5"
  ],
  "values": [
   0.8376,
   0.8288,
   0.8391,
   0.6764,
   0.69,
   0.7276
  ],
  "mean": {
   "train": 0.63582,
   "unrelated": 0.030082,
   "all": 0.33295
  }
 },
 "layer_sweep": [
  {
   "layer": 0,
   "hook": "blocks.0.hook_resid_post",
   "pc1_var_ratio": 0.84421,
   "mean_abs_cos": 0.70205,
   "mean_norm": 6.6832,
   "cos_natural_trained": 0.83956
  },
  {
   "layer": 1,
   "hook": "blocks.1.hook_resid_post",
   "pc1_var_ratio": 0.53052,
   "mean_abs_cos": 0.47014,
   "mean_norm": 9.5721
  }
 ],
 "seeds": {
  "runs": [
   {
    "seed": 0,
    "acc": 1,
    "side_effect_acc": 0.975,
    "norm": 8.6075,
    "n": 800,
    "side_effect_n": 1600
   },
   {
    "seed": 1000,
    "acc": 1,
    "side_effect_acc": 0.975,
    "norm": 8.5803,
    "n": 800,
    "side_effect_n": 1600
   }
  ],
  "cos": [
   [
    1,
    0.99643
   ],
   [
    0.99643,
    1.0
   ]
  ]
 },
 "eval_n": {
  "acc": {
   "base": 800,
   "lora": 800,
   "natural_sv": 800,
   "trained_sv": 800,
   "trained_sv_seed2": 800
  },
  "side_effect_acc": {
   "base": 1600,
   "lora": 1600,
   "natural_sv": 1600,
   "trained_sv": 1600,
   "trained_sv_seed2": 1600
  }
 },
 "evaluation": {
  "seed": 0,
  "heldout_sets": [
   {
    "name": "heldout_country",
    "n": 400
   },
   {
    "name": "heldout_language",
    "n": 400
   }
  ],
  "side_effect_sets": [
   {
    "name": "side_country",
    "n": 400
   },
   {
    "name": "side_language",
    "n": 400
   },
   {
    "name": "side_size",
    "n": 400
   },
   {
    "name": "side_dist",
    "n": 400
   }
  ]
 }
};

export const STUDY_SUMMARY: StudySummary = { id: 'lora-vs-steering', kind: STUDY.kind, seed: STUDY.seed, acc: STUDY.acc };
