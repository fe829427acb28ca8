import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { SecretSource } from '../config/secret.js';

/**
 * `per-environment`: each environment's webhook carries a key of its own, derived from the master
 * key and the environment id, so a key read out of one tenant opens no other environment's path.
 * `shared`: the master key itself on every path, for set-ups that configured one key everywhere.
 */
export const WEBHOOK_KEY_MODES = ['per-environment', 'shared'] as const;
export type WebhookKeyMode = (typeof WEBHOOK_KEY_MODES)[number];

/** Shorter keys are within reach of guessing, even at the rate limit. */
export const MIN_WEBHOOK_KEY_LENGTH = 16;

/** Binds a derived key to this one purpose: the same master yields nothing else with this label. */
const DERIVATION_LABEL = 'dynatrace-autopilot webhook key v1\0';

/** An environment's own webhook key: HMAC-SHA256 of the label and the id, keyed by the master, base64url. */
export function deriveWebhookKey(master: string, environmentId: string): string {
  return createHmac('sha256', master)
    .update(DERIVATION_LABEL + environmentId)
    .digest('base64url');
}

/**
 * A non-secret fingerprint of a key, sent next to it, so a plan can tell a rotated key from an
 * unchanged one (Dynatrace never reads a secret header back).
 */
export function webhookKeyId(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

/** The entries of a list of keys: separated by commas or lines, blank lines and `#` comments skipped. */
export function keyEntries(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '' && !entry.startsWith('#'));
}

/**
 * Constant-time comparison (hashing first equalises the lengths). An expected key that is too short
 * (a key file rotated to something short since start-up) matches nothing: it fails closed.
 */
function sameKey(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && expected.length >= MIN_WEBHOOK_KEY_LENGTH;
}

/**
 * The webhook keys of this deployment, from the master key of `WEBHOOK_API_KEY` and the earlier
 * masters of `WEBHOOK_PREVIOUS_API_KEYS`: what onboarding writes into an environment, and what the
 * receiver accepts on that environment's path. Keys from files are re-read when the files change, so
 * a rotation needs no restart.
 */
export class WebhookKeys {
  constructor(
    private readonly source: {
      master: SecretSource;
      mode: WebhookKeyMode;
      /** Earlier masters, still accepted while the environments' webhooks are rewritten. */
      previous?: SecretSource | undefined;
    },
  ) {}

  get mode(): WebhookKeyMode {
    return this.source.mode;
  }

  /** The key this environment's webhook is to carry now. */
  keyFor(environmentId: string): string {
    return this.fromMaster(this.source.master.reveal(), environmentId);
  }

  /** The fingerprint of that key. */
  keyIdFor(environmentId: string): string {
    return webhookKeyId(this.keyFor(environmentId));
  }

  /**
   * Whether the presented key opens this environment's path, and with which master: `current`, or
   * `previous` during a rotation. Without an environment (a path that names none) only a shared key
   * can match. Every candidate is compared, so the time taken does not say which one came close.
   */
  match(environmentId: string | undefined, presented: string): 'current' | 'previous' | undefined {
    const masters = [this.source.master.reveal(), ...keyEntries(this.source.previous?.reveal() ?? '')];
    let matched: 'current' | 'previous' | undefined;
    masters.forEach((master, index) => {
      // A derived key is long whatever its master; a short master must not yield accepted keys.
      if (master.length < MIN_WEBHOOK_KEY_LENGTH) return;
      if (this.source.mode === 'per-environment' && environmentId === undefined) return;
      const expected = this.fromMaster(master, environmentId ?? '');
      if (sameKey(presented, expected) && matched === undefined) matched = index === 0 ? 'current' : 'previous';
    });
    return matched;
  }

  private fromMaster(master: string, environmentId: string): string {
    return this.source.mode === 'shared' ? master : deriveWebhookKey(master, environmentId);
  }

  toString(): string {
    return `WebhookKeys(${this.source.mode})`;
  }

  toJSON(): string {
    return this.toString();
  }
}
