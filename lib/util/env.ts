/** Environment variables, read in one way: an unset and an empty variable are both missing. */

/** The environment, or a stand-in for it in tests. */
export type Env = Readonly<Record<string, string | undefined>>;

/** The value of `name`, or undefined when it is unset or empty. */
export function readEnv(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * The value of `name`, or an Error naming the variable and what it must hold. Start-up code calls it so
 * that a function with a missing setting fails at init, saying which, instead of on the first request.
 */
export function requireEnv(env: Env, name: string, why?: string): string {
  const value = readEnv(env, name);
  if (value === undefined) throw new Error(`environment variable ${name} is not set${why === undefined ? '' : `; it must name ${why}`}`);
  return value;
}
