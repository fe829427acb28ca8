import { lookup, type LookupAddress, type LookupOptions } from 'node:dns';

const LOCALHOST_NAME = /^(?:[^.]+\.)*localhost\.?$/i;

/**
 * Name resolution for the Dynatrace clients: `localhost` and every name below it are the loopback
 * address without asking DNS (RFC 6761 §6.3, as browsers and curl do), so a local stand-in can be
 * reached as `<environment id>.localhost` like a SaaS environment at `<id>.live.dynatrace.com`.
 * Every other name is resolved as usual.
 */
export function lookupWithLocalhostNames(
  hostname: string,
  options: LookupOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
): void {
  if (!LOCALHOST_NAME.test(hostname)) {
    lookup(hostname, options, callback);
    return;
  }
  const loopback = options.family === 6 ? { address: '::1', family: 6 } : { address: '127.0.0.1', family: 4 };
  if (options.all) callback(null, [loopback]);
  else callback(null, loopback.address, loopback.family);
}
