import type { CSSProperties } from 'react';

/** Inline styles shared by the views (styles.css has no classes for these). */
export const HINT: CSSProperties = { color: 'var(--muted)', fontSize: '0.85rem' };

/** Panels placed next to each other, scrolling sideways rather than wrapping. */
export const SIDE_BY_SIDE: CSSProperties = { display: 'flex', gap: '1rem', alignItems: 'flex-start', overflowX: 'auto', paddingBottom: '0.5rem' };

/** A panel as wide as its figure (captions wrap to it), never narrower than 24rem. */
export const FIT: CSSProperties = { width: 'min-content', minWidth: '24rem' };
