/**
 * The credential the page calls the server with. It lives in sessionStorage only: gone with the tab,
 * never in a cookie, never in localStorage. A link from `npm start` carries it in the fragment
 * (#key=...), which browsers never send to a server; the page moves it into sessionStorage and takes it
 * out of the address bar and the history entry at once.
 */
export interface Credential {
  readonly kind: 'apiKey' | 'bearer';
  readonly value: string;
}

const STORAGE_KEY = 'modelship.credential';

/** Takes a credential out of the fragment, if there is one, into sessionStorage. */
export function adoptFragment(): void {
  const params = new URLSearchParams(location.hash.slice(1));
  const key = params.get('key');
  const token = params.get('token');
  if (key === null && token === null) return;
  history.replaceState(null, '', location.pathname + location.search);
  if (key) save({ kind: 'apiKey', value: key });
  else if (token) save({ kind: 'bearer', value: token });
}

export function save(credential: Credential): void {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(credential));
}

export function load(): Credential | undefined {
  const raw = sessionStorage.getItem(STORAGE_KEY);
  if (raw === null) return undefined;
  try {
    const c = JSON.parse(raw) as Partial<Credential>;
    if ((c.kind === 'apiKey' || c.kind === 'bearer') && typeof c.value === 'string' && c.value !== '')
      return { kind: c.kind, value: c.value };
  } catch {
    // Not ours, or damaged: as if there were none.
  }
  sessionStorage.removeItem(STORAGE_KEY);
  return undefined;
}

export function forget(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** The header that carries it, as the server and API Gateway take it. */
export function authHeaders(c: Credential): Record<string, string> {
  return c.kind === 'apiKey' ? { 'x-api-key': c.value } : { authorization: `Bearer ${c.value}` };
}
