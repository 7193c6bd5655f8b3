/** What `modelship serve` prints at start: where it listens, what it serves, and a curl line that works as printed. */
import { join } from 'node:path';
import type { RunningServer } from './serve';

export function printBanner(running: RunningServer, dirs: readonly string[], log: (line: string) => void = console.log): void {
  const engines = running.router.engines();
  // First, so that the link a terminal makes clickable is the first thing to see. The key rides in the
  // fragment, which the browser never sends; the page moves it into the tab's sessionStorage.
  log(`Open ${running.devKey ? `${running.pageUrl}#key=${running.devKey}` : running.pageUrl} in a browser to see and try the models`);
  log(`modelship serving ${engines.length} model(s) at ${running.url}`);
  for (const e of engines) log(`  ${e.name}@${e.version}  ${running.url}/v2/models/${e.name}`);
  for (const f of running.failures) log(`  REFUSED ${f.name}: ${f.reason}`);
  const keyHeader = running.devKey ? `x-api-key: ${running.devKey}` : 'x-api-key: <your key>';
  if (running.devKey) log(`API key (generated for this run; pass --config to set your own): ${running.devKey}`);
  const first = engines[0];
  if (!first) return;
  const dir = dirs.find((d) => d.replace(/\/+$/, '') === first.dir.replace(/\/+$/, '')) ?? first.dir;
  const sample = first.manifest.samples[0];
  log('Try:');
  log(`  curl -s -H '${keyHeader}' ${running.url}/v2/models/${first.name}`);
  if (sample) {
    log(
      `  curl -s -H '${keyHeader}' -H 'content-type: application/json' --data @${join(dir, sample.request)} ${running.url}/v2/models/${first.name}/infer`,
    );
  }
}
