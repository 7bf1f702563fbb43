import { binding, type WebGPUKernel } from '../../webgpu/kernel.js';
import {
  SUM_SQUARES_PARTIALS,
  SUM_SQUARES_PARTIALS_PARAMS,
  SUM_SQUARES_TOTAL,
  SUM_SQUARES_TOTAL_PARAMS,
} from './sum-squares.wgsl.js';

export const sumSquares: WebGPUKernel<'sumSquares'> = ({ x }, { out, partials }, p) => [
  {
    shader: SUM_SQUARES_PARTIALS,
    bindings: [binding(x, 'sumSquares'), binding(partials, 'sumSquares')],
    uniforms: SUM_SQUARES_PARTIALS_PARAMS.values({
      size: p.size,
      partials: p.partials,
      chunk: Math.ceil(p.size / p.partials),
    }),
    workgroups: [p.partials],
  },
  {
    shader: SUM_SQUARES_TOTAL,
    bindings: [binding(partials, 'sumSquares'), binding(out, 'sumSquares')],
    uniforms: SUM_SQUARES_TOTAL_PARAMS.values({ partials: p.partials, accumulate: p.accumulate }),
    workgroups: [1],
  },
];
