import { IPC_PREFIX, type IpcChannel } from './api';

/** What follows the prefix: a letter, then letters, digits, `.`, `_`, `-` or `:`. */
const NAME_RE = /^[A-Za-z][A-Za-z0-9._:-]*$/;

/** True for a well-formed `workbench:` channel name. Pure, so the preload's guard is unit-tested. */
export function isWorkbenchChannel(channel: unknown): channel is IpcChannel {
  return typeof channel === 'string' && channel.startsWith(IPC_PREFIX) && NAME_RE.test(channel.slice(IPC_PREFIX.length));
}

/** Throws unless `channel` is a well-formed `workbench:` channel. */
export function assertWorkbenchChannel(channel: unknown): asserts channel is IpcChannel {
  if (!isWorkbenchChannel(channel)) {
    throw new Error(`Refused IPC channel ${JSON.stringify(channel)}: only '${IPC_PREFIX}…' channels are allowed`);
  }
}
