/**
 * One model: what it is (description, versions, inputs, outputs, labels), a request editor that starts
 * from its golden sample, Send, and the answer with its status, latency and, for a classifier with
 * labels, a bar chart of the top classes. An image model also gets the drawing pad and file picker.
 */
import { imageGeometry, imageShape, imageToInput } from '../../package/image-geometry';
import { stringifyJson } from '../../protocol/json';
import type { ModelMetadata, TensorMetadata, WireInferRequest, WireInferResponse } from '../../protocol/wire';
import { withImage, zeroRequest } from '../request-draft';
import { topClasses } from '../top-classes';
import { call, errorText, type Answer } from './api';
import type { Credential } from './credential';
import { append, h, replace } from './dom';
import { imagePad } from './image-pad';

export interface LoadedModel {
  readonly metadata: ModelMetadata;
  /** The golden sample, from the OpenAPI document's example. */
  readonly example?: unknown;
}

/** The most of a response body the page prints; a tensor of millions of numbers would only freeze it. */
const MAX_SHOWN = 20_000;

function tensorTable(caption: string, tensors: readonly TensorMetadata[]): HTMLTableElement {
  return h(
    'table',
    { class: 'tensors' },
    h('caption', {}, caption),
    h(
      'thead',
      {},
      h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Datatype'), h('th', { scope: 'col' }, 'Shape')),
    ),
    h(
      'tbody',
      {},
      ...tensors.map((t) =>
        h('tr', {}, h('td', {}, h('code', {}, t.name)), h('td', {}, t.datatype), h('td', {}, h('code', {}, `[${t.shape.join(', ')}]`))),
      ),
    ),
  );
}

function pretty(text: string, json: unknown): string {
  const shown = json === undefined ? text : stringifyJson(json, 1);
  return shown.length > MAX_SHOWN ? `${shown.slice(0, MAX_SHOWN)}\n… (${shown.length - MAX_SHOWN} more characters)` : shown;
}

function chart(metadata: ModelMetadata, response: WireInferResponse): HTMLElement | undefined {
  const top = topClasses(metadata, response);
  if (!top || top.length === 0) return undefined;
  const probabilities = top.every((c) => c.score >= 0 && c.score <= 1);
  const max = Math.max(...top.map((c) => Math.abs(c.score)), Number.MIN_VALUE);
  const format = (v: number) => (probabilities ? `${(v * 100).toFixed(1)}%` : v.toPrecision(4));
  const best = top[0];
  return h(
    'div',
    { class: 'classes' },
    h('p', { class: 'top-class' }, 'Top class ', h('strong', { id: 'top-class' }, best.label), ` ${format(best.score)}`),
    h(
      'ol',
      { class: 'bars', 'aria-label': `Top ${top.length} classes` },
      ...top.map((c) => {
        const bar = h('span', { class: 'bar' });
        // CSSOM, not a style attribute: the CSP allows no inline styles.
        bar.style.width = `${(Math.abs(c.score) / max) * 100}%`;
        return h(
          'li',
          { class: 'bar-row' },
          h('span', { class: 'bar-label' }, c.label),
          h('span', { class: 'bar-track', 'aria-hidden': 'true' }, bar),
          h('span', { class: 'bar-value' }, format(c.score)),
        );
      }),
    ),
  );
}

