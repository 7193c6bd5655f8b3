/**
 * One contract, every front: the same cases go to the router in process, the Lambda handler with REST API
 * and HTTP API events, and the local HTTP server. Each must pass every case, and all fronts must answer
 * each request with the same status and the same body bytes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeAllTypesPackage, makeTinyMlpPackage, tempDir } from '../helpers/fixtures';
import { contractCases, type ContractCase, REFUSED_FRONTS, refusedPackageCases } from './cases';
import { type Front, type FrontName, lambdaFront, loadLambdaHandler, localFront, routerFront } from './fronts';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

let fronts: Front[] = [];
let cases: ContractCase[] = [];
let refusedFronts: Front[] = [];
let refusedCases: ContractCase[] = [];

beforeAll(async () => {
  const parent = tempDir();
  const tiny = await makeTinyMlpPackage(parent);
  const allTypes = await makeAllTypesPackage(parent);
  cases = contractCases({ tiny, allTypes });
  const handlers = new Map([
    [tiny.name, loadLambdaHandler(tiny.dir)],
    [allTypes.name, loadLambdaHandler(allTypes.dir)],
  ]);
  fronts = [
    await routerFront([tiny.dir, allTypes.dir]),
    lambdaFront('rest', handlers),
    lambdaFront('http', handlers),
    await localFront([tiny.dir, allTypes.dir]),
  ];

  // A package whose model changed after packaging (same size, one bit flipped): the engine refuses it.
  const refused = await makeTinyMlpPackage(parent, { name: 'refused-mlp' });
  const model = readFileSync(join(refused.dir, 'model.onnx'));
  model[model.length - 5] ^= 1;
  writeFileSync(join(refused.dir, 'model.onnx'), model);
  refusedCases = refusedPackageCases(tiny, refused);
  const both = [tiny.dir, refused.dir];
  refusedFronts = [await routerFront(both), await localFront(both)];
});

afterAll(async () => {
  await Promise.all([...fronts, ...refusedFronts].map((f) => f.close()));
});

function sentTo(c: ContractCase, front: Front): boolean {
  return c.fronts === undefined || c.fronts.includes(front.name);
}

async function expectEveryCase(front: Front, list: readonly ContractCase[]): Promise<void> {
  for (const c of list.filter((x) => sentTo(x, front))) {
    const res = await front.send(c.request);
    try {
      c.check(res);
    } catch (err) {
      (err as Error).message =
        `[${front.name}] case "${c.name}": ${(err as Error).message}\nbody: ${res.body.toString('utf8').slice(0, 500)}`;
      throw err;
    }
  }
}

async function expectSameAnswers(all: readonly Front[], list: readonly ContractCase[]): Promise<void> {
  for (const c of list) {
    const to = all.filter((f) => sentTo(c, f));
    const answers = await Promise.all(to.map(async (f) => ({ front: f.name, res: await f.send(c.request) })));
    const [first, ...rest] = answers;
    for (const other of rest) {
      if (c.sameBodyEverywhere === false) {
        expect({ case: c.name, status: other.res.status }).toEqual({ case: c.name, status: first.res.status });
        continue;
      }
      const seen = (a: (typeof answers)[number]) => ({
        case: c.name,
        front: other.front,
        status: a.res.status,
        type: a.res.headers['content-type'],
        allow: a.res.headers.allow,
        body: a.res.body.toString('base64'),
      });
      expect(seen(other)).toEqual(seen(first));
    }
  }
}

// Case names are known only after the packages exist, so the cases run inside one test per front.
const FRONT_NAMES: readonly FrontName[] = ['router', 'lambda REST API event', 'lambda HTTP API event', 'local server'];

describe.each(FRONT_NAMES)('%s', (frontName) => {
  test('passes every contract case', async () => {
    expect(cases.length).toBeGreaterThan(30);
    await expectEveryCase(
      fronts.find((f) => f.name === frontName)!,
      cases,
    );
  });
});

test('every front answers every case with the same status, content type and body bytes', async () => {
  await expectSameAnswers(fronts, cases);
});

test('every case but the body limit goes to every front', () => {
  // The Lambda fronts are spared only what API Gateway answers itself in AWS.
  expect(cases.filter((c) => c.fronts !== undefined).map((c) => c.name)).toEqual(['413 body over the limit']);
});

describe.each(REFUSED_FRONTS)('with a refused package, %s', (frontName) => {
  test('answers 503 for it, with the reason, and serves the rest', async () => {
    await expectEveryCase(
      refusedFronts.find((f) => f.name === frontName)!,
      refusedCases,
    );
  });
});

test('with a refused package, every front that serves several answers with the same bytes', async () => {
  expect(refusedFronts.map((f) => f.name)).toEqual(REFUSED_FRONTS);
  await expectSameAnswers(refusedFronts, refusedCases);
});
