/**
 * What a WebGPU test does when no adapter can be had. On a developer's laptop without a GPU it
 * skips, saying why; in CI (`LLAMA_TS_REQUIRE_WEBGPU=1`) the same situation is a failure, so that a
 * broken driver install can never turn the WebGPU suite into a silent no-op.
 */
export const REQUIRE_WEBGPU_ENV = 'LLAMA_TS_REQUIRE_WEBGPU';

export function webgpuRequired(): boolean {
  return process.env[REQUIRE_WEBGPU_ENV] === '1';
}

export type WebGPUAvailability<T> = { available: true; value: T } | { available: false; reason: string };

/**
 * Runs `acquire` (which should return a device, adapter or backend, or throw / return undefined
 * when there is none). Returns the value, or a reason to skip. Throws instead when WebGPU is required.
 */
export async function acquireWebGPUForTests<T>(
  acquire: () => Promise<T | undefined | null>,
): Promise<WebGPUAvailability<T>> {
  let reason: string;
  try {
    const value = await acquire();
    if (value !== undefined && value !== null) return { available: true, value };
    reason = 'no WebGPU adapter was found';
  } catch (error) {
    reason = `acquiring WebGPU failed: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (webgpuRequired()) {
    throw new Error(
      `${REQUIRE_WEBGPU_ENV}=1 but ${reason}. On Debian without a GPU, install Mesa's lavapipe from ` +
        'bookworm-backports (see .ci/run).',
    );
  }
  return {
    available: false,
    reason: `Skipping WebGPU tests: ${reason} (set ${REQUIRE_WEBGPU_ENV}=1 to make this an error).`,
  };
}
