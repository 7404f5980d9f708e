export function TrainView() {
  return <p>Train: not built yet.</p>;
}
