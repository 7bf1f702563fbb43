import { binaryShader } from '../../webgpu/elementwise.js';

export const SWIGLU = binaryShader('x / (1.0 + exp(-x)) * z');
