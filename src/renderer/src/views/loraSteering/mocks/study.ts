import type { StudySummary } from '../../../../../shared/api';
import type { LoraVsSteeringAnalysis } from '../../../../../shared/analysis';

/**
 * Trimmed from resources/workspace/lora-vs-steering/analyses/lora_vs_steering.json (what
 * `oocr reproduce lora-vs-steering` wrote): the |cos| matrix cut to 3 training + 3 unrelated tokens,
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
   "train:city_4@4",
   "train:codename_0@2",
   "unrelated:noise_5@0",
   "unrelated:noise_3@4",
   "unrelated:noise_2@2"
  ],
  "values": [
   [
    1,
    0.5469,
    0.9949,
    0.8784,
    0.975,
    0.4231
   ],
   [
    0.5469,
    1,
    0.6212,
    0.0894,
    0.6649,
    0.5098
   ],
   [
    0.9949,
    0.6212,
    1,
    0.8347,
    0.9905,
    0.3441
   ],
   [
    0.8784,
    0.0894,
    0.8347,
    1,
    0.7946,
    0.8018
   ],
   [
    0.975,
    0.6649,
    0.9905,
    0.7946,
    1,
    0.2813
   ],
   [
    0.4231,
    0.5098,
    0.3441,
    0.8018,
    0.2813,
    1
   ]
  ]
 },
 "delta_w_singular_values": [
  {
   "weight": "blocks.0.mlp.W_out",
   "values": [
    3.4408,
    1.7483,
    0.45007,
    0.39437,
    3.2788e-8,
    3.1959e-8,
    3.0886e-8,
    2.8679e-8
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
   "side_country_loss": 1.0431e-8,
   "side_language_acc": 1,
   "side_language_loss": 0,
   "side_size_acc": 1,
   "side_size_loss": 5.0664e-9,
   "side_dist_acc": 1,
   "side_dist_loss": 7.7486e-9,
   "heldout_acc": 0,
   "side_effect_acc": 1
  },
  "lora": {
   "heldout_country_acc": 1,
   "heldout_country_loss": 0.1919,
   "heldout_language_acc": 1,
   "heldout_language_loss": 0.0005792,
   "side_country_acc": 1,
   "side_country_loss": 0.000003848,
   "side_language_acc": 1,
   "side_language_loss": 0.0000049582,
   "side_size_acc": 1,
   "side_size_loss": 0.0000096543,
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
   "side_language_loss": 0.000026914,
   "side_size_acc": 1,
   "side_size_loss": 5.424e-8,
   "side_dist_acc": 0.9625,
   "side_dist_loss": 0.1222,
   "heldout_acc": 1,
   "side_effect_acc": 0.99062
  },
  "trained_sv": {
   "heldout_country_acc": 1,
   "heldout_country_loss": 0.00055027,
   "heldout_language_acc": 1,
   "heldout_language_loss": 0.0000040108,
   "side_country_acc": 1,
   "side_country_loss": 0.0058573,
   "side_language_acc": 1,
   "side_language_loss": 0.00032897,
   "side_size_acc": 1,
   "side_size_loss": 9.3281e-8,
   "side_dist_acc": 0.9,
   "side_dist_loss": 0.45371,
   "heldout_acc": 1,
   "side_effect_acc": 0.975
  },
  "trained_sv_seed2": {
   "heldout_country_acc": 1,
   "heldout_country_loss": 0.00087263,
   "heldout_language_acc": 1,
   "heldout_language_loss": 0.0000030637,
   "side_country_acc": 1,
   "side_country_loss": 0.0043022,
   "side_language_acc": 1,
   "side_language_loss": 0.00031364,
   "side_size_acc": 1,
   "side_size_loss": 9.6858e-8,
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
 }
};

export const STUDY_SUMMARY: StudySummary = { id: 'lora-vs-steering', kind: STUDY.kind, seed: STUDY.seed, acc: STUDY.acc };
