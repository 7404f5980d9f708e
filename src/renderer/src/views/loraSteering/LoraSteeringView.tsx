export function LoraSteeringView() {
  return <p>LoraSteering: not built yet.</p>;
}
