import { at4, partStart } from '../../wasm/kernels/common.as';

/**
 * One AdamW step in place (see OpContract['adamwStep']): g = grad · gradScale, m = β1·m + (1-β1)·g,
 * v = β2·v + (1-β2)·g², p = p·decay - lr · (m / bias1) / (sqrt(v / bias2) + eps).
 */
export function adamwStep(
  tid: i32,
  nthreads: i32,
  grad: usize,
  param: usize,
  m: usize,
  v: usize,
  size: i32,
  lr: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  decay: f32,
  bias1: f32,
  bias2: f32,
  gradScale: f32,
): void {
  const start = partStart(tid, nthreads, size, 4);
  const end = partStart(tid + 1, nthreads, size, 4);
  const b1 = f32x4.splat(beta1);
  const c1 = f32x4.splat(1 - beta1);
  const b2 = f32x4.splat(beta2);
  const c2 = f32x4.splat(1 - beta2);
  const scale = f32x4.splat(gradScale);
  const lrv = f32x4.splat(lr);
  const epsv = f32x4.splat(eps);
  const decayv = f32x4.splat(decay);
  const bias1v = f32x4.splat(bias1);
  const bias2v = f32x4.splat(bias2);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const g = f32x4.mul(v128.load(at4(grad, i)), scale);
    const mi = f32x4.add(f32x4.mul(b1, v128.load(at4(m, i))), f32x4.mul(c1, g));
    const vi = f32x4.add(f32x4.mul(b2, v128.load(at4(v, i))), f32x4.mul(f32x4.mul(c2, g), g));
    v128.store(at4(m, i), mi);
    v128.store(at4(v, i), vi);
    const step = f32x4.div(
      f32x4.mul(lrv, f32x4.div(mi, bias1v)),
      f32x4.add(f32x4.sqrt(f32x4.div(vi, bias2v)), epsv),
    );
    v128.store(at4(param, i), f32x4.sub(f32x4.mul(v128.load(at4(param, i)), decayv), step));
  }
  for (; i < end; i++) {
    const g = load<f32>(at4(grad, i)) * gradScale;
    const mi = beta1 * load<f32>(at4(m, i)) + (1 - beta1) * g;
    const vi = beta2 * load<f32>(at4(v, i)) + (1 - beta2) * g * g;
    store<f32>(at4(m, i), mi);
    store<f32>(at4(v, i), vi);
    const step = (lr * (mi / bias1)) / (Mathf.sqrt(vi / bias2) + eps);
    store<f32>(at4(param, i), load<f32>(at4(param, i)) * decay - step);
  }
}
