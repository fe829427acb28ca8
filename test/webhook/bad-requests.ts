import { DEFAULT_WEBHOOK_KEY_HEADER } from '../../src/shared/webhook.js';
import { chunked, requestBytes, type RequestParts } from './raw-http.js';

/** A small seeded generator (mulberry32), so that a failing run can be repeated request by request. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** From `min` to `max`, both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  text(length: number, alphabet = ALNUM): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[this.int(0, alphabet.length - 1)];
    return out;
  }

  bytes(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = this.int(0, 255);
    return out;
  }
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Printable ASCII without space: header values that Node would not trim into something else. */
const VISIBLE = ALNUM + '!#$%&*+-.^_`|~/=?@[]{}()<>;:,"\'\\';

export const CATEGORIES = [
  'malformed-json',
  'wrong-types',
  'huge-strings',
  'bad-key',
  'wrong-content-type',
  'deep-nesting',
  'oversized-body',
  'oversized-headers',
  'garbage-bytes',
  'wrong-method-or-path',
] as const;
export type Category = (typeof CATEGORIES)[number];

export interface BadRequest {
  category: Category;
  /** What was generated, for failure reports. */
  name: string;
  bytes: Buffer;
  /** The exact status where the request has exactly one thing wrong with it; otherwise any 4xx. */
  expect?: number;
  expectBody?: boolean;
  halfClose?: boolean;
}

export interface FuzzTarget {
  key: string;
  environmentId: string;
  /** Planted in every request wherever the sender controls something; no answer may contain it. */
  marker: string;
  maxBodyBytes: number;
  maxHeaderBytes: number;
  maxJsonDepth: number;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Notification = Record<string, Json> & { ImpactedEntities: Record<string, Json>[] };

export function generateBadRequest(rng: Rng, t: FuzzTarget, category: Category): BadRequest {
  const g = new Generator(rng, t);
  const made = g[CATEGORY_METHOD[category]]();
  return { category, ...made };
}

const CATEGORY_METHOD = {
  'malformed-json': 'malformedJson',
  'wrong-types': 'wrongTypes',
  'huge-strings': 'hugeStrings',
  'bad-key': 'badKey',
  'wrong-content-type': 'wrongContentType',
  'deep-nesting': 'deepNesting',
  'oversized-body': 'oversizedBody',
  'oversized-headers': 'oversizedHeaders',
  'garbage-bytes': 'garbageBytes',
  'wrong-method-or-path': 'wrongMethodOrPath',
} as const satisfies Record<Category, keyof Generator>;

type Made = Omit<BadRequest, 'category'>;

const isJson = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

class Generator {
  constructor(
    private readonly rng: Rng,
    private readonly t: FuzzTarget,
  ) {}

  private get path() {
    return `/webhooks/dynatrace/${this.t.environmentId}`;
  }

  /** A notification the receiver would accept; most bad requests are one of these, spoilt in one way. */
  private notification(): Notification {
    const r = this.rng;
    return {
      State: r.pick(['OPEN', 'RESOLVED']),
      PID: `-${r.int(1, 1e9)}_${r.int(1, 1e12)}V2`,
      ProblemID: `P-${r.int(1, 99_999)}`,
      ProblemTitle: `CPU saturation ${this.t.marker}`,
      ImpactedEntities: [
        { type: 'HOST', name: `vm-${this.t.marker}`, entity: `HOST-${r.text(16, '0123456789ABCDEF')}` },
      ],
      ProblemDetailsJSON: { id: this.t.marker },
    };
  }

  /** A string of about `length` characters that starts with the marker. */
  private marked(length: number, alphabet = ALNUM): string {
    return this.t.marker + this.rng.text(Math.max(0, length - this.t.marker.length), alphabet);
  }

