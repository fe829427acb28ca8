// Dynatrace tokens: dt0c01.<24-char public id>.<64-char secret>. The public part identifies a token
// and is safe to show; the secret part never is.
const DYNATRACE_TOKEN = /\b(dt0[a-z][0-9]{2}\.[A-Z0-9]{24})\.[A-Z0-9]{64}\b/g;
const AUTH_HEADER_VALUE = /\b(Api-Token|Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g;

/**
 * Last line of defence for log output and error messages: masks anything shaped like a Dynatrace
 * token or an Authorization header value. Code must still never hand secrets to a logger.
 */
export function redactSecrets(text: string): string {
  return text.replace(DYNATRACE_TOKEN, '$1.***').replace(AUTH_HEADER_VALUE, '$1 ***');
}
