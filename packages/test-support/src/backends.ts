import { acquireWebGPUForTests } from './webgpu-policy.js';

/** How to make one test backend; `webgpu` ones go through the WebGPU test policy. */
export interface BackendFactory<B> {
  webgpu: boolean;
  create(): Promise<B | undefined>;
}

export interface BackendPool<Name extends string, B> {
  /** Creates the named backends (call once per test file, before its tests: vitest's beforeAll). */
  setUp(names: readonly Name[]): Promise<void>;
  /** Destroys them (afterAll). */
  tearDown(): void;
  /** The backend, or `skip(reason)` (vitest's context.skip) when it could not be created. */
  get(name: Name, skip: (reason: string) => never): B;
  /** The backend, or undefined when it could not be created (for a beforeAll that loads a model on it). */
  find(name: Name): B | undefined;
  /** Why `find(name)` is undefined, to skip with. */
  whyUnavailable(name: Name): string;
}

/**
 * The generic half of a test file's backends: create once, destroy after, skip or fail by policy.
 * A WebGPU backend that cannot be had makes its tests skip, saying why, unless
 * LLAMA_TS_REQUIRE_WEBGPU=1, where setUp throws and the file fails. Knows nothing of any package's
 * backends: the caller names them and says how to make each.
 */
export function backendPool<Name extends string, B extends { destroy(): void }>(
  factories: { readonly [N in Name]: BackendFactory<B> },
): BackendPool<Name, B> {
  const backends = new Map<Name, B>();
  const unavailable = new Map<Name, string>();
  const whyUnavailable = (name: Name) => unavailable.get(name) ?? `backend ${name} was not created for this file`;
  return {
    async setUp(names) {
      for (const name of names) {
        const factory = factories[name];
        if (!factory.webgpu) {
          const backend = await factory.create();
          if (backend) backends.set(name, backend);
          else unavailable.set(name, `backend ${name} could not be created`);
          continue;
        }
        const availability = await acquireWebGPUForTests(() => factory.create());
        if (availability.available) backends.set(name, availability.value);
        else unavailable.set(name, availability.reason);
      }
    },
    tearDown() {
      for (const backend of backends.values()) backend.destroy();
      backends.clear();
    },
    get(name, skip) {
      return backends.get(name) ?? skip(whyUnavailable(name));
    },
    find: (name) => backends.get(name),
    whyUnavailable,
  };
}
