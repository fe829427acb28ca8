/**
 * The environment of customer `abc`, stage `p1`: `abc-p1`. Every part of Autopilot derives it here,
 * so a host, its fleet, its onboarding and its remediation always name the same environment.
 */
export const environmentIdOf = (who: { customer: string; stage: string }): string => `${who.customer}-${who.stage}`;
