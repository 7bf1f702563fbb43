/**
 * WGSL for workgroup-wide reductions, shared by every kernel that reduces a row or a block:
 * `reduce_sum(lid, v)` and `reduce_max(lid, v)` return the reduction over all `size` threads of
 * the workgroup to every thread. Both end on a barrier, so they may be called back to back, and
 * both must be reached by every thread (uniform control flow). Declares `partial`, which a kernel
 * may also use directly between reductions (argmax does).
 */
export function workgroupReductions(size: number): string {
  const reduce = (name: string, combine: string) => /* wgsl */ `
fn ${name}(lid: u32, value: f32) -> f32 {
  partial[lid] = value;
  workgroupBarrier();
  for (var stride = ${size / 2}u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { partial[lid] = ${combine}; }
    workgroupBarrier();
  }
  let result = partial[0];
  workgroupBarrier();
  return result;
}`;
  return /* wgsl */ `
var<workgroup> partial: array<f32, ${size}>;
${reduce('reduce_sum', 'partial[lid] + partial[lid + stride]')}
${reduce('reduce_max', 'max(partial[lid], partial[lid + stride])')}`;
}
