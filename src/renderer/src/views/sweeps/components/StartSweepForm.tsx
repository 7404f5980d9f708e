import { useEffect, useState, type FormEvent } from 'react';
import type { SweepPlan, SweepPresetInfo } from '../../../../../shared/sweeps';
import { useApi } from '../../../shell/api';
import { errorMessage } from '../../../shell/errors';
import { parseSpecText } from '../sweepsData';

type StartArgs = { preset?: string; spec?: Record<string, unknown>; name?: string; steps?: number; workers?: number; redis?: string; allowLarge?: boolean };

/** How long the form waits after the last keystroke before asking the backend to check the sweep. */
const CHECK_DELAY_MS = 250;

/**
 * Start a sweep: a shipped preset (with an optional name and a shortened number of steps) or a pasted
 * spec. Every change is checked by the backend (checkSweep: the same validation as starting it), so a
 * bad spec shows its error inline, naming the field and cell, before anything runs.
 */
export function StartSweepForm({ presets, onStarted }: { presets: readonly SweepPresetInfo[]; onStarted: (name: string) => void }) {
  const api = useApi();
  const [mode, setMode] = useState<'preset' | 'spec'>('preset');
  const [preset, setPreset] = useState(presets[0]?.name ?? '');
  const [specText, setSpecText] = useState(() => JSON.stringify(presets[0]?.spec ?? {}, null, 2));
  const [name, setName] = useState('');
  const [steps, setSteps] = useState('');
  const [workers, setWorkers] = useState('');
  const [redis, setRedis] = useState('');
  const [allowLarge, setAllowLarge] = useState(false);
  const [plan, setPlan] = useState<SweepPlan | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [startError, setStartError] = useState<string | null>(null);

  const args = (): StartArgs | { error: string } => {
    const a: StartArgs = {};
    if (mode === 'preset') a.preset = preset;
    else {
      const parsed = parseSpecText(specText);
      if ('error' in parsed) return parsed;
      a.spec = parsed.spec;
    }
    if (name.trim()) a.name = name.trim();
    if (redis.trim()) a.redis = redis.trim();
    if (allowLarge) a.allowLarge = true;
    for (const [key, text] of [
      ['steps', steps],
      ['workers', redis.trim() ? '' : workers],
    ] as const) {
      if (!text.trim()) continue;
      const n = Number(text);
      if (!Number.isInteger(n) || n < 1) return { error: `${key}: a whole number ≥ 1` };
      a[key] = n;
    }
    return a;
  };
  const request = args();
  const key = JSON.stringify(request);

  useEffect(() => {
    let live = true;
    setPlan(null);
    const r = JSON.parse(key) as StartArgs | { error: string };
    if ('error' in r) {
      setProblem(r.error);
      return;
    }
    setProblem(null);
    const timer = setTimeout(() => {
      api.checkSweep(r).then(
        (p) => live && setPlan(p),
        (err: unknown) => live && setProblem(errorMessage(err)),
      );
    }, CHECK_DELAY_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, key]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if ('error' in request) return;
    setBusy(true);
    setStartError(null);
    try {
      const r = await api.startSweep(request);
      onStarted(r.name);
    } catch (err) {
      setStartError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="sweeps__form" onSubmit={submit} data-testid="sweep-form" aria-label="Start a sweep">
      <div className="sweeps__modes" role="radiogroup" aria-label="Sweep source">
        <label>
          <input type="radio" name="sweep-source" checked={mode === 'preset'} onChange={() => setMode('preset')} data-testid="sweep-mode-preset" /> Shipped sweep
        </label>
        <label>
          <input type="radio" name="sweep-source" checked={mode === 'spec'} onChange={() => setMode('spec')} data-testid="sweep-mode-spec" /> Spec (JSON)
        </label>
      </div>
      {mode === 'preset' ? (
        <label className="sweeps__field">
          <span>Sweep</span>
          <select value={preset} onChange={(e) => setPreset(e.target.value)} data-testid="sweep-preset">
            {presets.map((p) => (
              <option key={p.name} value={p.name}>
                {p.name} ({p.spec.preset}, {p.cells} cells)
              </option>
            ))}
          </select>
          <button
            type="button"
            onClick={() => {
              setSpecText(JSON.stringify(presets.find((p) => p.name === preset)?.spec ?? {}, null, 2));
              setMode('spec');
            }}
          >
            Edit as spec
          </button>
        </label>
      ) : (
        <label className="sweeps__field sweeps__field--spec">
          <span>Spec</span>
          <textarea value={specText} onChange={(e) => setSpecText(e.target.value)} rows={10} cols={70} spellCheck={false} aria-invalid={Boolean(problem)} aria-describedby={problem ? 'sweep-spec-error' : undefined} data-testid="sweep-spec" />
        </label>
      )}
      <div className="sweeps__row">
        <label className="sweeps__field">
          <span>Name</span>
          <input type="text" value={name} onChange={(e) => setName(e.target.value)} placeholder="the spec’s name" size={22} spellCheck={false} data-testid="sweep-name" />
        </label>
        <label className="sweeps__field">
          <span>Steps</span>
          <input type="number" value={steps} onChange={(e) => setSteps(e.target.value)} min="1" step="1" placeholder="the spec’s" data-testid="sweep-steps" title="Training steps of every cell (fixed.steps): a shortened sweep" />
        </label>
        <label className="sweeps__field">
          <span>Workers</span>
          <input type="number" value={workers} onChange={(e) => setWorkers(e.target.value)} min="1" step="1" placeholder="auto" disabled={Boolean(redis.trim())} data-testid="sweep-workers" title="Cells trained at once (at most the app’s job slots)" />
        </label>
        <label className="sweeps__field">
          <span>Redis</span>
          <input
            type="text"
            value={redis}
            onChange={(e) => setRedis(e.target.value)}
            placeholder="local workers"
            size={26}
            spellCheck={false}
            data-testid="sweep-redis"
            title="Distributed: redis://HOST:PORT of a BullMQ queue; cells train on the oocr workers attached to it (README: Running sweeps on many machines)"
          />
        </label>
      </div>
      {(allowLarge || problem?.includes('more than 1000')) && (
        <label className="sweeps__field">
          <input type="checkbox" checked={allowLarge} onChange={(e) => setAllowLarge(e.target.checked)} data-testid="sweep-allow-large" /> Allow more than 1,000 cells
        </label>
      )}
      {problem ? (
        <p className="sweeps__problem" id="sweep-spec-error" role="alert" data-testid="sweep-spec-error">
          {problem}
        </p>
      ) : (
        <p className="sweeps__plan" data-testid="sweep-plan">
          {plan
            ? `${plan.cells} cells of ${plan.preset} into sweeps/${plan.name}, ${plan.workers > 0 ? `${plan.workers} at a time` : 'on the oocr workers of the queue'}${plan.resumes ? '; resumes the existing sweep (finished cells are not re-run)' : ''}`
            : 'Checking…'}
        </p>
      )}
      <div className="sweeps__actions">
        <button type="submit" className="primary" disabled={busy || !plan || Boolean(problem)} data-testid="sweep-start">
          {busy ? 'Starting…' : 'Start sweep'}
        </button>
      </div>
      {startError && (
        <p className="view__error" role="alert" data-testid="sweep-start-error">
          Could not start the sweep: {startError}
        </p>
      )}
    </form>
  );
}
