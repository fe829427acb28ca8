import { z } from 'zod';

export type Env = Record<string, string | undefined>;

/** A variable set to the empty string counts as unset (docker-compose and shells often export blanks). */
export const blankToUndefined = (v: unknown): unknown => (typeof v === 'string' && v.trim() === '' ? undefined : v);

export const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):([1-9][0-9]{0,4})$/, {
    message: 'must be host:port, e.g. temporal.example.com:7233',
  })
  .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, { message: 'must have a port from 1 to 65535' });

/** An address to listen on: like hostPort, but port 0 stands for any free port, so several processes on one host can each have one. */
export const listenHostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):(0|[1-9][0-9]{0,4})$/, {
    message: 'must be host:port, e.g. 127.0.0.1:9464 (port 0: any free port)',
  })
  .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, { message: 'must have a port from 0 to 65535' });

export const port = z.coerce
  .number({ message: 'must be a port number' })
  .int({ message: 'must be a port number' })
  .min(1, { message: 'must be a port from 1 to 65535' })
  .max(65535, { message: 'must be a port from 1 to 65535' });

export const positiveInt = z.coerce
  .number({ message: 'must be a positive integer' })
  .int({ message: 'must be a positive integer' })
  .positive({ message: 'must be a positive integer' });

export const milliseconds = z.coerce.number({ message: 'must be a number of milliseconds' }).int().min(0);

export const identifier = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/, { message: 'must be 1-200 letters, digits, ".", "_" or "-"' });

export const trueOrFalse = z.enum(['true', 'false'], { message: 'must be true or false' });

export const httpUrl = (message: string) => z.string().regex(/^https?:\/\/[^\s?#]+$/, { message });

/**
 * A Managed cluster's base URL: https only, since the cluster token and every environment token of
 * the cluster go to it (the sandbox hands its simulator over without this check).
 */
export const clusterBaseUrl = z
  .string()
  .regex(/^https?:\/\/[^\s/?#]+(:\d+)?\/?$/, {
    message: 'must be the cluster base URL, e.g. https://managed.example.com',
  })
  .regex(/^https:/, { message: 'must be an https URL: the cluster token and environment tokens are sent to it' });

const DOMAIN = /^\.?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** A comma-separated list of DNS domains, e.g. `live.dynatrace.com,sprint.dynatracelabs.com`. */
export const domainList = z.string().refine((v) => v.split(',').every((d) => DOMAIN.test(d.trim())), {
  message: 'must be a comma-separated list of domains, e.g. live.dynatrace.com',
});
