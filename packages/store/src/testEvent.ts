/**
 * Test support for the store's unit tests. Not exported from the package.
 */

/** The `i`th event of a test log: a file save by one of three users; `extra` overrides fields. */
export const event = (i: number, extra: Record<string, unknown> = {}) => ({
  source: 'emacs',
  action: 'file.save',
  time: '2026-11-27T10:00:00.000Z',
  actor: { email: `user${i % 3}@example.com` },
  target: { type: 'file', id: `/home/u/f${i}.el` },
  ...extra,
});
