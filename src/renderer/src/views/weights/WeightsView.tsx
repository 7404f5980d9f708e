export function WeightsView() {
  return <p>Weights: not built yet.</p>;
}
