import { binaryShader } from '../../webgpu/elementwise.js';

export const ADD = binaryShader('x + z');
