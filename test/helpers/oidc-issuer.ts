import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

/**
 * A minimal OpenID provider on loopback: the discovery document and the JWKS, as an identity
 * provider publishes them, and tokens signed with its key. It counts discovery requests and can be
 * taken down (discovery answers 503) to see what a server does while its issuer is unreachable.
 */
export interface TestIssuer {
  issuer: string;
  sign(claims: object, options?: { key?: CryptoKey; expiresAt?: number | string }): Promise<string>;
  /** Discovery requests received so far. */
  discoveries(): number;
  /** While down, discovery answers 503. */
  setDown(down: boolean): void;
  stop(): Promise<void>;
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  let discoveries = 0;
  let down = false;
  const server = http.createServer((req, res) => {
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') {
      discoveries++;
      if (down) {
        res.statusCode = 503;
        res.end('{"error":"down"}');
        return;
      }
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
    } else if (req.url === '/jwks') {
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    sign: (claims, options = {}) =>
      new SignJWT({ ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(issuer)
        .setExpirationTime(options.expiresAt ?? '5m')
        .setSubject('operator@example.com')
        .sign(options.key ?? privateKey),
    discoveries: () => discoveries,
    setDown: (value) => (down = value),
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
