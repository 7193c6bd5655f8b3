/**
 * The one model-name rule: DNS-safe, lower-case letters, digits and hyphens, 1-63 characters, no
 * leading or trailing hyphen. The manifest schema, the registry and the constructs all check names by it.
 * No imports, so that the lightest reader (the registry's key layout) can use it.
 */
export const MODEL_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
