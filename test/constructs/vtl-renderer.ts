/**
 * A test-only renderer of API Gateway mapping templates, for exactly the VTL that ModelApi's generated
 * mocks use and nothing more: `#set` of a path parameter, one `#if ... #else ... #end` of string
 * comparisons, `${util.urlDecode('%XX')}`, and `$util.escapeJavaScript(<path parameter>)` followed by
 * `.replaceAll("<regex>","<text>")` calls. Anything else with `$`, `#` or `\` before either is refused,
 * so a template that relies on more VTL than this cannot pass by accident.
 */

/** What API Gateway's template sees of the request: the path parameters. */
export interface VtlRequest {
  readonly path: Readonly<Record<string, string | undefined>>;
}

const CONTROL_ESCAPES: Readonly<Record<number, string>> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };
const CHARACTER_ESCAPES: Readonly<Record<string, string>> = { "'": "\\'", '"': '\\"', '\\': '\\\\', '/': '\\/' };

/**
 * API Gateway's `$util.escapeJavaScript`: Apache Commons Lang's StringEscapeUtils.escapeJavaScript,
 * which escapes quotes, backslash, slash, control characters and everything above ASCII.
 */
export function escapeJavaScript(text: string): string {
  let out = '';
  for (const ch of text) {
    for (let i = 0; i < ch.length; i++) {
      const code = ch.charCodeAt(i);
      const hex = code.toString(16).toUpperCase();
      if (code > 0x7f) out += `\\u${hex.padStart(4, '0')}`;
      else if (code < 32) out += CONTROL_ESCAPES[code] ?? `\\u${hex.padStart(4, '0')}`;
      else out += CHARACTER_ESCAPES[ch[i]] ?? ch[i];
    }
  }
  return out;
}

const URL_DECODE = /^\$\{util\.urlDecode\('((?:%[0-9A-Fa-f]{2})+)'\)\}/;
const ESCAPE_PARAMETER = /^\$util\.escapeJavaScript\(\$input\.params\(\)\.path\.get\('(\w+)'\)\)/;
const REPLACE_ALL = /^\.replaceAll\("((?:[^"])*)","((?:[^"$\\])*)"\)/;

/** Renders a response template. */
export function renderResponse(template: string, request: VtlRequest): string {
  let out = '';
  let rest = template;
  while (rest.length > 0) {
    const special = rest.search(/[$#\\]/);
    if (special === -1) return out + rest;
    out += rest.slice(0, special);
    rest = rest.slice(special);
    const decoded = URL_DECODE.exec(rest);
    if (decoded) {
      out += decodeURIComponent(decoded[1]);
      rest = rest.slice(decoded[0].length);
      continue;
    }
    const escaped = ESCAPE_PARAMETER.exec(rest);
    if (escaped) {
      let value = escapeJavaScript(request.path[escaped[1]] ?? '');
      rest = rest.slice(escaped[0].length);
      for (let call = REPLACE_ALL.exec(rest); call; call = REPLACE_ALL.exec(rest)) {
        // Java's String.replaceAll: the first argument is a regular expression; VTL string literals keep backslashes.
        value = value.replace(new RegExp(call[1], 'g'), call[2]);
        rest = rest.slice(call[0].length);
      }
      out += value;
      continue;
    }
    // A backslash before anything else, and a lone $ or # that starts no reference or directive, are text in VTL;
    // the generator never writes one, so refusing them keeps this renderer honest.
    throw new Error(`unsupported VTL at: ${rest.slice(0, 40)}`);
  }
  return out;
}

const SET_PARAMETER = /^#set\(\$(\w+) = \$input\.params\(\)\.path\.get\('(\w+)'\)\)\n?/;
const IF_ELSE = /^#if\((.*?)\)(.*?)#else(.*?)#end$/s;
const COMPARISON = /^"([^"]*)" (==|!=) "([^"]*)"$/;

/** Renders a request template of one #set and one #if/#else/#end. */
export function renderRequest(template: string, request: VtlRequest): string {
  const vars = new Map<string, string | undefined>();
  let rest = template;
  for (let set = SET_PARAMETER.exec(rest); set; set = SET_PARAMETER.exec(rest)) {
    vars.set(set[1], request.path[set[2]]);
    rest = rest.slice(set[0].length);
  }
  const branch = IF_ELSE.exec(rest);
  if (!branch) {
    if (/[$#]/.test(rest)) throw new Error(`unsupported VTL in request template: ${rest}`);
    return rest;
  }
  // Inside a double-quoted VTL string, $!v is v or '' and $v is v (or the literal "$v" when v is null).
  const interpolate = (s: string): string =>
    s.replace(/\$(!?)(\w+)/g, (whole, quiet: string, name: string) => {
      if (!vars.has(name)) throw new Error(`unknown reference ${whole}`);
      return vars.get(name) ?? (quiet ? '' : whole);
    });
  const holds = branch[1].split(' || ').some((term) => {
    const c = COMPARISON.exec(term.trim());
    if (!c) throw new Error(`unsupported condition: ${term}`);
    return (interpolate(c[1]) === interpolate(c[3])) === (c[2] === '==');
  });
  const chosen = holds ? branch[2] : branch[3];
  if (/[$#]/.test(chosen)) throw new Error(`unsupported VTL in a branch: ${chosen}`);
  return chosen;
}

export interface MockIntegrationTemplate {
  readonly RequestTemplates?: Readonly<Record<string, string>>;
  readonly IntegrationResponses?: ReadonlyArray<{
    readonly StatusCode: string;
    readonly SelectionPattern?: string;
    readonly ResponseTemplates?: Readonly<Record<string, string>>;
  }>;
}

/**
 * What a MOCK integration answers: the request template gives the status code, which selects the
 * integration response (by SelectionPattern, else the one without a pattern), whose template is the body.
 */
export function renderMock(integration: MockIntegrationTemplate, request: VtlRequest): { status: number; body: string } {
  const requestTemplate = integration.RequestTemplates?.['application/json'];
  if (requestTemplate === undefined) throw new Error('a mock integration needs an application/json request template');
  const { statusCode } = JSON.parse(renderRequest(requestTemplate, request)) as { statusCode: number };
  const responses = integration.IntegrationResponses ?? [];
  const selected =
    responses.find((r) => r.SelectionPattern !== undefined && new RegExp(`^${r.SelectionPattern}$`).test(String(statusCode))) ??
    responses.find((r) => r.SelectionPattern === undefined);
  const template = selected?.ResponseTemplates?.['application/json'];
  if (selected === undefined || template === undefined) throw new Error(`no integration response for status ${statusCode}`);
  return { status: Number(selected.StatusCode), body: renderResponse(template, request) };
}
