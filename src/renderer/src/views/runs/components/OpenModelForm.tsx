import { useState } from 'react';
import type { ModelSummary } from '../../../../../shared/api';
import { useApi } from '../../../shell/api';
import { errorMessage } from '../../../shell/errors';
import { HINT } from '../../../shell/styles';

/**
 * Opens a Hugging Face model folder by its path on the machine that runs the workbench (web mode has
 * no native folder dialog; the desktop app also has File → Open Model…), optionally with a PEFT
 * adapter folder. The backend checks both and records them in the workspace's models.json.
 */
export function OpenModelForm({ onOpened }: { onOpened: (m: ModelSummary) => void }) {
  const api = useApi();
  const [modelPath, setModelPath] = useState('');
  const [adapterPath, setAdapterPath] = useState('');
  const [state, setState] = useState<{ status: 'idle' | 'opening' } | { status: 'error'; error: string } | { status: 'opened'; model: ModelSummary }>({ status: 'idle' });
  const path = modelPath.trim();
  const adapter = adapterPath.trim();
  return (
    <form
      className="view__toolbar"
      data-testid="open-model-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (!path) return;
        setState({ status: 'opening' });
        api.openModel({ path, ...(adapter ? { adapter } : {}) }).then(
          (model) => {
            setState({ status: 'opened', model });
            onOpened(model);
          },
          (err: unknown) => setState({ status: 'error', error: errorMessage(err) }),
        );
      }}
    >
      <label className="picker" style={{ flex: '2 1 24rem', display: 'flex', alignItems: 'center' }}>
        Model folder{' '}
        <input
          type="text"
          data-testid="open-model-path"
          value={modelPath}
          onChange={(e) => setModelPath(e.target.value)}
          placeholder="/path/to/a/hub/download (config.json, *.safetensors, tokenizer.json)"
          spellCheck={false}
          style={{ flex: 1, minWidth: '16rem', fontFamily: 'ui-monospace, monospace' }}
        />
      </label>
      <label className="picker" style={{ flex: '1 1 16rem', display: 'flex', alignItems: 'center' }}>
        Adapter{' '}
        <input
          type="text"
          data-testid="open-model-adapter"
          value={adapterPath}
          onChange={(e) => setAdapterPath(e.target.value)}
          placeholder="optional: a PEFT adapter folder"
          spellCheck={false}
          style={{ flex: 1, minWidth: '10rem', fontFamily: 'ui-monospace, monospace' }}
        />
      </label>
      <button type="submit" data-testid="open-model-submit" disabled={!path || state.status === 'opening'}>
        Open model
      </button>
      {state.status === 'opening' && <span className="view__loading">Checking the folder…</span>}
      {state.status === 'opened' && (
        <span style={HINT} data-testid="open-model-done">
          Opened as <strong>{state.model.id}</strong>.
        </span>
      )}
      {state.status === 'error' && (
        <span className="view__error" role="alert" data-testid="open-model-error">
          {state.error}
        </span>
      )}
    </form>
  );
}
