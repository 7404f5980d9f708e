import type { ModelSummary } from '../../../../../shared/api';
import { modelRow } from '../modelsData';

/**
 * The workspace's Hugging Face models, one row each (an unreadable folder keeps its row and shows
 * why), with buttons that open a model in the views that analyse model folders.
 */
export function ModelsTable({ models, onOpen }: { models: readonly ModelSummary[]; onOpen: (id: string, view: 'attention' | 'lens-patching' | 'projection' | 'lora-steering') => void }) {
  return (
    <div className="runs__table-wrap">
      <table className="data runs__table" data-testid="models-table">
        <thead>
          <tr>
            <th>Model</th>
            <th>Architecture</th>
            <th className="num">Layers</th>
            <th className="num">d_model</th>
            <th className="num">Parameters</th>
            <th className="num">Size</th>
            <th>dtype</th>
            <th title="Whether prompts are text (tokenizer.json) or token ids">Tokenizer</th>
            <th title="PEFT LoRA adapters inside or beside the folder, or opened with it">Adapters</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {models.map((m) => {
            const r = modelRow(m);
            return (
              <tr key={r.id} data-testid="model-row" data-model-id={r.id} title={`${r.path} (${r.source})`}>
                <td className="runs__id">{r.id}</td>
                {r.error ? (
                  <td colSpan={8} className="runs__row-error" data-testid="model-error">
                    Cannot open: {r.error}
                  </td>
                ) : (
                  <>
                    <td data-testid="model-architecture">{r.architecture}</td>
                    <td className="num">{r.layers}</td>
                    <td className="num">{r.dModel}</td>
                    <td className="num">{r.params}</td>
                    <td className="num">{r.size}</td>
                    <td>{r.dtype}</td>
                    <td>{r.tokenizer}</td>
                    <td data-testid="model-adapters">
                      {r.adapters.length
                        ? r.adapters.map((a, i) => (
                            <span key={a.id} className={a.error ? 'runs__row-error' : undefined} title={a.error}>
                              {i > 0 && ', '}
                              {a.text}
                              {a.error && ' (does not fit)'}
                            </span>
                          ))
                        : '—'}
                    </td>
                  </>
                )}
                <td>
                  <div className="runs__actions">
                    <button type="button" data-testid="model-open-attention" disabled={Boolean(r.error)} onClick={() => onOpen(r.id, 'attention')}>
                      Attention
                    </button>
                    <button type="button" data-testid="model-open-lens" disabled={Boolean(r.error)} onClick={() => onOpen(r.id, 'lens-patching')}>
                      Lens
                    </button>
                    <button type="button" data-testid="model-open-projection" disabled={Boolean(r.error)} onClick={() => onOpen(r.id, 'projection')}>
                      Projection
                    </button>
                    {r.adapters.some((a) => !a.error) && (
                      <button type="button" data-testid="model-open-lora" onClick={() => onOpen(r.id, 'lora-steering')}>
                        LoRA deltas
                      </button>
                    )}
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