export function renderModel(root: HTMLElement, model: LoadedModel, credential: Credential): void {
  const m = model.metadata;
  const labels = m.parameters?.labels;
  const initial = (): string => stringifyJson(model.example ?? zeroRequest(m), 1);

  const editor = h('textarea', {
    id: 'request',
    class: 'editor',
    spellcheck: 'false',
    rows: 14,
    'aria-describedby': 'request-help request-error',
  });
  editor.value = initial();
  const editorError = h('p', { id: 'request-error', class: 'error', role: 'alert' });
  const version = h(
    'select',
    { id: 'version' },
    h('option', { value: '' }, `latest (${m.versions[0]})`),
    ...m.versions.map((v) => h('option', { value: v }, v)),
  );
  const send = h('button', { type: 'button', class: 'primary', id: 'send' }, 'Send');
  const reset = h('button', { type: 'button', id: 'reset' }, model.example === undefined ? 'Reset to zeros' : 'Reset to golden sample');

  const statusLine = h('p', { class: 'status-line', id: 'answer-status' }, 'No request sent yet.');
  const answerError = h('p', { class: 'error', id: 'answer-error', role: 'alert' });
  const classes = h('div', { id: 'answer-classes' });
  const body = h('pre', { class: 'body', id: 'answer-body', tabindex: 0 });

  let answers = 0;
  const show = (a: Answer) => {
    // A count of answers shown, so that a reader (a test, a screen reader's user) can tell a new one from the last.
    answerCard.dataset.answers = String(++answers);
    const label = a.ok ? 'ok' : 'failed';
    replace(statusLine, h('span', { class: `pill ${label}` }, `${a.status} ${a.statusText}`), ` ${a.ms.toFixed(1)} ms`);
    answerError.textContent = a.ok ? '' : errorText(a);
    replace(classes, a.ok && a.json !== undefined ? chart(m, a.json as WireInferResponse) : undefined);
    body.textContent = pretty(a.text, a.json);
  };

  const answerCard = h('section', {
    class: 'card answer-card',
    id: 'answer',
    'aria-labelledby': 'answer-title',
    'aria-live': 'polite',
    'data-state': 'idle',
  });
  // One request at a time; a stroke that ends while one is out is sent right after it, so the answer
  // shown is always that of the latest drawing.
  let inFlight = false;
  let again = false;
  const sendRequest = async (): Promise<void> => {
    if (inFlight) {
      again = true;
      return;
    }
    const text = editor.value;
    try {
      JSON.parse(text);
    } catch (err) {
      editorError.textContent = `The request is not valid JSON, so it was not sent: ${(err as Error).message}`;
      editor.setAttribute('aria-invalid', 'true');
      return;
    }
    editorError.textContent = '';
    editor.removeAttribute('aria-invalid');
    inFlight = true;
    answerCard.dataset.state = 'sending';
    send.disabled = true;
    statusLine.textContent = 'Sending…';
    const path = `/v2/models/${encodeURIComponent(m.name)}${version.value ? `/versions/${encodeURIComponent(version.value)}` : ''}/infer`;
    try {
      // The editor's text goes as written: re-serialising it would round 64-bit integers.
      show(await call(credential, 'POST', path, text));
    } catch (err) {
      statusLine.textContent = 'No answer.';
      answerError.textContent = `The server could not be reached: ${(err as Error).message}`;
    } finally {
      inFlight = false;
      send.disabled = false;
      if (again) {
        again = false;
        void sendRequest();
      } else {
        answerCard.dataset.state = 'idle';
      }
    }
  };
  send.addEventListener('click', () => void sendRequest());
  editor.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void sendRequest();
    }
  });
  reset.addEventListener('click', () => {
    editor.value = initial();
    editorError.textContent = '';
  });

  const geometry = imageGeometry(m.inputs[0].shape, m.parameters?.preprocess);
  const pad =
    geometry &&
    imagePad(m.name, geometry, (p) => {
      let current: WireInferRequest;
      try {
        current = JSON.parse(editor.value) as WireInferRequest;
        if (!Array.isArray(current.inputs)) current = zeroRequest(m);
      } catch {
        current = zeroRequest(m);
      }
      const data = imageToInput(p.rgba, p.width, p.height, geometry);
      editor.value = stringifyJson(withImage(current, m, geometry, data, imageShape(geometry)), 1);
      void sendRequest();
    });

  append(
    answerCard,
    h('h3', { id: 'answer-title' }, 'Answer'),
    statusLine,
    answerError,
    classes,
    h('details', {}, h('summary', {}, 'Response body'), body),
  );
  replace(
    root,
    h(
      'header',
      { class: 'model-head' },
      h('h2', { id: 'model-title' }, m.name),
      h('span', { class: 'pill ok' }, 'Ready'),
      h('span', { class: 'muted' }, m.platform),
    ),
    m.parameters?.description ? h('p', { class: 'description', id: 'model-description' }, m.parameters.description) : undefined,
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Versions'),
      h('dd', {}, m.versions.join(', ')),
      labels ? h('dt', {}, 'Labels') : undefined,
      labels
        ? h(
            'dd',
            { id: 'model-labels' },
            h('ul', { class: 'labels' }, ...labels.slice(0, 100).map((l) => h('li', {}, l))),
            labels.length > 100 ? `and ${labels.length - 100} more` : undefined,
          )
        : undefined,
      geometry ? h('dt', {}, 'Image input') : undefined,
      geometry
        ? h(
            'dd',
            {},
            `${geometry.width}x${geometry.height} ${geometry.channels}, ${geometry.layout}, values ${geometry.range[0]} to ${geometry.range[1]}`,
          )
        : undefined,
    ),
    h('div', { class: 'io' }, tensorTable('Inputs', m.inputs), tensorTable('Outputs', m.outputs)),
    h(
      'div',
      { class: pad ? 'bench with-pad' : 'bench' },
      pad,
      h(
        'section',
        { class: 'card request-card', 'aria-labelledby': 'request-title' },
        h('h3', { id: 'request-title' }, h('label', { for: 'request' }, 'Request')),
        h('p', { class: 'hint', id: 'request-help' }, 'A v2 infer request body. Ctrl+Enter sends it.'),
        editor,
        editorError,
        h('div', { class: 'row' }, send, reset, h('label', { class: 'inline' }, 'Version ', version)),
      ),
      answerCard,
    ),
  );
}