  private post(body: string | Buffer, extra: Partial<RequestParts> & { contentType?: string | null } = {}): Buffer {
    const { contentType = 'application/json', headers = [], ...rest } = extra;
    return requestBytes({
      method: 'POST',
      path: this.path,
      body,
      headers: [
        ...(contentType === null ? [] : [['Content-Type', contentType] as [string, string]]),
        [DEFAULT_WEBHOOK_KEY_HEADER, this.t.key],
        ...headers,
      ],
      ...rest,
    });
  }

  malformedJson(): Made {
    const r = this.rng;
    const valid = JSON.stringify(this.notification());
    const m = this.t.marker;
    const templates = [
      `{"State":'OPEN',"PID":"${m}"}`,
      `{State:"OPEN",PID:"${m}"}`,
      `{"State":"OPEN","PID":"${m}",}`,
      `{"State":"OPEN","PID":NaN,"x":"${m}"}`,
      `{"State":"OPEN","PID":Infinity,"x":"${m}"}`,
      `{"State":undefined,"x":"${m}"}`,
      `// ${m}\n${valid}`,
      `/* ${m} */${valid}`,
      `{"State":"OP\u0001EN","x":"${m}"}`,
      `{"State":"\\x41${m}"}`,
      `{"State":"${m}`,
      `${valid}{"again":"${m}"}`,
      `${valid}${m}`,
      `{"PID":01,"x":"${m}"}`,
      `{"PID":.5,"x":"${m}"}`,
      `{"PID":+1,"x":"${m}"}`,
      `{"PID":0x10,"x":"${m}"}`,
      `{"${m}"}`,
      `{"${m}":}`,
      `[${m}]`,
      `tru${m}`,
      m,
      '',
      ' \n\t ',
      '{',
      '}',
      '"',
    ];
    const mutate = (): [string, string] | undefined => {
      const at = r.int(0, valid.length - 1);
      switch (r.int(0, 3)) {
        case 0:
          return [`truncated at ${at}`, valid.slice(0, at)];
        case 1:
          return [`"${valid[at]}" at ${at} deleted`, valid.slice(0, at) + valid.slice(at + 1)];
        case 2: {
          const c = r.pick([...'{}[]:,"\\']);
          return [`"${c}" inserted at ${at}`, valid.slice(0, at) + c + valid.slice(at)];
        }
        default: {
          const c = r.pick([...'{}[]:,"\\\'']);
          return [`${at} replaced by "${c}"`, valid.slice(0, at) + c + valid.slice(at + 1)];
        }
      }
    };
    if (r.chance(0.05)) {
      const poisoned = `{"__proto__":{"polluted":"${m}"},${valid.slice(1)}`;
      return { name: 'JSON with __proto__', bytes: this.post(poisoned), expect: 400 };
    }
    if (r.chance(0.5)) {
      // Mutations that happen to leave valid JSON are not malformed; try again.
      for (let tries = 0; tries < 20; tries++) {
        const made = mutate();
        if (made && !isJson(made[1])) return { name: `mutated: ${made[0]}`, bytes: this.post(made[1]), expect: 400 };
      }
    }
    const index = r.int(0, templates.length - 1);
    return { name: `template ${index}`, bytes: this.post(templates[index]!), expect: 400 };
  }

