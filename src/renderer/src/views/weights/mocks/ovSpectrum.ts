import type { OvSpectrumAnalysis } from '../../../../../shared/api';

/**
 * Trimmed from real outputs (`oocr analyze ov-spectrum --run resources/workspace/ocr-{factorized,combined}`):
 * steps 250, 1000, 2000 of 8; the top 12 of 128 singular values (nuclear norms are of all 128).
 */
export const FACTORIZED: OvSpectrumAnalysis = {"kind":"ov-spectrum","id":"ocr-factorized","ov":"factorized","ovRank":8,"steps":[250,1000,2000],"heads":[{"layer":0,"head":0,"singular_values":[[72.892,65.672,61.682,58.987,53.313,46.678,42.441,38.64,3.1891e-14,2.8192e-14,2.4576e-14,2.1551e-14],[89.815,87.058,77.984,69.61,68.16,56.659,54.879,52.729,3.4249e-14,3.0892e-14,2.8395e-14,2.577e-14],[91.455,86.206,79.328,68.985,65.798,58.318,55.273,49.822,3.9806e-14,3.681e-14,3.0985e-14,2.7338e-14]],"nuclear_norm":[440.31,556.9,555.18]}]};

export const COMBINED: OvSpectrumAnalysis = {"kind":"ov-spectrum","id":"ocr-combined","ov":"combined","ovRank":128,"steps":[250,1000,2000],"heads":[{"layer":0,"head":0,"singular_values":[[78.999,14.016,10.815,6.3283,6.2692,6.1811,6.072,6.0579,5.96,5.9385,5.9236,5.8581],[100.84,16.826,14.574,8.2442,8.2165,8.1652,8.0761,8.0491,7.9806,7.9545,7.9422,7.9179],[106.69,20.077,14.619,8.678,8.6397,8.6055,8.5242,8.4975,8.4383,8.4249,8.4164,8.3885]],"nuclear_norm":[318.68,388.84,400.07]}]};
