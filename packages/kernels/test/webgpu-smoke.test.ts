// WebGPU in Node: get an adapter through the `webgpu` package (Dawn), run one compute shader,
// read the result back. Skips without an adapter, unless LLAMA_TS_REQUIRE_WEBGPU=1 (CI).
import { acquireWebGPUForTests } from '@llama-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestWebGPUDevice, type WebGPUContext } from '../src/node.js';

const SHADER = /* wgsl */ `
@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  let i = id.x;
  if (i < arrayLength(&output)) {
    output[i] = input[i] * input[i] + 1.0;
  }
}`;

let gpu: WebGPUContext | undefined;
let skipReason = '';

beforeAll(async () => {
  const availability = await acquireWebGPUForTests(() => requestWebGPUDevice());
  if (availability.available) {
    gpu = availability.value;
    console.info(gpu.description);
  } else {
    skipReason = availability.reason;
    console.warn(skipReason);
  }
});

afterAll(() => gpu?.device.destroy());

describe('WebGPU smoke test', () => {
  it('runs a compute shader and reads back the result', async (context) => {
    if (!gpu) return context.skip(skipReason);
    const { device } = gpu;
    const n = 1003; // not a multiple of the workgroup size, so the bounds check matters
    const input = Float32Array.from({ length: n }, (_, i) => (i % 97) - 48.5);

    const inputBuffer = device.createBuffer({
      size: input.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    const outputBuffer = device.createBuffer({
      size: input.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    });
    const readback = device.createBuffer({
      size: input.byteLength,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(inputBuffer, 0, input);

    device.pushErrorScope('validation');
    const pipeline = device.createComputePipeline({
      layout: 'auto',
      compute: { module: device.createShaderModule({ code: SHADER }), entryPoint: 'main' },
    });
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: inputBuffer } },
        { binding: 1, resource: { buffer: outputBuffer } },
      ],
    });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(n / 64));
    pass.end();
    encoder.copyBufferToBuffer(outputBuffer, 0, readback, 0, input.byteLength);
    device.queue.submit([encoder.finish()]);
    expect(await device.popErrorScope()).toBeNull();

    await readback.mapAsync(GPUMapMode.READ);
    const output = new Float32Array(readback.getMappedRange().slice(0));
    readback.unmap();
    for (const buffer of [inputBuffer, outputBuffer, readback]) buffer.destroy();

    for (let i = 0; i < n; i++) expect(output[i]).toBe(Math.fround(input[i] ?? 0) ** 2 + 1);
  });

  it('got the limits and optional features it asked for', (context) => {
    if (!gpu) return context.skip(skipReason);
    const { adapter, device, features } = gpu;
    expect(device.limits.maxStorageBufferBindingSize).toBe(adapter.limits.maxStorageBufferBindingSize);
    expect(device.limits.maxBufferSize).toBe(adapter.limits.maxBufferSize);
    for (const feature of features) expect(device.features.has(feature)).toBe(true);
  });
});
