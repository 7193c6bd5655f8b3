/**
 * One contract, every front: the same cases go to the engine (through the router), the Lambda handler
 * with REST API and HTTP API events, and the local HTTP server. Each must pass every case, and all
 * fronts must answer each request with the same status and the same body bytes.
 */
import { makeAllTypesPackage, makeTinyMlpPackage, tempDir } from '../helpers/fixtures';
import { contractCases, type ContractCase } from './cases';
import { type Front, lambdaFront, loadLambdaHandler, localFront, routerFront } from './fronts';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

let fronts: Front[] = [];
let cases: ContractCase[] = [];

beforeAll(async () => {
  const parent = tempDir();
  const tiny = await makeTinyMlpPackage(parent);
  const allTypes = await makeAllTypesPackage(parent);
  cases = contractCases({ tiny, allTypes });
  const handlers = new Map([[tiny.name, loadLambdaHandler(tiny.dir)], [allTypes.name, loadLambdaHandler(allTypes.dir)]]);
  fronts = [await routerFront([tiny.dir, allTypes.dir]), lambdaFront('rest', handlers), lambdaFront('http', handlers), await localFront([tiny.dir, allTypes.dir])];
});

afterAll(async () => {
  await Promise.all(fronts.map((f) => f.close()));
});

// Case names are known only after the packages exist, so the cases run inside one test per front.
const FRONT_NAMES = ['engine', 'lambda REST API event', 'lambda HTTP API event', 'local server'];

describe.each(FRONT_NAMES)('%s', (frontName) => {
  test('passes every contract case', async () => {
    const front = fronts.find((f) => f.name === frontName)!;
    expect(cases.length).toBeGreaterThan(25);
    for (const c of cases) {
      const res = await front.send(c.request);
      try {
        c.check(res);
      } catch (err) {
        (err as Error).message = `[${frontName}] case "${c.name}": ${(err as Error).message}\nbody: ${res.body.toString('utf8').slice(0, 500)}`;
        throw err;
      }
    }
  });
});

test('every front answers every case with the same status, content type and body bytes', async () => {
  for (const c of cases) {
    const answers = await Promise.all(fronts.map(async (f) => ({ front: f.name, res: await f.send(c.request) })));
    const [first, ...rest] = answers;
    for (const other of rest) {
      if (c.sameBodyEverywhere === false) {
        expect({ case: c.name, status: other.res.status }).toEqual({ case: c.name, status: first.res.status });
        continue;
      }
      expect({ case: c.name, front: other.front, status: other.res.status, type: other.res.headers['content-type'], body: other.res.body.toString('base64') })
        .toEqual({ case: c.name, front: other.front, status: first.res.status, type: first.res.headers['content-type'], body: first.res.body.toString('base64') });
    }
  }
});
