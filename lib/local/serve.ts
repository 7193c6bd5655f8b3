/**
 * `modelship serve`: loads packages, builds auth and limits from a config (or a fresh dev key), and
 * starts the local server. Kept apart from the CLI so that tests and benchmarks start it the same way.
 */
import type { EngineOptions } from '../engine/engine';
import { ModelRouter, type LoadFailure } from '../router/router';
import { DEFAULT_STAGE_THROTTLE } from '../stage-throttle';
import type { TrustPolicy } from '../trust/trust-policy';
import type { Clock } from '../util/clock';
import { createAuthenticator } from './auth';
import { defaultDevConfig, loadServerConfig, type ServerConfig } from './config';
import { pageRoute } from '../page/page-routes';
import { loadPackages } from './load-packages';
import { localOpenApiJson, openApiRoute } from './openapi';
import { UsagePlanLimiter } from './rate-limit';
import { LocalServer, STAGE_THROTTLE_PLAN, type AccessLogLine } from './server';

export interface ServeOptions {
  readonly dirs: readonly string[];
  /** @default 8080 */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Path of a JSON server config. @default - a dev config with one freshly generated API key */
  readonly configPath?: string;
  /** A config object, for tests and embedding; wins over configPath. */
  readonly config?: ServerConfig;
  readonly engine?: EngineOptions;
  /** Serve only packages signed by a key of this policy; any other answers 503 with the reason. @default - signatures are not required */
  readonly trust?: TrustPolicy;
  readonly onRequest?: (line: AccessLogLine) => void;
  /** The clock usage plans, quotas, JWT expiry and SigV4 dates read. @default systemClock */
  readonly clock?: Clock;
  /** Serve the browser page's shell at / (public; it holds nothing about the models). @default true */
  readonly page?: boolean;
}

export interface RunningServer {
  readonly url: string;
  /** The browser page, `<url>/`. */
  readonly pageUrl: string;
  readonly server: LocalServer;
  readonly router: ModelRouter;
  readonly failures: readonly LoadFailure[];
  /** The generated key when no config was given; the caller shows it once. */
  readonly devKey?: string;
  /** Graceful shutdown, then the native sessions are released. */
  close(): Promise<void>;
}

const MODEL_ROUTE = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?/;

/**
 * Which paths a deployment sends to Lambda: those of a model whose package targets cpu (LambdaModel);
 * gpu packages go to SageMaker or ECS, under API Gateway's limit alone. Without a version, the path names
 * the newest, as the router picks it.
 */
function lambdaRoutes(router: ModelRouter): (path: string) => boolean {
  const engines = router.engines();
  return (path) => {
    const m = MODEL_ROUTE.exec(path);
    if (!m) return false;
    let name: string;
    let version: string | undefined;
    try {
      name = decodeURIComponent(m[1]);
      version = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    } catch {
      return false;
    }
    const engine = engines.find((e) => e.name === name && (version === undefined || e.version === version));
    return engine?.manifest.target === 'cpu';
  };
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const fromUser = options.config ?? (options.configPath ? loadServerConfig(options.configPath) : undefined);
  const config = fromUser ?? defaultDevConfig();
  const { engines, failures } = await loadPackages(options.dirs, options.engine, options.trust);
  const router = new ModelRouter(engines, { failures });
  // The document names the URL the server answers at, known once it listens.
  let url = '';
  const server = new LocalServer({
    router,
    authenticator: createAuthenticator(config, { clock: options.clock }),
    // The stage throttle is one more plan, under a name no config plan can take (names have no spaces).
    limiter: new UsagePlanLimiter({ ...config.plans, [STAGE_THROTTLE_PLAN]: config.throttle ?? DEFAULT_STAGE_THROTTLE }, options.clock),
    maxBodyBytes: config.maxBodyBytes,
    lambdaRoute: config.lambdaPayloadLimits === false ? undefined : lambdaRoutes(router),
    onRequest: options.onRequest,
    publicRoute: options.page === false ? undefined : pageRoute(),
    authenticatedRoute: openApiRoute(() => localOpenApiJson(router, config, url)),
  });
  try {
    url = await server.listen(options.port ?? 8080, options.host ?? '127.0.0.1');
  } catch (err) {
    // An embedder that catches a busy port keeps running: the sessions it will never serve are freed now.
    await Promise.all(engines.map((e) => e.release()));
    throw err;
  }
  return {
    url,
    pageUrl: `${url}/`,
    server,
    router,
    failures,
    devKey: fromUser ? undefined : config.apiKeys[0].value,
    async close() {
      await server.close();
      await Promise.all(engines.map((e) => e.release()));
    },
  };
}
