/** Ends a command on an error: one `oocr: message` line on stderr (never a stack trace), exit code 1. */
export function fail(err: unknown): never {
  process.stderr.write(`oocr: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
