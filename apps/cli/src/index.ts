export { defaultModelDir } from './model-flags.js';
export { type RunningServer, type ServerOptions, startServer } from './server/index.js';