  wrongTypes(): Made {
    const r = this.rng;
    const m = this.t.marker;
    const n = this.notification();
    const entity = n.ImpactedEntities[0]!;
    const notString: Json[] = [0, -1, 1.5, 1e308, true, false, null, [], {}, [m], { [m]: m }];
    const notArray: Json[] = [0, true, null, {}, m, { entity: entity.entity! }];
    const notObject: Json[] = [m, 0, null, [], true, [entity]];
    let name: string;
    let body: Json = n;
    switch (r.int(0, 10)) {
      case 0: {
        const field = r.pick(['State', 'PID', 'ProblemID', 'ProblemTitle']);
        n[field] = r.pick(notString);
        name = `${field} as ${JSON.stringify(n[field])}`;
        break;
      }
      case 1:
        n.ImpactedEntities = r.pick(notArray) as never;
        name = `ImpactedEntities as ${JSON.stringify(n.ImpactedEntities)}`;
        break;
      case 2: {
        // Only State and PID are required: a payload without entities is routed by a problem lookup.
        const field = r.pick(['State', 'PID']);
        delete n[field];
        name = `${field} missing`;
        break;
      }
      case 3:
        n.ImpactedEntities = [r.pick(notObject) as never];
        name = 'an impacted entity that is not an object';
        break;
      case 4: {
        const field = r.pick(['type', 'entity', 'name']);
        entity[field] = r.pick(notString);
        name = `ImpactedEntities.0.${field} as ${JSON.stringify(entity[field])}`;
        break;
      }
      case 5: {
        const field = r.pick(['type', 'entity']);
        delete entity[field];
        name = `ImpactedEntities.0.${field} missing`;
        break;
      }
      case 6: {
        const [field, value] = r.pick<[string, string]>([
          ['State', ''],
          ['State', m.repeat(5)],
          ['PID', ''],
          ['PID', `${m}!`],
          ['PID', `${m} ${m}`],
          ['PID', `${m}\n`],
        ]);
        n[field] = value;
        name = `${field} as ${JSON.stringify(value)}`;
        break;
      }
      case 7:
        entity[r.pick(['type', 'entity'])] = '';
        name = 'an empty entity field';
        break;
      case 8:
        body = r.pick<Json>([m, 42, null, true, false, [n], [], 0.1]);
        name = `body as ${JSON.stringify(body).slice(0, 40)}`;
        break;
      case 9:
        n.ImpactedEntities = [entity, { type: 'HOST', entity: r.pick(notString) }];
        name = 'one bad entity among good ones';
        break;
      default:
        n.ImpactedEntities = Array.from({ length: r.int(501, 700) }, () => ({ type: 'SERVICE', entity: 'S' }));
        name = `${n.ImpactedEntities.length} impacted entities`;
    }
    return { name, bytes: this.post(JSON.stringify(body)), expect: 400 };
  }

  hugeStrings(): Made {
    const r = this.rng;
    const n = this.notification();
    const entity = n.ImpactedEntities[0]!;
    // Below the body limit with room for the rest of the notification.
    const room = this.t.maxBodyBytes - 1_000;
    const huge = (min: number) => this.marked(r.int(min, room));
    switch (r.int(0, 8)) {
      case 0: {
        const [field, min] = r.pick<[string, number]>([
          ['State', 33],
          ['PID', 201],
          ['ProblemID', 101],
          ['ProblemTitle', 2_001],
        ]);
        n[field] = huge(min);
        return { name: `huge ${field}`, bytes: this.post(JSON.stringify(n)), expect: 400 };
      }
      case 1: {
        const [field, min] = r.pick<[string, number]>([
          ['type', 101],
          ['entity', 201],
          ['name', 1_001],
        ]);
        entity[field] = huge(min);
        return { name: `huge ImpactedEntities.0.${field}`, bytes: this.post(JSON.stringify(n)), expect: 400 };
      }
      case 2:
        n.ProblemTitle = '\u{1F525}'.repeat(r.int(2_001, Math.floor(room / 4)));
        return { name: 'huge ProblemTitle of emoji', bytes: this.post(JSON.stringify(n)), expect: 400 };
      case 3:
        // An unknown field is allowed; a huge name of one, with a required field gone, is still rejected.
        delete n.PID;
        n[huge(1_000)] = 1;
        return { name: 'huge field name', bytes: this.post(JSON.stringify(n)), expect: 400 };
      case 4:
        return {
          name: 'huge key header below the header limit',
          bytes: requestBytes({
            path: this.path,
            headers: [
              ['Content-Type', 'application/json'],
              [DEFAULT_WEBHOOK_KEY_HEADER, this.marked(r.int(1_000, this.t.maxHeaderBytes - 1_000))],
            ],
            body: JSON.stringify(n),
          }),
          expect: 401,
        };
      case 5:
        return {
          name: 'huge query string without a key',
          bytes: requestBytes({
            path: `${this.path}?${this.marked(r.int(1_000, this.t.maxHeaderBytes - 1_000))}`,
            headers: [['Content-Type', 'application/json']],
            body: JSON.stringify(n),
          }),
          expect: 401,
        };
      case 6:
        return {
          name: 'huge environment id',
          bytes: this.post(JSON.stringify(n), {
            path: `/webhooks/dynatrace/${this.marked(r.int(101, this.t.maxHeaderBytes - 1_000))}`,
          }),
        };
      case 7:
        return {
          name: 'huge array of strings',
          bytes: this.post(JSON.stringify(Array.from({ length: r.int(100, room / 40) }, () => this.marked(30)))),
          expect: 400,
        };
      default:
        n.State = huge(33).replace(/[0-9]/g, '\\');
        return { name: 'huge State of backslashes (invalid escapes)', bytes: this.post(`{"State":"${n.State}"}`) };
    }
  }

