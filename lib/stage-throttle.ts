/**
 * The stage-wide throttle that ModelApi deploys and `modelship serve` applies when a config names none:
 * one default, so that a config tried locally means the same thing deployed. It is well under API
 * Gateway's account default (10,000 requests/s, burst 5,000), which a stage would otherwise inherit.
 */
export const DEFAULT_STAGE_THROTTLE = { rateLimit: 100, burstLimit: 200 } as const;
