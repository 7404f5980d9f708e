export function RunsView() {
  return <p>Runs: not built yet.</p>;
}
