/// <reference types="vite/client" />
import type { WorkbenchApi } from '../../shared/api';

declare global {
  interface Window {
    /**
     * The one API the page may use, exposed by the preload (src/preload/index.ts). Absent when the page
     * is opened without it (e.g. in a plain browser before web mode exists); check before first use.
     */
    readonly workbench: WorkbenchApi;
  }
}
