/**
 * The page served at / by `modelship serve`. Its shell (this script, the HTML, the styles) holds nothing
 * about the models: everything shown comes from the authenticated routes, once a credential is given —
 * the repository index (served and refused packages), each model's metadata, and the OpenAPI document,
 * whose examples are the packages' golden samples.
 */
import type { ModelMetadata, RepositoryIndex, ServerMetadata } from '../../protocol/wire';
import { goldenExample } from '../request-draft';
import { call, errorText } from './api';
import { adoptFragment, forget, load, save, type Credential } from './credential';
import { byId, h, replace } from './dom';
import { renderModel, type LoadedModel } from './model-view';

const connect = byId('connect');
const connectError = byId('connect-error');
const workspace = byId('workspace');
const forgetButton = byId<HTMLButtonElement>('forget');

function showConnect(message = ''): void {
  connect.hidden = false;
  workspace.hidden = true;
  forgetButton.hidden = true;
  replace(byId('server-info'));
  connectError.textContent = message;
  byId<HTMLInputElement>('credential').focus();
}

async function open(credential: Credential): Promise<void> {
  connectError.textContent = 'Connecting…';
  const index = await call(credential, 'POST', '/v2/repository/index', '{}');
  if (!index.ok) {
    // A refused credential is not kept for the next visit.
    if (index.status === 401 || index.status === 403) forget();
    showConnect(`${index.status} ${index.statusText}: ${errorText(index)}`);
    return;
  }
  const entries = index.json as RepositoryIndex;
  const [server, documentAnswer] = await Promise.all([call(credential, 'GET', '/v2'), call(credential, 'GET', '/openapi.json')]);
  const names = [...new Set(entries.filter((e) => e.state === 'READY').map((e) => e.name))];
  const models: LoadedModel[] = [];
  for (const name of names) {
    const meta = await call(credential, 'GET', `/v2/models/${encodeURIComponent(name)}`);
    if (!meta.ok) continue;
    models.push({
      metadata: meta.json as ModelMetadata,
      example: documentAnswer.ok ? goldenExample(documentAnswer.json, name) : undefined,
    });
  }
  const s = server.json as Partial<ServerMetadata> | undefined;
  replace(byId('server-info'), s?.version ? `v${s.version} · ${models.length} model${models.length === 1 ? '' : 's'}` : '');
  connect.hidden = true;
  workspace.hidden = false;
  forgetButton.hidden = false;
  connectError.textContent = '';

  const list = byId('model-list');
  const view = byId('model');
  const buttons: HTMLButtonElement[] = [];
  const select = (i: number) => {
    buttons.forEach((b, j) => (j === i ? b.setAttribute('aria-current', 'true') : b.removeAttribute('aria-current')));
    renderModel(view, models[i], credential);
  };
  replace(
    list,
    ...models.map((model, i) => {
      const b = h(
        'button',
        { type: 'button', class: 'model-button', 'data-model': model.metadata.name },
        h('span', { class: 'model-name' }, model.metadata.name),
        h('span', { class: 'muted' }, model.metadata.versions[0]),
      );
      b.addEventListener('click', () => select(i));
      buttons.push(b);
      return h('li', {}, b);
    }),
  );
  if (models.length === 0) replace(view, h('h2', { id: 'model-title' }, 'No models'), h('p', {}, 'This server serves no model.'));
  else select(0);

  const refused = entries.filter((e) => e.state !== 'READY');
  byId('refused').hidden = refused.length === 0;
  replace(
    byId('refused-list'),
    ...refused.map((e) =>
      h(
        'li',
        {},
        h('span', { class: 'pill failed' }, 'Refused'),
        ' ',
        h('strong', {}, `${e.name}${e.version ? `@${e.version}` : ''}`),
        h('p', { class: 'reason' }, e.reason ?? ''),
      ),
    ),
  );
}

function start(): void {
  adoptFragment();
  byId('connect-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const value = byId<HTMLInputElement>('credential').value.trim();
    if (value === '') {
      connectError.textContent = 'Give the API key (or bearer token) first.';
      return;
    }
    const kind = byId<HTMLSelectElement>('credential-kind').value === 'bearer' ? 'bearer' : 'apiKey';
    const credential: Credential = { kind, value };
    save(credential);
    byId<HTMLInputElement>('credential').value = '';
    void open(credential).catch((err: Error) => showConnect(`The server could not be reached: ${err.message}`));
  });
  forgetButton.addEventListener('click', () => {
    forget();
    showConnect();
  });
  const credential = load();
  if (credential) void open(credential).catch((err: Error) => showConnect(`The server could not be reached: ${err.message}`));
  else showConnect();
}

start();