  badKey(): Made {
    const r = this.rng;
    const key = this.t.key;
    const body = JSON.stringify(this.notification());
    const flip = () => {
      const at = r.int(0, key.length - 1);
      const other = ALNUM.replace(key[at]!, '');
      return key.slice(0, at) + r.pick([...other]) + key.slice(at + 1);
    };
    const variants: [string, [string, string][], string?][] = [
      ['no key', []],
      ['empty key', [[DEFAULT_WEBHOOK_KEY_HEADER, '']]],
      ['short key', [[DEFAULT_WEBHOOK_KEY_HEADER, r.text(r.int(1, 15), VISIBLE)]]],
      ['marker as key', [[DEFAULT_WEBHOOK_KEY_HEADER, this.t.marker]]],
      ['random key of the same length', [[DEFAULT_WEBHOOK_KEY_HEADER, r.text(key.length, VISIBLE)]]],
      ['one character changed', [[DEFAULT_WEBHOOK_KEY_HEADER, flip()]]],
      ['last character missing', [[DEFAULT_WEBHOOK_KEY_HEADER, key.slice(0, -1)]]],
      ['one character more', [[DEFAULT_WEBHOOK_KEY_HEADER, key + r.text(1)]]],
      ['one character before', [[DEFAULT_WEBHOOK_KEY_HEADER, r.text(1) + key]]],
      ['upper case', [[DEFAULT_WEBHOOK_KEY_HEADER, key.toUpperCase()]]],
      [
        'the key twice',
        [
          [DEFAULT_WEBHOOK_KEY_HEADER, key],
          [DEFAULT_WEBHOOK_KEY_HEADER, key],
        ],
      ],
      ['key as a bearer token', [['Authorization', `Bearer ${key}`]]],
      ['key in another header', [['X-Webhook-Key', key]]],
      ['key in the query', [], `?key=${encodeURIComponent(key)}&${this.t.marker}=1`],
      ['Expect: 100-continue without a key', [['Expect', '100-continue']]],
      ['non-ASCII key', [[DEFAULT_WEBHOOK_KEY_HEADER, `${key.slice(0, -1)}\u00e9${this.t.marker}`]]],
    ];
    const [name, headers, query = ''] = r.pick(variants);
    // The absolute form reaches the same route; the key check must not depend on how the URL is spelt.
    const absolute = r.chance(0.1);
    return {
      name: absolute ? `${name}, absolute-form URL` : name,
      bytes: requestBytes({
        path: (absolute ? `http://${this.t.marker}.example.com` : '') + this.path + query,
        headers: [['Content-Type', 'application/json'], ...headers],
        body,
      }),
      expect: 401,
    };
  }

