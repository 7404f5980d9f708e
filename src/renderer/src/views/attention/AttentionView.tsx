export function AttentionView() {
  return <p>Attention: not built yet.</p>;
}
