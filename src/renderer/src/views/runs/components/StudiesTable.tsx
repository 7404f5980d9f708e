import type { StudySummary } from '../../../../../shared/api';
import { studyRows } from '../runsData';

/** LoRA-vs-steering studies: held-out accuracy of the base model, LoRA and the steering vectors. */
export function StudiesTable({ studies, onOpen }: { studies: readonly StudySummary[]; onOpen: () => void }) {
  const rows = studyRows(studies);
  if (!rows.length) return <p className="view__empty">No studies yet: start one from Train (LoRA vs steering study).</p>;
  return (
    <table className="data" data-testid="studies-table">
      <thead>
        <tr>
          <th>Study</th>
          <th>Kind</th>
          <th className="num">Seed</th>
          <th className="num" title="Held-out accuracy of the base model">Base</th>
          <th className="num" title="Held-out accuracy after LoRA fine-tuning">LoRA</th>
          <th className="num" title="Held-out accuracy with the natural steering vector (from LoRA's activations)">Natural SV</th>
          <th className="num" title="Held-out accuracy with a trained steering vector">Trained SV</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {rows.map((s) => (
          <tr key={s.id} data-testid="study-row" data-study-id={s.id}>
            <td>{s.id}</td>
            <td>{s.kind}</td>
            <td className="num">{s.seed}</td>
            <td className="num">{s.base}</td>
            <td className="num">{s.lora}</td>
            <td className="num">{s.naturalSv}</td>
            <td className="num">{s.trainedSv}</td>
            <td>
              <button type="button" onClick={onOpen} data-testid="study-row-open">
                Open in LoRA vs Steering
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
