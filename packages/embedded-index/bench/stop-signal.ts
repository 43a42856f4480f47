/** SIGINT or SIGTERM as a promise a long benchmark races its phases against. */
export interface StopSignal {
  /** Resolves to false on SIGINT or SIGTERM. */
  promise: Promise<false>;
  signal(): string | undefined;
  dispose(): void;
}

export function stopSignal(): StopSignal {
  let received: string | undefined;
  let resolve: (value: false) => void = () => {};
  const promise = new Promise<false>((settle) => {
    resolve = settle;
  });
  const on = (signal: NodeJS.Signals) => {
    received = signal;
    resolve(false);
  };
  // Every signal until disposed, not once: a second SIGTERM (a `pkill -f` that matches the
  // parent that forwards it as well) would otherwise end the process before the index is saved.
  process.on('SIGINT', on).on('SIGTERM', on);
  return {
    promise,
    signal: () => received,
    dispose: () => process.off('SIGINT', on).off('SIGTERM', on),
  };
}
