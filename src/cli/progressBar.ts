import cliProgress from 'cli-progress';
import { loadingAmount, loadingPercent, loadingText } from '../shared/modelLoading';
import type { ProgressEvent } from '../shared/progress';

/** A progress bar on stderr when it is a terminal; otherwise a line every ~10% (logs stay readable). */
export function createProgressReporter(total: number, label: string): { update(e: ProgressEvent): void; stop(): void } {
  const fmtAcc = (e: ProgressEvent): string => {
    const m = e.metrics;
    if (!m) return '';
    const accs = Object.entries(m).filter(([k]) => k.endsWith('_acc'));
    return accs.map(([k, v]) => `${k.replace(/_acc$/, '')} ${v.toFixed(2)}`).join(' ');
  };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `${label} [{bar}] {value}/{total} | loss {loss} | {rate} it/s | ETA {eta_formatted} | {accs}`,
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { loss: '-', rate: '-', accs: '' });
    let accs = '';
    return {
      update(e) {
        if (e.metrics) accs = fmtAcc(e);
        bar.update(e.step, { loss: e.loss.toFixed(4), rate: e.stepsPerSecond.toFixed(0), accs });
      },
      stop: () => bar.stop(),
    };
  }
  let nextPrint = 0;
  return {
    update(e) {
      if (e.step >= nextPrint || e.step === total) {
        nextPrint = e.step + Math.max(1, Math.floor(total / 10));
        process.stderr.write(`${label} step ${e.step}/${total} loss ${e.loss.toFixed(4)} ${e.stepsPerSecond.toFixed(0)} it/s ETA ${e.etaSeconds.toFixed(1)}s ${fmtAcc(e)}\n`);
      }
    },
    stop: () => {},
  };
}

/**
 * Reading a model's weights, on stderr: a bar when it is a terminal ("Loading models/gpt2 [====  ] 45%
 * (214 / 475 MB)"), else a line every ~10% and at the end. `update` takes what the analysis worker
 * reports (src/core/hf/loadHfModel.ts LoadProgress).
 */
export function createLoadReporter(label: string): { update(p: { bytesRead: number; totalBytes: number }): void; stop(): void } {
  if (process.stderr.isTTY) {
    let bar: cliProgress.SingleBar | null = null;
    return {
      update(p) {
        if (!bar) {
          bar = new cliProgress.SingleBar({ stream: process.stderr, format: `Loading ${label} [{bar}] {percentage}% ({amount})`, hideCursor: true }, cliProgress.Presets.shades_classic);
          bar.start(p.totalBytes, 0, { amount: loadingAmount(0, p.totalBytes) });
        }
        bar.update(p.bytesRead, { amount: loadingAmount(p.bytesRead, p.totalBytes) });
      },
      stop() {
        bar?.stop();
        bar = null;
      },
    };
  }
  let nextPercent = 0;
  return {
    update(p) {
      const pct = loadingPercent(p.bytesRead, p.totalBytes);
      if (pct >= nextPercent || p.bytesRead >= p.totalBytes) {
        nextPercent = Math.floor(pct / 10) * 10 + 10;
        process.stderr.write(`${loadingText({ id: label, ...p })}\n`);
      }
    },
    stop: () => {},
  };
}
