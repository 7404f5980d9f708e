/** A request that failed validation: transports answer it as a client error (400), not a crash. */
export class ApiArgumentError extends Error {}