  wrongContentType(): Made {
    const r = this.rng;
    const body = JSON.stringify(this.notification());
    const type = r.pick<string | null>([
      null,
      'text/plain',
      'text/plain; charset=utf-8',
      'text/json',
      'text/html',
      'text/xml',
      'application/xml',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=xyz',
      'application/octet-stream',
      'application/javascript',
      'application/jsonp',
      'application/json-patch+json',
      'application/vnd.api+json',
      'application/ld+json',
      'application/x-json',
      'json',
      'application/',
      '/json',
      'application/json, text/plain',
      `application/${this.t.marker}`,
      this.t.marker,
      '*/*',
    ]);
    const form = `State=OPEN&PID=${this.t.marker}`;
    return {
      name: `Content-Type ${type ?? 'missing'}`,
      bytes: this.post(type === 'application/x-www-form-urlencoded' ? form : body, { contentType: type }),
      expect: 415,
    };
  }

  deepNesting(): Made {
    const r = this.rng;
    const m = this.t.marker;
    const over = this.t.maxJsonDepth + 1;
    const room = this.t.maxBodyBytes - 1_000;
    let deep: string;
    let name: string;
    switch (r.int(0, 3)) {
      case 0: {
        const depth = r.int(over, Math.floor(room / 2));
        deep = '['.repeat(depth) + `"${m}"` + ']'.repeat(depth);
        name = `arrays ${depth} deep`;
        break;
      }
      case 1: {
        const depth = r.int(over, Math.floor(room / 6));
        deep = `${'{"a":'.repeat(depth)}"${m}"${'}'.repeat(depth)}`;
        name = `objects ${depth} deep`;
        break;
      }
      case 2: {
        const depth = r.int(over, Math.floor(room / 6));
        const opens: string[] = [];
        const closes: string[] = [];
        for (let i = 0; i < depth; i++) {
          const array = r.chance(0.5);
          opens.push(array ? '[' : '{"k":');
          closes.push(array ? ']' : '}');
        }
        deep = opens.join('') + '0' + closes.reverse().join('');
        name = `arrays and objects ${depth} deep`;
        break;
      }
      default: {
        const depth = r.int(over, Math.floor(room / 2));
        deep = '['.repeat(depth);
        name = `unclosed arrays ${depth} deep`;
      }
    }
    // Deep nesting inside a notification that is otherwise fine: only the depth is wrong with it.
    const where = r.pick(['body', 'ProblemDetailsJSON', 'entity name', 'extra field']);
    const n = JSON.stringify(this.notification());
    const body =
      where === 'body'
        ? deep
        : where === 'ProblemDetailsJSON'
          ? n.replace(/"ProblemDetailsJSON":\{[^}]*\}/, `"ProblemDetailsJSON":${deep}`)
          : where === 'entity name'
            ? n.replace(/"name":"[^"]*"/, `"name":${deep}`)
            : `${n.slice(0, -1)},"extra":${deep}}`;
    return { name: `${name} in ${where}`, bytes: this.post(body), expect: 400 };
  }

  oversizedBody(): Made {
    const r = this.rng;
    const max = this.t.maxBodyBytes;
    const n = this.notification();
    n.ProblemDetailsJSON = { padding: this.marked(r.int(max + 1, 4 * max)) };
    const body = Buffer.from(JSON.stringify(n));
    switch (r.int(0, 3)) {
      case 0:
        return { name: `${body.length} bytes`, bytes: this.post(body), expect: 413 };
      case 1: {
        const size = r.int(1_000, 16_000);
        return {
          name: `${body.length} bytes chunked by ${size}`,
          bytes: this.post(chunked(body, size), { headers: [['Transfer-Encoding', 'chunked']] }),
          expect: 413,
        };
      }
      case 2: {
        const declared = r.pick([max + 1, 10 * max, 2 ** 31, 2 ** 53]);
        return {
          name: `Content-Length ${declared} for a small body`,
          bytes: this.post(JSON.stringify(this.notification()), { headers: [['Content-Length', String(declared)]] }),
          expect: 413,
        };
      }
      default:
        return {
          name: 'binary bytes over the limit',
          bytes: this.post(Buffer.concat([Buffer.from(this.t.marker), r.bytes(r.int(max + 1, 2 * max))])),
          expect: 413,
        };
    }
  }

