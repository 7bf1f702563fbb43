/**
 * Acquiring a WebGPU device with the adapter's real limits and the optional features the kernels
 * can use. Browser-safe: the GPU object comes from the caller or from `navigator.gpu`.
 */

/** Optional features that kernels use when present (each kernel also has a path without them). */
export const OPTIONAL_FEATURES: readonly GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query'];

/** Limits raised to the adapter's maximum: large weights need big buffers and bindings. */
const RAISED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

export interface WebGPUDeviceOptions {
  /** The WebGPU entry point; defaults to `navigator.gpu` (the Node entry defaults to Dawn). */
  gpu?: GPU;
  powerPreference?: GPUPowerPreference;
}

export interface WebGPUContext {
  adapter: GPUAdapter;
  device: GPUDevice;
  features: ReadonlySet<GPUFeatureName>;
  /** One line naming the adapter and the limits that matter, for logs. */
  description: string;
}

export function navigatorGPU(): GPU | undefined {
  return (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
}

/** Resolves to undefined when there is no WebGPU or no adapter (callers fall back to the CPU). */
export async function requestWebGPUDevice(options: WebGPUDeviceOptions = {}): Promise<WebGPUContext | undefined> {
  const gpu = options.gpu ?? navigatorGPU();
  if (!gpu) return undefined;
  const adapter = await gpu.requestAdapter(
    options.powerPreference ? { powerPreference: options.powerPreference } : undefined,
  );
  return adapter ? openWebGPUDevice(adapter) : undefined;
}

/** A device on `adapter` with its real limits and the optional features the kernels use. */
export async function openWebGPUDevice(adapter: GPUAdapter): Promise<WebGPUContext> {
  const requiredFeatures = OPTIONAL_FEATURES.filter((feature) => adapter.features.has(feature));
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) requiredLimits[name] = adapter.limits[name];
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  return {
    adapter,
    device,
    features: new Set(requiredFeatures),
    description: describeAdapter(adapter, requiredFeatures),
  };
}

export function describeAdapter(adapter: GPUAdapter, features: readonly GPUFeatureName[]): string {
  const { vendor, architecture, device, description } = adapter.info;
  const name = [vendor, architecture, device || description].filter(Boolean).join(' ');
  const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
  return (
    `WebGPU adapter: ${name || 'unknown'}; maxBufferSize ${mib(adapter.limits.maxBufferSize)}, ` +
    `maxStorageBufferBindingSize ${mib(adapter.limits.maxStorageBufferBindingSize)}, ` +
    `workgroup storage ${adapter.limits.maxComputeWorkgroupStorageSize} B; ` +
    `features: ${features.length > 0 ? features.join(', ') : 'none'}`
  );
}
