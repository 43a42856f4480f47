/** How the bench runs nats-server (`--tenancy`). */
export type TenancyOption = 'on' | 'off';

/**
 * `on` (the default): accounts as `membus start` runs them (decision 006, JWT mode), every
 * service with its own user and the bench client as tenant `bench` in an account of its own;
 * `off`: one account, no users, to measure what the account hop costs.
 */
export function tenancyOption(value: string | undefined): TenancyOption {
  if (value === undefined || value === 'on') return 'on';
  if (value === 'off') return 'off';
  throw new RangeError(`--tenancy ${value}: expected on or off`);
}
