export function LensPatchingView() {
  return <p>LensPatching: not built yet.</p>;
}
