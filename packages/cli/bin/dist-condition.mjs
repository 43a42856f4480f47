// A module resolution hook (node:module register) that resolves workspace packages to their
// compiled files, as `node --conditions=membus-dist` does.
export async function resolve(specifier, context, nextResolve) {
  return nextResolve(specifier, {
    ...context,
    conditions: [...context.conditions, 'membus-dist'],
  });
}
