import { useCallback, useMemo, useRef, useState, type FormEvent } from 'react';
import type { ProjectionAnalysis } from '../../../../shared/api';
import { slug } from '../../figure/exportFigure';
import { Panel } from '../../figure/Panel';
import { useFigureTheme } from '../../figure/theme';
import { RunPicker } from '../../shell/RunPicker';
import { exampleTexts, parseTextList } from '../../shell/runInputs/textList';
import { modelById, pickRun, useWorkspace } from '../../shell/workspace';
import { ProjectionLegend } from './components/ProjectionLegend';
import { Scatter3D, type Scatter3DHandle } from './components/Scatter3D';
import {
  assignColours,
  axisLabels,
  baseRadius,
  buildRequest,
  COLOUR_FIELDS,
  DEFAULT_PARAMS,
  defaultSource,
  exportLegend,
  exportViewport,
  focusColours,
  LIMITS,
  normalisePoints,
  paramError,
  projectionCsv,
  projectionSvg,
  sourceChoices,
  tooltipRows,
  varianceSummary,
  type ColourField,
  type Method,
  type ProjectionParams,
  type ProjectionRequest,
  type Source,
} from './projectionData';
import { canProject, useProjection, useRunChoices, type RunChoices } from './useProjectionData';
import './projection.css';

/** The form keeps numeric inputs as typed; they become numbers when the user projects. */
interface FormState {
  step: number | null;
  source: Source | null;
  method: Method;
  promptsPerSet: string;
  neighbors: string;
  minDist: string;
}

const toForm = (p: ProjectionParams): FormState => ({ ...p, promptsPerSet: String(p.promptsPerSet), neighbors: String(p.neighbors), minDist: String(p.minDist) });

function parseForm(f: FormState): { params: ProjectionParams; errors: string[] } {
  const params: ProjectionParams = { ...f, promptsPerSet: Number(f.promptsPerSet), neighbors: Number(f.neighbors), minDist: Number(f.minDist) };
  const checks: (keyof typeof LIMITS)[] = ['promptsPerSet'];
  if (f.method === 'umap') checks.push('neighbors', 'minDist');
  const errors = checks.map((k) => (f[k].trim() === '' ? `${k}: enter a number` : paramError(k, params[k]))).filter((e): e is string => e !== null);
  return { params, errors };
}

function sourceLabel(s: Source): string {
  return s === 'embed' ? 'embed (W_E rows)' : s;
}

/** What the figure shows, in words, from the answer itself (not from the form, which may have moved on). */
function describe(d: ProjectionAnalysis): string {
  const texts = d.labels.some((l) => l.text !== undefined);
  const what =
    d.source === 'embed'
      ? `${d.points.length} rows of the embedding matrix W_E`
      : texts
        ? `${d.points.length} texts' residual stream at ${d.source}, each at its last token (colour: the label you gave)`
        : `${d.points.length} prompts' residual stream at ${d.source}, position ${d.labels[0]?.position ?? 'last'}`;
  const method = d.method === 'pca' ? 'PCA' : 'UMAP (axes have no units)';
  const arrows = d.origins ? ' Arrows run from each prompt under the base model to the fine-tuned model (one joint fit over both).' : '';
  return `${what}, ${d.id}${texts || d.step === 0 ? '' : ` at step ${d.step}`}, reduced to 3D by ${method}.${arrows}`;
}

