/**
 * Every class with an `@OnTenancyEvent` method, by the method names, as the decorator
 * saw them. Discovery reads it to say so when such a class has no singleton instance
 * in the app (a request-scoped factory under a string token may be building it,
 * which init cannot see without running the factory).
 */
export const decoratedClasses = new Map<Function, Set<string>>();

export function noteDecoratedMethod(host: Function, method: string): void {
  let methods = decoratedClasses.get(host);
  if (!methods) decoratedClasses.set(host, (methods = new Set()));
  methods.add(method);
}
