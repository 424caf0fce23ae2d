/** The part of on-exit-leak-free's API the loggers use (the package ships no types). */
declare module 'on-exit-leak-free' {
  /** Calls `fn(obj)` when the process exits, for as long as `obj` is alive (a WeakRef: registering keeps nothing alive). */
  export function register<T extends object>(obj: T, fn: (obj: T, event: 'exit') => void): void;
}