export function ProjectionView() {
  const theme = useFigureTheme();
  const { runs, models, runId, setRunId } = useWorkspace();
  // A Hugging Face model projects texts you give (one per line, `label<TAB>text`), not a task's prompts.
  const model = modelById(models.data, runId) ?? (runs.data && !pickRun(runs.data, runId, canProject) ? (models.data?.find((m) => !m.error) ?? null) : null);
  const id = model ? model.id : pickRun(runs.data, runId, canProject);
  const run = useRunChoices(model ? null : id);
  const modelChoices = useMemo<Omit<RunChoices, 'details'> | null>(() => (model ? { finetune: false, choices: sourceChoices({ nLayers: model.nLayers ?? 0, mlp: false }), checkpoints: [] } : null), [model]);
  const choices: (Omit<RunChoices, 'details'> & { details?: RunChoices['details'] }) | null = model ? modelChoices : run.choices;
  const [textsDraft, setTextsDraft] = useState<Record<string, string>>({});
  const [textsCommitted, setTextsCommitted] = useState<Record<string, string>>({});
  const modelTexts = (which: Record<string, string>): string => (model ? (which[model.id] ?? exampleTexts({ tokenizer: model.tokenizer !== false, labelled: true })) : '');
  const draftList = parseTextList(modelTexts(textsDraft), { maxTexts: 5000, maxChars: 4000 });
  const committedList = parseTextList(modelTexts(textsCommitted), { maxTexts: 5000, maxChars: 4000 });
  /** A model's request carries its texts (and labels) for hook sources. */
  const withTexts = (req: ProjectionRequest | null, list: typeof draftList): ProjectionRequest | null => {
    if (!req || !model || req.source === 'embed') return req;
    const { promptsPerSet: _p, ...rest } = req;
    return { ...rest, texts: list.texts, ...(list.labels ? { labels: list.labels } : {}) };
  };

  const [form, setForm] = useState<FormState>(() => toForm(DEFAULT_PARAMS));
  const [committed, setCommitted] = useState<ProjectionParams>(DEFAULT_PARAMS);
  const built = withTexts(id && choices ? buildRequest(id, committed, choices) : null, committedList);
  // While a newly picked run's manifest loads there is no request yet: keep the last one (and its
  // figure, scene and camera) instead of dropping to an empty view for a moment.
  const [held, setHeld] = useState<ProjectionRequest | null>(null);
  if (built && JSON.stringify(built) !== JSON.stringify(held)) setHeld(built);
  const request = built ?? (id ? held : null);
  const proj = useProjection(request);

  const parsed = parseForm(form);
  if (model && draftList.error) parsed.errors.push(`texts: ${draftList.error}`);
  else if (model && draftList.texts.length < 4) parsed.errors.push(`texts: give at least 4 (one per line), got ${draftList.texts.length}`);
  const formRequest = id && choices && !parsed.errors.length ? withTexts(buildRequest(id, parsed.params, choices), draftList) : null;
  const dirty = formRequest !== null && JSON.stringify(formRequest) !== JSON.stringify(request);
  const shownSource = form.source !== null && choices?.choices.includes(form.source) ? form.source : choices ? defaultSource(choices.choices) : null;
  const set = (patch: Partial<FormState>) => setForm((f) => ({ ...f, ...patch }));

  const onProject = (e: FormEvent) => {
    e.preventDefault();
    if (parsed.errors.length) return;
    if (dirty) {
      setCommitted(parsed.params);
      if (model) setTextsCommitted((t) => ({ ...t, [model.id]: modelTexts(textsDraft) }));
    } else proj.reload();
  };

  // Figure state: display only, never refetches.
  const [colourBy, setColourBy] = useState<ColourField>('group');
  const [size, setSize] = useState(1);
  const [showArrows, setShowArrows] = useState(true);
  const [pin, setPin] = useState<{ data: ProjectionAnalysis; index: number } | null>(null);
  const [focus, setFocus] = useState<string | null>(null);
  const scatter = useRef<Scatter3DHandle>(null);

  const data = proj.data;
  const norm = useMemo(() => (data ? normalisePoints(data.points, data.origins) : null), [data]);
  const colours = useMemo(() => (data ? assignColours(data.labels, colourBy, theme.palette) : null), [data, colourBy, theme]);
  const shownColours = useMemo(() => (colours ? focusColours(colours, focus, theme.background) : []), [colours, focus, theme]);
  const axes = useMemo(() => (data ? axisLabels(data) : null), [data]);
  const radius = norm ? baseRadius(norm.n) * size : 0;
  const pinned = pin && pin.data === data ? pin.index : null;
  const onPin = useCallback((index: number | null) => setPin(index === null || !data ? null : { data, index }), [data]);
  const variance = data?.method === 'pca' ? varianceSummary(data.varianceRatio) : null;

  const title = data ? `3D projection: ${data.id}, ${data.source === 'embed' ? 'embedding' : data.source} (${data.method.toUpperCase()})` : '3D projection';
  const fileName = data ? `projection-${slug(data.id)}-${slug(data.source)}-${data.method}` : 'projection';
  const legend = colours ? exportLegend(colours, colourBy) : [];
  // The exports' key: the colours, and what an arrow means when arrows are drawn.
  const figureLegend = data?.origins && showArrows ? [...legend, { label: 'arrows: from the base model to the fine-tune', colour: theme.muted, swatch: 'line' as const }] : legend;

  const runsError = runs.status === 'error' ? runs.error : null;
  const noRuns = runs.status === 'ready' && !id;

  return (
    <div className="view projection" data-testid="view-projection">
      <form className="view__toolbar projection__toolbar" onSubmit={onProject} aria-label="Projection settings">
        <RunPicker value={id} onChange={setRunId} accept={canProject} models testId="projection-run" />
        {choices && !choices.finetune && !model && (
          <label className="picker">
            Step{' '}
            <select data-testid="projection-step" value={form.step ?? ''} onChange={(e) => set({ step: e.target.value === '' ? null : Number(e.target.value) })}>
              <option value="">latest ({choices.checkpoints[choices.checkpoints.length - 1] ?? '—'})</option>
              {choices.checkpoints.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
        )}
        {choices?.finetune && (
          <span className="projection__note" data-testid="projection-finetune">
            fine-tuned ({choices.details?.manifest.finetune?.method}): base → fine-tuned arrows
          </span>
        )}
        <label className="picker">
          Source{' '}
          <select data-testid="projection-source" value={shownSource ?? ''} disabled={!choices} onChange={(e) => set({ source: e.target.value as Source })}>
            {(choices?.choices ?? []).map((s) => (
              <option key={s} value={s}>
                {sourceLabel(s)}
              </option>
            ))}
          </select>
        </label>
        <label className="picker">
          Method{' '}
          <select data-testid="projection-method" value={form.method} onChange={(e) => set({ method: e.target.value as Method })}>
            <option value="pca">PCA</option>
            <option value="umap">UMAP</option>
          </select>
        </label>
        {form.method === 'umap' && (
          <>
            <label className="picker" title="UMAP n_neighbors: larger values favour global structure">
              Neighbors{' '}
              <input data-testid="projection-neighbors" type="number" className="projection__num" {...LIMITS.neighbors} value={form.neighbors} onChange={(e) => set({ neighbors: e.target.value })} />
            </label>
            <label className="picker" title="UMAP min_dist: how tightly points may pack">
              Min dist{' '}
              <input data-testid="projection-min-dist" type="number" className="projection__num" {...LIMITS.minDist} value={form.minDist} onChange={(e) => set({ minDist: e.target.value })} />
            </label>
          </>
        )}
        {!model && (
          <label className="picker" title="Prompts drawn from each eval split of the run's task (hook sources only)">
            Prompts per split{' '}
            <input
              data-testid="projection-prompts"
              type="number"
              className="projection__num"
              {...LIMITS.promptsPerSet}
              value={form.promptsPerSet}
              disabled={shownSource === 'embed'}
              onChange={(e) => set({ promptsPerSet: e.target.value })}
            />
          </label>
        )}
        <button type="submit" className={dirty ? 'primary' : undefined} disabled={!choices || parsed.errors.length > 0 || proj.status === 'loading'} data-testid="projection-submit">
          {proj.status === 'loading' ? 'Projecting…' : 'Project'}
        </button>
        {dirty && <span className="projection__note">settings changed: press Project</span>}
        {model && shownSource !== 'embed' && (
          <label className="projection__texts">
            <span>
              Texts, one per line; <code>label⇥text</code> colours a text by its label (Tab inserts a tab, Shift+Tab leaves the box). Each point is a text&apos;s last token.
            </span>
            <textarea
              data-testid="projection-texts"
              rows={6}
              spellCheck={false}
              value={modelTexts(textsDraft)}
              onChange={(e) => setTextsDraft((t) => ({ ...t, [model.id]: e.target.value }))}
              onKeyDown={(e) => {
                if (e.key !== 'Tab' || e.shiftKey || e.altKey || e.ctrlKey || e.metaKey) return;
                e.preventDefault();
                const el = e.currentTarget;
                const v = el.value;
                const at = el.selectionStart;
                const next = `${v.slice(0, at)}\t${v.slice(el.selectionEnd)}`;
                setTextsDraft((t) => ({ ...t, [model.id]: next }));
                requestAnimationFrame(() => el.setSelectionRange(at + 1, at + 1));
              }}
            />
          </label>
        )}
      </form>

      {parsed.errors.map((e) => (
        <p key={e} className="view__error" role="alert">
          {e}
        </p>
      ))}
      {runsError && (
        <p className="view__error" role="alert">
          Could not list runs: {runsError}
        </p>
      )}
      {run.status === 'error' && (
        <p className="view__error" role="alert">
          Could not open run {id}: {run.error}
        </p>
      )}
      {proj.status === 'error' && (
        <p className="view__error" role="alert" data-testid="projection-error">
          Projection{request ? ` of ${request.id} (${request.source ?? 'embed'}, ${(request.method ?? 'pca').toUpperCase()})` : ''} failed: {proj.error}
          {data ? '. The figure below is the last projection that succeeded.' : ''}
        </p>
      )}
      {noRuns && <p className="view__empty">No run to project: train one in the Train view (runs need a checkpoint, or be a LoRA / steering fine-tune).</p>}
      {!data && proj.status === 'loading' && <p className="view__loading">Projecting {request?.source}…</p>}

      {data && norm && colours && (
        <Panel
          title={title}
          fileName={fileName}
          testId="projection-panel"
          caption={
            <>
              {describe(data)}{' '}
              {variance && (
                <span data-testid="projection-variance">
                  Variance explained: <strong>{variance}</strong>.
                </span>
              )}
            </>
          }
          csv={() => projectionCsv(data)}
          legend={legend}
          svg={(t) => {
            if (!scatter.current) throw new Error('the 3D view is not running');
            const box = exportViewport(t, scatter.current.size(), axes);
            const view = scatter.current.exportView(box.width, box.height, box.inset, box.labelPads);
            return projectionSvg(norm, view, { colours: shownColours, radius, axisLabels: axes, showArrows, pinned, labels: data.labels }, t, { title, legend: figureLegend });
          }}
          pngSvg={(t, pixelsPerUnit) => {
            if (!scatter.current) throw new Error('the 3D view is not running');
            const box = exportViewport(t, scatter.current.size(), axes);
            const { view, image } = scatter.current.renderExport(box.width, box.height, box.inset, box.labelPads, pixelsPerUnit);
            return projectionSvg(norm, view, { colours: shownColours, radius, axisLabels: axes, showArrows, pinned, labels: data.labels, raster: image }, t, { title, legend: figureLegend });
          }}
          controls={
            <>
              <label className="picker">
                Colour by{' '}
                <select data-testid="projection-colour-by" value={colourBy} onChange={(e) => {
                    setColourBy(e.target.value as ColourField);
                    setFocus(null);
                  }}>
                  {COLOUR_FIELDS.map((f) => (
                    <option key={f.value} value={f.value}>
                      {f.label}
                    </option>
                  ))}
                </select>
              </label>
              <label className="picker">
                Size{' '}
                <input data-testid="projection-size" type="range" min={0.25} max={3} step={0.05} value={size} onChange={(e) => setSize(Number(e.target.value))} />
              </label>
              {data.origins && (
                <label className="picker">
                  <input data-testid="projection-arrows" type="checkbox" checked={showArrows} onChange={(e) => setShowArrows(e.target.checked)} /> Arrows
                </label>
              )}
              <button type="button" data-testid="projection-reset" onClick={() => scatter.current?.resetView()}>
                Reset view
              </button>
            </>
          }
        >
          <div className="projection__layout">
            <div className="projection__stage">
              <Scatter3D
                handle={scatter}
                data={norm}
                labels={data.labels}
                colours={shownColours}
                radius={radius}
                showArrows={showArrows}
                axisLabels={axes}
                pinned={pinned}
                onPin={onPin}
                testId="projection-canvas"
              />
              {proj.status === 'loading' && <div className="projection__busy">Projecting…</div>}
            </div>
            <aside className="projection__side">
              <ProjectionLegend colours={colours} field={colourBy} focus={focus} onFocus={setFocus} testId="projection-legend" />
              {pinned !== null && data.labels[pinned] && (
                <div className="projection__pinned" data-testid="projection-pinned">
                  <div className="projection__pinned-head">
                    <strong>Pinned point</strong>
                    <button type="button" onClick={() => setPin(null)} aria-label="Unpin">
                      ×
                    </button>
                  </div>
                  <table>
                    <tbody>
                      {tooltipRows(data.labels[pinned]).map(([k, v]) => (
                        <tr key={k}>
                          <th>{k}</th>
                          <td>{v}</td>
                        </tr>
                      ))}
                      <tr>
                        <th>x, y, z</th>
                        <td>{data.points[pinned].map((c) => c.toPrecision(4)).join(', ')}</td>
                      </tr>
                      {data.origins?.[pinned] && (
                        <tr>
                          <th>base</th>
                          <td>{data.origins[pinned].map((c) => c.toPrecision(4)).join(', ')}</td>
                        </tr>
                      )}
                    </tbody>
                  </table>
                </div>
              )}
              <p className="projection__hint">Drag to orbit · scroll to zoom · right-drag to pan · click a point to pin it.</p>
            </aside>
          </div>
        </Panel>
      )}
    </div>
  );
}
