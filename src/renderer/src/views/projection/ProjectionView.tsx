export function ProjectionView() {
  return <p>Projection: not built yet.</p>;
}
