/**
 * A request the caller got wrong (an unknown token, hook or step, an out-of-range argument): transports
 * answer it as a client error (HTTP 400, an inline message), never as a crash. Lives in shared so the
 * input checks that core and the UI share can throw it.
 */
export class ApiArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiArgumentError';
  }
}