  oversizedHeaders(): Made {
    const r = this.rng;
    const max = this.t.maxHeaderBytes;
    const body = JSON.stringify(this.notification());
    const big = () => this.marked(r.int(max + 1, 4 * max));
    switch (r.int(0, 4)) {
      case 0:
        return { name: 'one huge header', bytes: this.post(body, { headers: [['X-Padding', big()]] }), expect: 431 };
      case 1: {
        const size = r.int(40, 400);
        const count = Math.ceil((max + 1) / size) + r.int(1, 50);
        const headers = Array.from({ length: count }, (_, i) => [`X-Pad-${i}`, this.marked(size)] as [string, string]);
        return { name: `${count} headers of ${size} bytes`, bytes: this.post(body, { headers }), expect: 431 };
      }
      case 2:
        return {
          name: 'huge URL',
          bytes: this.post(body, { path: `${this.path}?q=${big()}` }),
          expect: 431,
        };
      case 3:
        return {
          name: 'huge key header',
          bytes: requestBytes({
            path: this.path,
            headers: [
              ['Content-Type', 'application/json'],
              [DEFAULT_WEBHOOK_KEY_HEADER, big()],
            ],
            body,
          }),
          expect: 431,
        };
      default:
        return { name: 'huge cookie', bytes: this.post(body, { headers: [['Cookie', `a=${big()}`]] }), expect: 431 };
    }
  }

