// Types of scripts/flip-fuses.mjs, for test/app/fuses.test.ts.
import type { FuseConfig } from '@electron/fuses';

export declare const FUSES: Readonly<{
  RunAsNode: false;
  EnableNodeOptionsEnvironmentVariable: false;
  EnableNodeCliInspectArguments: false;
  EnableEmbeddedAsarIntegrityValidation: true;
  OnlyLoadAppFromAsar: true;
  EnableCookieEncryption: true;
  GrantFileProtocolExtraPrivileges: false;
}>;
export declare function fuseConfig(o?: { platform?: string; arch?: string }): FuseConfig;
export declare function flipAndVerify(binary: string): Promise<Record<keyof typeof FUSES, boolean>>;