  garbageBytes(): Made {
    const r = this.rng;
    const m = this.t.marker;
    const path = this.path;
    const choice = r.int(0, 18);
    const raw = (name: string, text: string | Buffer, halfClose = false): Made => ({
      name,
      bytes: typeof text === 'string' ? Buffer.from(text, 'utf8') : text,
      halfClose,
    });
    switch (choice) {
      case 0:
      case 1:
      case 2:
        return raw('random bytes', Buffer.concat([r.bytes(r.int(1, 4_096)), Buffer.from(`${m}\r\n\r\n`)]), true);
      case 3:
        return raw('random printable text', `${r.text(r.int(1, 2_000), VISIBLE + ' \r\n')}${m}\r\n\r\n`, true);
      case 4:
        return raw('HTTP/2 preface', `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n${m}`);
      case 5:
        return raw('TLS ClientHello', Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]), r.bytes(500)]));
      case 6:
        return raw('unknown HTTP version', `POST ${path} HTTP/9.9\r\nHost: x\r\nX-M: ${m}\r\n\r\n`);
      case 7:
        return raw('no HTTP version', `POST ${path}?${m}\r\n\r\n`, true);
      case 8:
        return raw('header without a colon', `POST ${path} HTTP/1.1\r\nHost: x\r\n${m}\r\n\r\n`);
      case 9:
        return raw('space in a header name', `POST ${path} HTTP/1.1\r\nHost: x\r\nX ${m}: 1\r\n\r\n`);
      case 10:
        return raw('NUL in a header value', `POST ${path} HTTP/1.1\r\nHost: x\r\nX-M: ${m}\u0000x\r\n\r\n`);
      case 11:
        return raw(
          'Content-Length and Transfer-Encoding',
          `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${m}`,
        );
      case 12: {
        const value = r.pick(['abc', '-1', '1e3', '5, 6', ' ', '0x10']);
        return raw(
          `Content-Length ${JSON.stringify(value)}`,
          `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${value}\r\n\r\n{"${m}":1}`,
        );
      }
      case 13:
        return raw(
          'two different Content-Lengths',
          `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n{${m}}`,
        );
      case 14:
        return raw(
          'Transfer-Encoding without chunked',
          `POST ${path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n${m}`,
          true,
        );
      case 15:
        return raw(
          'bad chunk size',
          `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${m}\r\n0\r\n\r\n`,
        );
      case 16:
        return raw('folded header', `POST ${path} HTTP/1.1\r\nHost: x\r\nX-M: a\r\n  ${m}\r\n\r\n`);
      case 17:
        return raw(
          'unsupported Expect',
          `POST ${path} HTTP/1.1\r\nHost: x\r\nExpect: ${m}\r\nContent-Length: 2\r\n\r\n{}`,
        );
      default:
        return raw('over-long method', `${'POST'.repeat(r.int(2, 500))} ${path} HTTP/1.1\r\nHost: x\r\n\r\n${m}`);
    }
  }

  wrongMethodOrPath(): Made {
    const r = this.rng;
    const m = this.t.marker;
    const body = JSON.stringify(this.notification());
    if (r.chance(0.5)) {
      const method = r.pick([
        'GET',
        'PUT',
        'DELETE',
        'PATCH',
        'OPTIONS',
        'HEAD',
        'TRACE',
        'PROPFIND',
        'SEARCH',
        'CONNECT',
        'FOO',
        'post',
      ]);
      const withKey = r.chance(0.7);
      const parts: RequestParts = {
        method,
        path: method === 'CONNECT' ? `${m}.example.com:443` : `${this.path}?${m}`,
        headers: [
          ['Content-Type', 'application/json'],
          ...(withKey ? [[DEFAULT_WEBHOOK_KEY_HEADER, this.t.key] as [string, string]] : []),
        ],
        body: method === 'HEAD' || method === 'TRACE' ? '' : body,
      };
      return {
        name: `${method} ${withKey ? 'with' : 'without'} key`,
        bytes: requestBytes(parts),
        expectBody: method !== 'HEAD',
      };
    }
    const env = this.t.environmentId;
    const path = r.pick([
      '/',
      `/${m}`,
      '/webhooks',
      '/webhooks/',
      '/webhooks/dynatrace',
      '/webhooks/dynatrace/',
      `/webhooks/dynatrace/${env}/${m}`,
      `/webhooks/dynatrace/${env}/`,
      `//webhooks/dynatrace/${env}`,
      `/webhooks//dynatrace/${env}`,
      `/WEBHOOKS/dynatrace/${env}`,
      `/webhooks/Dynatrace/${env}`,
      `/webhooks/dynatrace/${m}%20x`,
      `/webhooks/dynatrace/${m}.x`,
      `/webhooks/dynatrace/%zz${m}`,
      `/webhooks/dynatrace/%${m}`,
      `/webhooks/dynatrace/a%00${m}`,
      `/webhooks/dynatrace/${m}${'x'.repeat(71)}`,
      `/webhooks/dynatrace/%2e%2e%2f${m}`,
      '/../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      `/healthz?${m}`,
      `/readyz?${m}`,
      `/metrics?${m}`,
      `http://${m}.example.com/webhooks/dynatrace`,
      `*`,
    ]);
    return { name: `POST ${path.replaceAll(m, '<marker>')}`, bytes: this.post(body, { path }) };
  }
}

/** What every answer of the receiver has, whatever was asked: checked on each one. */
export const EXPECTED_SECURITY_HEADERS: Readonly<Record<string, RegExp>> = {
  'x-content-type-options': /^nosniff$/,
  'cache-control': /^no-store$/,
  'content-security-policy': /^default-src 'none'; frame-ancestors 'none'$/,
  'x-frame-options': /^DENY$/,
  'referrer-policy': /^no-referrer$/,
};

/** The missing security headers of an answer, by name. */
export function missingSecurityHeaders(headers: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(EXPECTED_SECURITY_HEADERS)
    .filter(([name, pattern]) => !pattern.test(headers[name] ?? ''))
    .map(([name]) => name);
}
